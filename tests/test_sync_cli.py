"""serve, login and sync as an integrator or an agent runs them: separate processes, real ports."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import cli_env

from cobro_tui.server.run import free_port

NOW = "2026-11-22T10:30:00-06:00"


def run(tmp_path: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "cobro_tui", *args],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path, COBRO_NOW=NOW, **env),
        input=stdin,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def start_server(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cobro_tui",
            "serve",
            "--port",
            str(port),
            "--demo",
            "300",
            "--db",
            f"sqlite:///{tmp_path / 'server.db'}",
        ],
        env=cli_env(tmp_path / "server-data", COBRO_NOW=NOW),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"the server did not come up: {process.stdout.read() if process.stdout else ''}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = start_server(tmp_path, port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


@pytest.mark.slow
def test_login_then_sync_prints_what_moved(tmp_path: Path, served: str) -> None:
    nowhere = run(tmp_path, "login", "--user", "agente01", stdin="demo\n")
    assert nowhere.returncode == 2 and "--server" in nowhere.stderr and "COBRO_SERVER_URL" in nowhere.stderr
    login = run(tmp_path, "login", "--user", "agente01", stdin="demo\n", COBRO_SERVER_URL=served)  # the setting will do
    assert login.returncode == 0, login.stderr
    assert "Sesión iniciada como agente01" in login.stdout
    keyring_file = json.loads((tmp_path / "keyring.json").read_text())
    assert any(name.startswith("cobro-tui/token:") for name in keyring_file)  # the token lives in the keyring
    first = run(tmp_path, "sync")
    assert first.returncode == 0, first.stderr
    assert "Enviados 0" in first.stdout and "recibidos 0" not in first.stdout
    second = run(tmp_path, "sync", COBRO_LANG="en")
    assert second.returncode == 0 and "received 0" in second.stdout


@pytest.mark.slow
def test_sync_exits_non_zero_while_the_server_is_down_and_recovers_when_it_returns(tmp_path: Path) -> None:
    port = free_port()
    server = start_server(tmp_path, port)
    try:
        assert (
            run(
                tmp_path, "login", "--server", f"http://127.0.0.1:{port}", "--user", "agente02", stdin="demo\n"
            ).returncode
            == 0
        )
        assert run(tmp_path, "sync").returncode == 0
    finally:
        server.terminate()
        server.wait(timeout=20)
    down = run(tmp_path, "sync")
    assert down.returncode == 4
    assert "did not answer" in down.stderr and "se enviará en la próxima ronda" in down.stderr
    server = start_server(tmp_path, port)  # the same database comes back
    try:
        back = run(tmp_path, "sync")
        assert back.returncode == 0, back.stderr
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_a_wrong_password_or_an_absent_server_is_refused_with_a_message(tmp_path: Path, served: str) -> None:
    wrong = run(tmp_path, "login", "--server", served, "--user", "agente01", stdin="nope\n")
    assert wrong.returncode == 2 and "wrong user or password" in wrong.stderr
    absent = run(tmp_path, "login", "--server", f"http://127.0.0.1:{free_port()}", "--user", "agente01", stdin="demo\n")
    assert absent.returncode == 2 and "did not answer" in absent.stderr


def test_a_script_signs_in_with_the_password_on_standard_input(tmp_path: Path, served: str) -> None:
    login = run(tmp_path, "login", "--server", served, "--user", "agente01", "--password-stdin", stdin="demo\n")
    assert login.returncode == 0, login.stderr
    assert "GetPassWarning" not in login.stderr  # read as a line, not through a terminal prompt
    empty = run(tmp_path, "login", "--server", served, "--user", "agente01", "--password-stdin", stdin="")
    assert empty.returncode == 2 and "--password-stdin" in empty.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x", "--db takes sqlite:///"),
        ("sqlite:////nonexistent/dir/x.db", "cannot be opened"),
    ],
)
def test_serve_explains_a_database_it_cannot_use(tmp_path: Path, url: str, message: str) -> None:
    result = run(tmp_path, "serve", "--port", str(free_port()), "--db", url)
    assert result.returncode == 2 and message in result.stderr


def test_rules_explain_prints_the_reasoning_rule_by_rule(tmp_path: Path, served: str) -> None:
    assert run(tmp_path, "login", "--server", served, "--user", "agente01", stdin="demo\n").returncode == 0
    assert run(tmp_path, "sync").returncode == 0
    listed = run(tmp_path, "rules", "explain", "no-such-account")
    assert listed.returncode == 2 and "no-such-account" in listed.stderr
    number = _an_account_number(tmp_path)
    night = run(tmp_path, "rules", "explain", number, "--at", "2026-11-23T01:30-06:00")
    assert night.returncode == 0, night.stderr
    assert "mx_condusef@" in night.stdout and "✗ MX-1" in night.stdout and "bloqueado" in night.stdout
    assert "se permite desde 2026-11-23 07:00" in night.stdout
    day = run(
        tmp_path, "rules", "explain", number, "--at", "2026-11-23T10:30-06:00", "--channel", "voice", COBRO_LANG="en"
    )
    assert day.returncode == 0 and "✓ MX-1" in day.stdout and "allowed" in day.stdout
    bad = run(tmp_path, "rules", "explain", "x", "--at", "tomorrow")
    assert bad.returncode == 2 and "ISO" in bad.stderr
    bad = run(tmp_path, "rules", "explain", "x", "--channel", "fax")
    assert bad.returncode == 2 and "voice" in bad.stderr


def _an_account_number(tmp_path: Path) -> str:
    """The number of an account of agente01 with no hold on its customer, read from the server's database."""
    import sqlite3

    with sqlite3.connect(tmp_path / "server.db") as db:
        return db.execute(
            "SELECT json_extract(a.data, '$.number') FROM entities a WHERE a.kind = 'account' AND a.agent = 'agente01' "
            "AND NOT EXISTS (SELECT 1 FROM entities r WHERE r.kind = 'restriction' AND r.customer_id = a.customer_id) "
            "ORDER BY a.id LIMIT 1"
        ).fetchone()[0]


@pytest.mark.slow
def test_kpi_prints_the_servers_figures_for_a_supervisor_and_refuses_an_agent(tmp_path: Path, served: str) -> None:
    agent_home, supervisor_home = tmp_path / "agent", tmp_path / "supervisor"
    agent_home.mkdir()
    supervisor_home.mkdir()
    assert run(agent_home, "login", "--server", served, "--user", "agente01", stdin="demo\n").returncode == 0
    refused = run(agent_home, "kpi")
    assert refused.returncode != 0 and "para supervisores" in refused.stderr
    assert run(supervisor_home, "login", "--server", served, "--user", "supervisor01", stdin="demo\n").returncode == 0
    lines = run(supervisor_home, "kpi", "--since", "30d")
    assert lines.returncode == 0, lines.stderr
    assert "Indicadores del" in lines.stdout and "tasa de contacto efectivo" in lines.stdout
    assert "Indicadores del 23/10/2026 10:30 al 22/11/2026 10:30 · equipo norte" in lines.stdout  # the floor's clock
    report = json.loads(run(supervisor_home, "kpi", "--since", "30d", "--json").stdout)
    assert report["attempts"] > 0 and 0 <= report["rpc_rate"] <= 1  # the demo portfolio's last month
    assert f"Intentos {report['attempts']}" in lines.stdout
    assert (
        "Recuperado del" in lines.stdout and "  agente01: intentos" in lines.stdout
    )  # the amount, then a line per agent
    other = run(supervisor_home, "kpi", "--team", "sur")
    assert other.returncode != 0 and "OTHER_TEAM" in other.stderr  # supervisor01 reviews team norte only
    bad = run(supervisor_home, "kpi", "--since", "ayer")
    assert bad.returncode == 2 and "7d, 24h, 90m" in bad.stderr


@pytest.mark.slow
def test_a_manager_administers_users_and_machine_credentials_from_the_command_line(tmp_path: Path, served: str) -> None:
    agent_home, manager_home = tmp_path / "agent", tmp_path / "manager"
    agent_home.mkdir()
    manager_home.mkdir()
    assert run(agent_home, "login", "--server", served, "--user", "agente02", stdin="demo\n").returncode == 0
    refused = run(agent_home, "admin", "list")
    assert refused.returncode == 2 and "La administración es para gerentes" in refused.stderr
    assert run(manager_home, "login", "--server", served, "--user", "gerente01", stdin="demo\n").returncode == 0
    made = run(manager_home, "admin", "integration", "add", "core-pagos", "--scope", "payments")
    assert made.returncode == 0 and "se muestra solo esta vez" in made.stdout
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("cbi_")
    payment = {
        "id": "pay-cli-1",
        "account_id": "nope",
        "amount_centavos": 100,
        "paid_on": "2026-11-22",
        "channel": "spei",
        "reference": "R-1",
    }
    assert (
        httpx.post(f"{served}/v1/payments", json=payment, headers={"Authorization": f"Bearer {key}"}).status_code == 404
    )
    listed = run(manager_home, "admin", "integration", "list")
    assert "core-pagos" in listed.stdout and key not in listed.stdout and "activa" in listed.stdout
    key_id = key.removeprefix("cbi_").split("_")[0]
    assert run(manager_home, "admin", "integration", "revoke", key_id).returncode == 0
    assert (
        httpx.post(f"{served}/v1/payments", json=payment, headers={"Authorization": f"Bearer {key}"}).status_code == 401
    )
    assert run(manager_home, "admin", "user", "disable", "agente02").returncode == 0
    assert run(agent_home, "sync").returncode == 4  # the session ended on the server: sign in again
    users = run(manager_home, "admin", "list").stdout
    assert any(line.startswith("agente02") and "deshabilitado" in line for line in users.splitlines())
    unknown = run(manager_home, "admin", "user", "unlock", "nadie")
    assert unknown.returncode == 2 and "no user nadie" in unknown.stderr
