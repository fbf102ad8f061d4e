"""`cobro-tui demo` in a real pseudo-terminal: it generates, shows the queue in Spanish, and quits."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import cli_env
from support.terminal import TerminalSession


@pytest.mark.slow
def test_demo_opens_the_queue_in_a_terminal_and_ctrl_q_quits(tmp_path: Path) -> None:
    env = cli_env(tmp_path, COBRO_NOW="2026-11-22T10:30:00-06:00", TMPDIR=str(tmp_path))
    # The demo needs no keyring at all: prove it with one that refuses everything.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    session = TerminalSession([sys.executable, "-m", "cobro_tui", "demo", "--accounts", "300", "--seed", "3"], env)
    try:
        # The server spreads 300 accounts over ten agents; agente01 gets its share.
        assert session.wait_for("Cola de agente01 · ", 60), session.text()
        # The rest of the frame may reach the terminal a moment after the heading.
        assert session.wait_for("Hora agente 22/11/2026 10:30", 10), session.text()
        screen = session.text()
        assert re.search(r"Cola de agente01 · (\d+) de \1 cuentas", screen), screen
        assert "Cliente" in screen and "Exigible" in screen and "Salir" in screen
        assert "En línea" in screen and "sincronizado 10:30" in screen
        assert "$" in screen
        session.send(b"\x11")  # ctrl+q
        assert session.wait_exit(20) == 0
        assert session.wait_for_output("Generando cartera demo: 300 cuentas", 1)
    finally:
        session.close()
    assert not list(tmp_path.glob("cobro-demo-*")), "the demo's private cache is removed on exit"
