"""`cobro-tui admin` as an institution's IT runs it on a new server: the first manager on an empty
database, then users and teams through the API, a new agent's first sign-in with a one-time
password, and a disabled agent refused. Separate processes, a real server on a loopback port."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import cli_env
from test_sync_cli import NOW, run

from cobro_tui.server.run import free_port

PASSWORD = "la-jefa-elige-una-frase"
NEW = "ana-elige-la-suya-2026"


def _init(home: Path, db: str, user: str, password: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(
        home, "admin", "init", "--database", db, "--user", user, "--team", "norte", "--password-stdin", *extra,
        stdin=password + "\n",
    )  # fmt: skip


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server on an empty SQLite database (no demo, no users): its URL and its database."""
    db = f"sqlite:///{tmp_path / 'server.db'}"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cobro_tui", "serve", "--port", str(port), "--db", db],
        env=cli_env(tmp_path / "server-data", COBRO_NOW=NOW),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"the server did not come up: {process.stdout.read() if process.stdout else ''}")
    yield url, db
    process.terminate()
    process.wait(timeout=20)


def _home(tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    home.mkdir()
    return home


def test_admin_init_refuses_what_is_not_a_first_manager_with_a_password_of_their_own(tmp_path: Path) -> None:
    home = _home(tmp_path, "it")
    db = f"sqlite:///{tmp_path / 'nuevo.db'}"
    weak = _init(home, db, "jefa", "demo")
    assert weak.returncode == 2 and "al menos 12 caracteres" in weak.stderr
    same = _init(home, db, "jefa.de.cobranza", "JEFA.DE.COBRANZA")
    assert same.returncode == 2 and "nombre de usuario" in same.stderr
    empty = run(home, "admin", "init", "--database", db, "--user", "jefa", "--team", "norte", "--password-stdin")
    assert empty.returncode == 2 and "primera línea" in empty.stderr
    hostile = _init(home, db, "\x1b[31mjefa", PASSWORD)
    assert hostile.returncode == 2 and "\x1b" not in hostile.stderr and "\\x1b[31mjefa" in hostile.stderr
    huge = _init(home, db, "jefa", PASSWORD, "--team", "x" * 5000)
    assert huge.returncode == 2 and len(huge.stderr) < 1000
    english = run(
        home, "admin", "init", "--database", db, "--user", "jefa", "--team", "norte", "--password-stdin",
        stdin="corta\n", COBRO_LANG="en",
    )  # fmt: skip
    assert english.returncode == 2 and "at least 12 characters" in english.stderr


@pytest.mark.slow
def test_a_new_server_gets_its_first_manager_then_its_people_through_the_api(
    tmp_path: Path, empty_server: tuple[str, str]
) -> None:
    url, db = empty_server
    it, agent = _home(tmp_path, "it"), _home(tmp_path, "agent")
    assert httpx.post(f"{url}/v1/auth/login", json={"username": "gerente01", "password": "demo"}).status_code == 401
    made = _init(it, db, "jefa", PASSWORD)
    assert made.returncode == 0, made.stderr
    assert "Primer gerente jefa (equipo norte)" in made.stdout
    again = _init(it, db, "otra.jefa", PASSWORD)
    assert again.returncode == 2 and "ya tiene gerente (jefa)" in again.stderr

    signed = run(it, "login", "--server", url, "--user", "jefa", "--password-stdin", stdin=PASSWORD + "\n")
    assert signed.returncode == 0, signed.stderr
    assert run(it, "admin", "team", "add", "sur").returncode == 0
    added = run(it, "admin", "user", "add", "ana.martinez", "--role", "agent", "--team", "sur")
    assert added.returncode == 0, added.stderr
    assert "ana.martinez (agente, equipo sur) quedó dado de alta" in added.stdout
    once = added.stdout.strip().splitlines()[-1]
    assert len(once) >= 12
    duplicate = run(it, "admin", "user", "add", "ana.martinez", "--role", "agent", "--team", "sur")
    assert duplicate.returncode == 2 and "USER_EXISTS" in duplicate.stderr

    # The first sign-in: the one-time password, then the agent's own (the second line of stdin).
    short = run(agent, "login", "--server", url, "--user", "ana.martinez", "--password-stdin", stdin=once + "\n")
    assert short.returncode == 2 and "segunda línea" in short.stderr
    first = run(agent, "login", "--server", url, "--user", "ana.martinez", "--password-stdin", stdin=f"{once}\n{NEW}\n")
    assert first.returncode == 0, first.stderr
    assert "un solo uso" in first.stderr and "Sesión iniciada como ana.martinez" in first.stdout
    assert run(agent, "sync").returncode == 0
    listed = run(it, "admin", "list").stdout
    ana = next(line for line in listed.splitlines() if line.startswith("ana.martinez"))
    assert "agente" in ana and "sur" in ana and "activo" in ana and "último acceso 22/11/2026 16:30 UTC" in ana
    assert "pendiente" not in ana
    refused = run(agent, "admin", "list")
    assert refused.returncode == 2 and "La administración es para gerentes" in refused.stderr

    assert run(it, "admin", "team", "rename", "sur", "sureste").returncode == 0
    teams = run(it, "admin", "team", "list").stdout
    assert "sureste: agente: 1" in teams and "norte: gerente: 1" in teams
    moved = run(it, "admin", "user", "set-team", "ana.martinez", "norte")
    assert moved.returncode == 0 and "ahora es del equipo norte" in moved.stdout
    promoted = run(it, "admin", "user", "set-role", "ana.martinez", "supervisor")
    assert promoted.returncode == 0 and "ahora es supervisor" in promoted.stdout
    assert run(it, "admin", "user", "set-role", "jefa", "agent").stderr.count("LAST_MANAGER") == 1

    # Disabled: the session on the agent's workstation ends, and signing in again is refused.
    assert run(it, "admin", "user", "disable", "ana.martinez").returncode == 0
    assert run(agent, "sync").returncode == 4
    again = run(agent, "login", "--server", url, "--user", "ana.martinez", "--password-stdin", stdin=NEW + "\n")
    assert again.returncode == 2 and "USER_DISABLED" in again.stderr
    assert run(it, "admin", "user", "enable", "ana.martinez").returncode == 0
    reset = run(it, "admin", "user", "reset-password", "ana.martinez")
    assert reset.returncode == 0 and "se restableció" in reset.stdout
    fresh = reset.stdout.strip().splitlines()[-1]
    old = run(agent, "login", "--server", url, "--user", "ana.martinez", "--password-stdin", stdin=NEW + "\n")
    assert old.returncode == 2
    back = run(
        agent,
        "login",
        "--server",
        url,
        "--user",
        "ana.martinez",
        "--password-stdin",
        stdin=f"{fresh}\nana-otra-frase-larga\n",
    )
    assert back.returncode == 0, back.stderr
    unknown = run(it, "admin", "user", "unlock", "nadie")
    assert unknown.returncode == 2 and "no user nadie" in unknown.stderr
