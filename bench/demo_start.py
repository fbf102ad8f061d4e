"""Benchmark: process start of `cobro-tui demo` to the first screen, in a real pseudo-terminal.

    python bench/demo_start.py --accounts 100000

Prints the whole time (which includes generating the portfolio, as the demo does at every
start) and the part after the portfolio is ready: opening the app to the queue on screen.
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure  # noqa: E402

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COBRO_NOW="2026-11-22T10:30:00-06:00", COBRO_LANG="es")
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "cobro_tui", "demo", "--accounts", str(args.accounts)],
                             stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = bytearray()
    ready_at = screen_at = None
    while time.perf_counter() - started < args.timeout:
        if select.select([master], [], [], 0.05)[0]:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            seen.extend(chunk)
            text = ANSI.sub(b"", bytes(seen))
            if ready_at is None and b"Cartera demo lista" in text:
                ready_at = time.perf_counter()
            if b"Cola de agente01" in text:
                screen_at = time.perf_counter()
                break
    os.write(master, b"\x11")
    deadline = time.perf_counter() + 20
    while child.poll() is None and time.perf_counter() < deadline:
        if select.select([master], [], [], 0.1)[0]:
            try:
                os.read(master, 65536)
            except OSError:
                break
    if child.poll() is None:
        child.kill()
    os.close(master)
    if screen_at is None:
        raise SystemExit(f"the queue did not appear within {args.timeout} s")
    print(f"demo_start: cobro-tui demo --accounts {args.accounts:,}")
    figure("process start to queue on screen", screen_at - started, "s")
    if ready_at is not None:
        figure("  of which generating the portfolio", ready_at - started, "s")
        figure("  portfolio ready to queue on screen", screen_at - ready_at, "s")


if __name__ == "__main__":
    main()
