"""`cobro-tui demo` driven in a real terminal through tmux, as an agent would: open the queue,
open the first account, try a promise below the minimum, log the call on the wrap-up line,
see it sent, quit."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli_env

pytestmark = pytest.mark.slow


class Tmux:
    """One tmux server on its own socket, with one 120x40 window running `command`."""

    def __init__(self, tmp_path: Path, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"cobro-test-{tmp_path.name}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        script = f"env -i {exports} {shlex.join(command)}; echo EXITED $?; sleep 30"
        self._tmux("new-session", "-d", "-s", "demo", "-x", "120", "-y", "40", script)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "demo")

    def send(self, *keys: str) -> None:
        for key in keys:  # one at a time, as fingers do: the app reads them as separate keys
            self._tmux("send-keys", "-t", "demo", key)
            time.sleep(0.05)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "demo", "-l", text)

    def wait_for(self, text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.screen():
                return True
            time.sleep(0.1)
        return False

    def wait_gone(self, text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text not in self.screen():
                return True
            time.sleep(0.1)
        return False

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux(tmp_path: Path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed here (.ci/run installs it for CI)")
    env = cli_env(
        tmp_path,
        COBRO_NOW="2026-11-22T10:30:00-06:00",
        TMPDIR=str(tmp_path),
        TERM="xterm-256color",
        COBRO_UI__CURSOR_BLINK="false",
    )
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    session = Tmux(tmp_path, [sys.executable, "-m", "cobro_tui", "demo", "--accounts", "300", "--seed", "3"], env)
    yield session
    session.close()


def test_an_agent_works_an_account_in_the_demo_with_the_keyboard(tmux: Tmux) -> None:
    assert tmux.wait_for("Cola de agente01 · ", 90), tmux.screen()
    assert tmux.wait_for("sincronizado 10:30", 20), tmux.screen()
    tmux.send("Enter")
    assert tmux.wait_for("días de atraso", 20), tmux.screen()
    screen = tmux.screen()
    assert "Datos personales ocultos" in screen and "Prioridad" in screen
    tmux.send("F2")
    assert tmux.wait_for("Promesa de pago", 10), tmux.screen()
    time.sleep(0.5)  # the form takes the focus once it is on screen
    tmux.type("50")
    tmux.send("Tab")
    tmux.type("30")
    # Below the minimum: refused as typed, with what is allowed (the policy's minimum for this account).
    assert tmux.wait_for("El monto mínimo de una promesa es $", 10), tmux.screen()
    tmux.send("Escape")  # alone: a key right after it would read as alt+key
    assert tmux.wait_gone("Fecha de pago (dd/mm/aaaa)", 10), tmux.screen()
    # The wrap-up line logs the call instead.
    tmux.send(":")
    time.sleep(0.3)
    tmux.type("g NC no contesta")
    tmux.send("Enter")
    assert tmux.wait_for("Gestión guardada: NC", 10), tmux.screen()
    assert tmux.wait_for("TRABAJADA HOY", 10), tmux.screen()
    # The round after the write sends it; the server's answer comes back and the status says so.
    assert tmux.wait_for("Pendientes: 0", 30), tmux.screen()
    time.sleep(0.3)
    tmux.send("Escape")
    assert tmux.wait_for("Cola de agente01 · ", 10), tmux.screen()
    time.sleep(0.3)
    tmux.send("C-q")
    assert tmux.wait_for("EXITED 0", 20), tmux.screen()
