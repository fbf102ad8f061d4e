"""The README's "Run it at your institution" commands, exactly as written, from an empty server to
an agent's queue with the imported accounts: on SQLite and on PostgreSQL (4 workers), on loopback."""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from conftest import cli_env
from support.postgres import postgres_cluster
from test_demo_tmux import Tmux

from cobro_tui.server.run import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T10:30:00-06:00"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- institution:begin -->\s*```sh\n(.*?)```\s*<!-- institution:end -->", text, re.S)
    assert found, "README.md lost its institution block"
    return found.group(1)


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The database URL and the number of workers the README's commands get."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'server' / 'server.db'}", "1"
        return
    if shutil.which("initdb") is None:
        pytest.skip("PostgreSQL server tools are not installed here (.ci/run installs them)")
    with postgres_cluster(free_port()) as url:
        yield url, "4"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_readme_takes_an_institution_from_an_empty_server_to_an_agent_working_its_accounts(
    tmp_path: Path, kind: str
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "server").mkdir()
    for name, password in (("gerente.pass", "gerente-de-prueba-2026"), ("agente.pass", "agente-de-prueba-2026")):
        (tmp_path / name).write_text(password + "\n", encoding="utf-8")
        (tmp_path / name).chmod(0o600)
    port = free_port()
    with database(kind, tmp_path) as (url, workers):
        env = cli_env(tmp_path, COBRO_NOW=NOW, COBRO_DB=url, COBRO_PORT=str(port), COBRO_WORKERS=workers)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env["HOME"] = str(tmp_path)
        script = "set -euo pipefail\n" + readme_block()
        shell = subprocess.Popen(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # the server it starts in the background is stopped with it below
        )
        try:
            output, _ = shell.communicate(timeout=300)
            assert shell.returncode == 0, output
            assert "cbi_" not in output and "agente-de-prueba" not in output  # the key and passwords stay out
            exported = (tmp_path / "gestiones.csv").read_text(encoding="utf-8")
            assert exported.splitlines()[0].startswith("seq,kind,at,account_id,account_number"), exported[:200]
            for name in ("customers", "accounts", "contacts", "references"):
                assert (tmp_path / "examples" / "institution" / f"{name}.csv.report.csv").exists()
            agent = dict(env, COBRO_DATA_DIR=str(tmp_path / "workstation-agente"), TERM="xterm-256color")
            agent["TMPDIR"] = str(tmp_path)
            imported = _first_imported_name(tmp_path)
            session = Tmux(tmp_path, [sys.executable, "-m", "cobro_tui"], agent)
            try:
                assert session.wait_for("Cola de agente.lopez", 60), session.screen()
                assert session.wait_for(imported, 20), session.screen()
                # The agent works one: opens the first account and logs a no-answer from the wrap-up line.
                session.send("Enter")
                assert session.wait_for("Saldo total", 20), session.screen()
                session.send(":")
                session.type("g nc")
                session.send("Enter")
                assert session.wait_for("Gestión guardada", 20), session.screen()
                session.send("C-q")
                assert session.wait_for("EXITED 0", 20), session.screen()
            finally:
                session.close()
            # Their contact reaches the core by the README's own export command.
            # (the CRM with its own credential, made by the manager as the README made the core's).
            work = (
                'set -euo pipefail\nexport COBRO_SERVER_URL="http://127.0.0.1:$COBRO_PORT"\ncobro-tui sync\n'
                'export COBRO_INTEGRATION_KEY=$(COBRO_DATA_DIR="$PWD/workstation-gerente" '
                "cobro-tui admin integration add crm --scope export | tail -n 1)\n" + _export_line(readme_block())
            )
            again = subprocess.run(["bash", "-c", work], cwd=tmp_path, env=agent, capture_output=True, text=True)
            assert again.returncode == 0, again.stdout + again.stderr
            with (tmp_path / "gestiones.csv").open(encoding="utf-8", newline="") as handle:
                events = list(csv.DictReader(handle))
            logged = [e for e in events if e["kind"] == "contact.logged"]
            assert [(e["agent"], e["code"]) for e in logged] == [("agente.lopez", "NC")], events
        finally:
            with suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)
            shell.wait(timeout=30)


def _first_imported_name(tmp_path: Path) -> str:
    """A customer of the example files the team's agent gets (the shipped assignment rules)."""
    with (tmp_path / "examples" / "institution" / "customers.csv").open(encoding="utf-8") as handle:
        return next(csv.DictReader(handle))["full_name"]


def _export_line(block: str) -> str:
    return next(line for line in block.splitlines() if line.startswith("cobro-tui export events")) + "\n"
