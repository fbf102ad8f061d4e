"""Transport security (issue #14): `serve --tls-cert/--tls-key`, https with a private CA, and plain
http refused off this machine (before any connection) unless a setting allows it, then warned."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import NOW, cli_env
from tls_support import Certificates, make_certificates
from ui_support import demo_app, wait_for

from cobro_tui.clock import FixedClock
from cobro_tui.errors import UserFacingError
from cobro_tui.policy import Policy
from cobro_tui.server.run import ServerThread, prepare, tls_files
from cobro_tui.store.sync_store import set_server
from cobro_tui.sync.client import ApiClient, Unreachable
from cobro_tui.sync.engine import SyncEngine
from cobro_tui.sync.transport import InsecureServer, TransportSecurity, is_loopback

NEVER = "http://192.0.2.1:9"  # TEST-NET-1 (RFC 5737): no host answers there, and none must be tried


def run(home: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "cobro_tui", *args],
        capture_output=True,
        text=True,
        env=cli_env(home, COBRO_NOW=NOW.isoformat(), **env),
        input=stdin,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "tls")


@pytest.fixture
def https_server(tmp_path: Path, certificates: Certificates) -> Iterator[ServerThread]:
    engine = prepare(f"sqlite:///{tmp_path / 'server.db'}", FixedClock(NOW), demo_accounts=120, seed=4)
    try:
        with ServerThread(engine, FixedClock(NOW), tls=tls_files(certificates.cert, certificates.key)) as server:
            yield server
    finally:
        engine.dispose()


def test_only_loopback_counts_as_this_machine() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "api.localhost"):
        assert is_loopback(host), host
    for host in ("10.1.2.3", "192.0.2.1", "0.0.0.0", "::", "cobro.banco.mx", "localhost.banco.mx", "127.0.0.1.nip.io"):
        assert not is_loopback(host), host


def test_plain_http_off_this_machine_is_refused_before_any_connection() -> None:
    tried: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        tried.append(request)
        return httpx.Response(200, json={"token": "t", "username": "agente01", "role": "agent"})

    with pytest.raises(InsecureServer, match=r"\[sync\] allow_insecure_http"):
        ApiClient(NEVER, transport=httpx.MockTransport(answer)).login("agente01", "demo")
    with pytest.raises(InsecureServer):
        ApiClient(
            "http://10.1.2.3:8000", security=TransportSecurity(ca_file=None), transport=httpx.MockTransport(answer)
        )
    assert tried == []  # nothing was sent anywhere
    # https anywhere, and http to loopback, are taken as they are.
    assert TransportSecurity().check("https://cobro.banco.mx") is None
    assert TransportSecurity().check("http://127.0.0.1:8765") is None
    with pytest.raises(UserFacingError, match="https://"):
        TransportSecurity().check("ftp://cobro.banco.mx")
    # Allowed by the setting: it goes, and says so.
    allowed = ApiClient(
        NEVER, security=TransportSecurity(allow_insecure_http=True), transport=httpx.MockTransport(answer)
    )
    assert allowed.insecure_warning is not None and "allow_insecure_http" in allowed.insecure_warning
    assert allowed.login("agente01", "demo")["token"] == "t" and len(tried) == 1


def test_login_over_http_to_another_host_is_refused_naming_the_setting(tmp_path: Path) -> None:
    refused = run(tmp_path, "login", "--server", "http://10.1.2.3:8000", "--user", "agente01", stdin="demo\n")
    assert refused.returncode == 2
    assert "[sync] allow_insecure_http" in refused.stderr and "https://" in refused.stderr
    assert "Contraseña" not in refused.stderr  # refused before the password was even asked
    assert not (tmp_path / "data" / "cache.db").exists()


def test_allowed_plain_http_is_warned_at_every_start(tmp_path: Path) -> None:
    allowed = run(
        tmp_path,
        "login",
        "--server",
        NEVER,
        "--user",
        "agente01",
        stdin="demo\n",
        COBRO_SYNC__ALLOW_INSECURE_HTTP="true",
        COBRO_SYNC__TIMEOUT_SECONDS="0.5",
    )
    assert "AVISO" in allowed.stderr and "allow_insecure_http" in allowed.stderr
    # Let through: the password was asked and the address tried (nobody answers at TEST-NET).
    assert "Contraseña" in allowed.stderr and "did not answer" in allowed.stderr and allowed.returncode == 2


async def test_the_workstation_says_at_start_that_its_connection_is_plain_http(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy, accounts=20)
    busy = httpx.MockTransport(lambda request: httpx.Response(503, headers={"Retry-After": "60"}))
    api = ApiClient(NEVER, "token", "device", security=TransportSecurity(allow_insecure_http=True), transport=busy)
    engine = app.workstation.status.engine
    set_server(engine, NEVER)
    app.workstation = app.workstation.syncing(SyncEngine(engine, api, FixedClock(NOW)), 60)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: any("http sin cifrar" in n.message for n in app._notifications))
        warned = next(n for n in app._notifications if "http sin cifrar" in n.message)
        assert warned.severity == "warning" and "allow_insecure_http" in warned.message


def test_login_and_sync_over_https_with_the_institutions_own_ca(
    tmp_path: Path, certificates: Certificates, https_server: ServerThread
) -> None:
    assert https_server.url.startswith("https://127.0.0.1:")
    untrusted = run(tmp_path / "plain", "login", "--server", https_server.url, "--user", "agente01", stdin="demo\n")
    assert untrusted.returncode != 0 and "[sync] ca_file" in untrusted.stderr  # the system's CAs do not know it

    home, ca = tmp_path / "agent", {"COBRO_SYNC__CA_FILE": str(certificates.ca)}
    home.mkdir()
    signed = run(home, "login", "--server", https_server.url, "--user", "agente01", stdin="demo\n", **ca)
    assert signed.returncode == 0, signed.stderr
    assert "AVISO" not in signed.stderr
    synced = run(home, "sync", **ca)
    assert synced.returncode == 0, synced.stderr
    assert "recibidos 0" not in synced.stdout and "recibidos" in synced.stdout

    missing = run(home, "sync", COBRO_SYNC__CA_FILE=str(tmp_path / "nowhere.pem"))
    assert missing.returncode == 2 and "ca_file" in missing.stderr


def test_an_untrusted_certificate_names_the_ca_setting(certificates: Certificates, https_server: ServerThread) -> None:
    with pytest.raises(Unreachable, match=r"\[sync\] ca_file"):
        ApiClient(https_server.url).login("agente01", "demo")
    trusted = ApiClient(https_server.url, security=TransportSecurity(ca_file=certificates.ca))
    assert trusted.login("agente01", "demo")["username"] == "agente01"


def test_serve_checks_its_certificate_and_key_before_starting(tmp_path: Path, certificates: Certificates) -> None:
    only_cert = run(tmp_path, "serve", "--tls-cert", str(certificates.cert))
    assert only_cert.returncode == 2 and "--tls-key" in only_cert.stderr
    missing = run(tmp_path, "serve", "--tls-cert", str(certificates.cert), "--tls-key", str(tmp_path / "no.key"))
    assert missing.returncode == 2 and "no.key" in missing.stderr
    other = make_certificates(tmp_path / "other")
    mismatched = run(tmp_path, "serve", "--tls-cert", str(certificates.cert), "--tls-key", str(other.key))
    assert mismatched.returncode == 2 and "llave" in mismatched.stderr
    assert not (tmp_path / "data" / "server.db").exists()  # nothing was started
