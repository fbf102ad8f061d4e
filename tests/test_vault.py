"""Sign-in on a workstation with no keyring at all (headless Linux, SSH, thin clients): the sealed vault.

Every process here runs with keyring's null backend, which keeps nothing: the cache key and the
session token can only live in the vault, a 0600 file sealed by the user's password.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_env
from support.terminal import TerminalSession
from test_sync_cli import NOW, served  # noqa: F401 (the served fixture: a demo server on a real port)

NO_KEYRING = "keyring.backends.null.Keyring"


def run(tmp_path: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = cli_env(tmp_path, COBRO_NOW=NOW, PYTHON_KEYRING_BACKEND=NO_KEYRING, **env)
    result = subprocess.run(
        [sys.executable, "-m", "cobro_tui", *args],
        capture_output=True,
        text=True,
        env=environment,
        input=stdin if stdin is not None else "",
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def live_sessions(tmp_path: Path, user: str) -> int:
    with sqlite3.connect(tmp_path / "server.db") as conn:
        return conn.execute("SELECT count(*) FROM tokens WHERE username = ?", (user,)).fetchone()[0]


@pytest.mark.slow
def test_with_no_keyring_login_seals_a_vault_and_every_command_opens_it_with_the_password(
    tmp_path: Path, served: str
) -> None:
    login = run(tmp_path, "login", "--server", served, "--user", "agente01", stdin="demo\n")
    assert login.returncode == 0, login.stderr
    assert "bóveda de este equipo" in login.stdout
    data = tmp_path / "data"
    vault = data / "vault.seal"
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600 and stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "cache.db").stat().st_mode) == 0o600
    sealed = json.loads(vault.read_text())
    assert sealed["kdf"]["name"] == "argon2id" and sealed["kdf"]["memory_kib"] >= 19_456  # OWASP's floor
    assert "token" not in vault.read_text() and "agente01" not in vault.read_text()  # nothing readable inside
    assert not (tmp_path / "keyring.json").exists()

    synced = run(tmp_path, "sync", stdin="demo\n")
    assert synced.returncode == 0, synced.stderr
    assert "Enviados 0" in synced.stdout

    wrong = run(tmp_path, "sync", stdin="not-the-password\n")
    assert wrong.returncode == 2 and "no abre la bóveda" in wrong.stderr
    silent = run(tmp_path, "sync")  # no terminal and nothing typed: a clear refusal, not a hang
    assert silent.returncode == 2 and "escribirla" in silent.stderr

    assert live_sessions(tmp_path, "agente01") == 1
    out = run(tmp_path, "logout", stdin="demo\n", COBRO_LANG="en")
    assert out.returncode == 0, out.stderr
    assert "Signed out agente01" in out.stdout and "stays in the cache" in out.stdout
    assert live_sessions(tmp_path, "agente01") == 0  # revoked on the server, not only forgotten here
    after = run(tmp_path, "sync", stdin="demo\n")
    assert after.returncode == 2 and "cobro-tui login --server" in after.stderr
    again = run(tmp_path, "login", "--server", served, "--user", "agente01", stdin="demo\n")
    assert again.returncode == 0, again.stderr  # the same vault and cache, a new session
    assert run(tmp_path, "sync", stdin="demo\n").returncode == 0


def test_a_keyring_that_would_refuse_is_found_before_the_server_hands_out_a_token(tmp_path: Path, served: str) -> None:
    result = run(
        tmp_path, "login", "--server", served, "--user", "agente01", stdin="demo\n", COBRO_CREDENTIALS__STORE="keyring"
    )
    assert result.returncode == 2 and "No hay un llavero seguro" in result.stderr
    assert live_sessions(tmp_path, "agente01") == 0


def test_a_vault_sealed_with_another_password_is_not_replaced_by_a_login(tmp_path: Path, served: str) -> None:
    assert run(tmp_path, "login", "--server", served, "--user", "agente01", stdin="demo\n").returncode == 0
    before = (tmp_path / "data" / "vault.seal").read_bytes()
    other = run(tmp_path, "login", "--server", served, "--user", "agente01", stdin="typo\n")
    assert other.returncode == 2 and "no abre la bóveda" in other.stderr
    assert (tmp_path / "data" / "vault.seal").read_bytes() == before
    assert live_sessions(tmp_path, "agente01") == 1  # the refused attempt left no token behind


@pytest.mark.slow
def test_the_workstation_on_a_vault_asks_the_password_at_start_quits_and_opens_again(
    tmp_path: Path, served: str
) -> None:
    assert run(tmp_path, "login", "--server", served, "--user", "agente01", stdin="demo\n").returncode == 0
    assert run(tmp_path, "sync", stdin="demo\n").returncode == 0
    env = cli_env(tmp_path, COBRO_NOW=NOW, PYTHON_KEYRING_BACKEND=NO_KEYRING)
    for attempt in ("first", "again"):
        session = TerminalSession([sys.executable, "-m", "cobro_tui"], env)
        try:
            assert session.wait_for("abre la bóveda de este equipo", 30), session.text()
            session.send(b"demo\r")
            assert session.wait_for("Cola de agente01", 60), f"{attempt}: {session.text()}"
            assert "demo" not in session.text().split("Cola de agente01")[0].splitlines()[-1]  # not echoed
            session.send(b"\x11")  # ctrl+q
            assert session.wait_exit(20) == 0
        finally:
            session.close()
    wrong = TerminalSession([sys.executable, "-m", "cobro_tui"], env)
    try:
        assert wrong.wait_for("abre la bóveda de este equipo", 30)
        wrong.send(b"nope\r")
        assert wrong.wait_for("no abre la bóveda", 30), wrong.text()
        assert wrong.wait_exit(20) == 2
        assert "Cola de" not in wrong.text()
    finally:
        wrong.close()


def test_a_token_the_keyring_refused_to_keep_is_revoked_on_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy
) -> None:
    import keyring
    from support.keyrings import RefusingKeyring
    from sync_support import running_server

    from cobro_tui.bootstrap import sign_in
    from cobro_tui.errors import UserFacingError
    from cobro_tui.settings import load_settings

    monkeypatch.setenv("COBRO_CREDENTIALS__TRUSTED_KEYRINGS", '["support.keyrings.RefusingKeyring"]')
    keyring.set_keyring(RefusingKeyring())
    with running_server(tmp_path, 20, 3) as (server, thread):
        with pytest.raises(UserFacingError, match=r"el servidor ya la dio por terminada.*rechazó"):
            sign_in(load_settings(), thread.url, "agente01", "demo")
        with server.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM tokens WHERE username = 'agente01'").scalar_one() == 0
