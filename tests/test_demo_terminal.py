"""`cobro-tui demo` in a real pseudo-terminal: it generates, shows the queue in Spanish, and quits."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from conftest import cli_env

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07")


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            seen.extend(chunk)
            if wanted in ANSI.sub(b"", bytes(seen)):
                return True
    return False


@pytest.mark.slow
def test_demo_opens_the_queue_in_a_terminal_and_ctrl_q_quits(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = cli_env(tmp_path, COBRO_NOW="2026-11-22T10:30:00-06:00", TERM="xterm-256color", TMPDIR=str(tmp_path))
    # The demo needs no keyring at all: prove it with one that refuses everything.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    child = subprocess.Popen([sys.executable, "-m", "cobro_tui", "demo", "--accounts", "300", "--seed", "3"],
                             stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = bytearray()
    try:
        assert _read_until(master, b"Cola de agente01", seen, 60), ANSI.sub(b"", bytes(seen))[-2000:]
        assert _read_until(master, b"de 300 cuentas", seen, 10)
        text = ANSI.sub(b"", bytes(seen)).decode(errors="replace")
        assert "Generando cartera demo: 300 cuentas" in text
        assert "Salir" in text
        os.write(master, b"\x11")  # ctrl+q
        deadline = time.monotonic() + 20
        while child.poll() is None and time.monotonic() < deadline:
            _read_until(master, b"\x00never", seen, 0.2)  # keep draining: a full pty blocks the child
        assert child.wait(timeout=1) == 0
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    assert not list(tmp_path.glob("cobro-demo-*")), "the demo's private cache is removed on exit"
