"""Benchmark: process start of `cobro-tui demo` to the first screen, in a real pseudo-terminal.

    python bench/demo_start.py --accounts 100000

Prints the whole time (which includes generating the portfolio, as the demo does at every
start) and the part after the portfolio is ready: opening the app to the queue on screen.
Needs the test extras (the terminal emulator): pip install -e '.[test]'.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from _common import figure
from support.terminal import TerminalSession


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    env = dict(os.environ, COBRO_NOW="2026-11-22T10:30:00-06:00", COBRO_LANG="es")
    started = time.perf_counter()
    session = TerminalSession([sys.executable, "-m", "cobro_tui", "demo", "--accounts", str(args.accounts)], env)
    try:
        if not session.wait_for_output("Demo lista en", args.timeout):
            raise SystemExit(f"the portfolio was not ready within {args.timeout} s:\n{session.text()}")
        ready_at = time.perf_counter()
        if not session.wait_for("Cola de agente01 · ", args.timeout):
            raise SystemExit(f"the queue did not appear within {args.timeout} s:\n{session.text()}")
        screen_at = time.perf_counter()
        session.send(b"\x11")
        session.wait_exit(20)
    finally:
        session.close()
    print(f"demo_start: cobro-tui demo --accounts {args.accounts:,}")
    figure("process start to queue on screen", screen_at - started, "s")
    figure("  of which generating the portfolio", ready_at - started, "s")
    figure("  portfolio ready to queue on screen", screen_at - ready_at, "s")


if __name__ == "__main__":
    main()
