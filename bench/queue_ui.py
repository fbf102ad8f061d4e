"""Benchmark: the queue as the agent feels it with a large portfolio (issue #4), and the same queue
flow with Textual's built-in DataTable loaded with every row, for the ratio.

    python bench/queue_ui.py --accounts 100000

Loads a generated portfolio into an encrypted cache and scores it (not timed). Then:
- process start to an interactive queue, in a real pseudo-terminal (a child process, as an agent
  starts it; the median of three, the package's bytecode compiled as an install leaves it), for
  the workstation and for a DataTable app that loads every row first;
- in that terminal, from writing a key to the last byte of the update it causes: moving down the
  queue, f5 to the next account on screen (the first f5 of the process apart); the same moves in
  the all-rows DataTable;
- applying a filter: its first page (what the screen waits for) and its total (counted after).
Peak memory is each child process's own (VmHWM, read before it exits).
Needs the test extras (the terminal emulator): pip install -e '.[test]'.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import os
import select
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from _common import figure
from _portfolio import NOW, agent_cache
from support.terminal import TerminalSession

from cobro_tui.bootstrap import build_workstation
from cobro_tui.clock import FixedClock
from cobro_tui.domain.models import Product
from cobro_tui.domain.queue import PromiseFilter, QueueFilter
from cobro_tui.policy import load_policy
from cobro_tui.settings import load_settings

DOWN, F5, ESCAPE = b"\x1b[B", b"\x1b[15~", b"\x1b"


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


def start_in_terminal(
    path: Path, key: bytes, mode: list[str], marker: str, timeout: float
) -> tuple[TerminalSession, float]:
    env = dict(os.environ, COBRO_BENCH_KEY=key.hex(), COBRO_LANG="es", COBRO_UI__CURSOR_BLINK="false")
    started = time.perf_counter()
    session = TerminalSession(
        [sys.executable, str(ROOT / "bench" / "_queue_app.py"), str(path), NOW.isoformat(), *mode], env
    )
    if not session.wait_for(marker, timeout):
        session.close()
        raise SystemExit(f"{marker!r} did not appear within {timeout} s:\n{session.text()}")
    return session, time.perf_counter() - started


def key_to_screen(
    session: TerminalSession, key: bytes, until: str | None = None, quiet: float = 0.05, limit: float = 5.0
) -> float:
    """Milliseconds from writing a key to the last byte of the screen update it caused (or to the
    byte that put `until` on the screen), read from the real pseudo-terminal. The bytes go to the
    terminal emulator only afterwards, so its parsing never counts."""
    session.pump(0.05)  # whatever was still coming
    wanted = until.encode() if until else None
    received = bytearray()
    sent = time.perf_counter()
    os.write(session.master, key)
    last = None
    while time.perf_counter() < sent + limit:
        if not select.select([session.master], [], [], quiet)[0]:
            if last is not None:
                break
            continue
        received += os.read(session.master, 65536)
        if wanted is None or (last is None and wanted in received):
            last = time.perf_counter()
    session.stream.feed(bytes(received))
    return ((last or time.perf_counter()) - sent) * 1000


def moves(session: TerminalSession, presses: int, accounts: int) -> dict[str, list[float]]:
    """`presses` moves down the queue, then f5 and back (Escape) `accounts` times; the first f5 of
    the process is kept apart (it shows the account screen for the first time)."""
    found: dict[str, list[float]] = {"down": [], "first f5": [], "f5": []}
    for _ in range(presses):
        found["down"].append(key_to_screen(session, DOWN))
    for turn in range(accounts):
        found["first f5" if turn == 0 else "f5"].append(key_to_screen(session, F5, until="Saldos"))
        key_to_screen(session, ESCAPE, until="Cola de agente01")
    return found


def child_peak_mib(session: TerminalSession) -> float:
    """The child's own peak resident memory (Linux), read before it exits."""
    for line in Path(f"/proc/{session.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def close(session: TerminalSession) -> None:
    session.send(b"\x11")
    session.wait_exit(20)
    session.close()


def filter_pages(ws) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """What the screen waits for when a filter is applied (its first page), and the total counted after."""
    pages, totals = [], []
    for chosen in (
        QueueFilter(bucket="30-59", promise=PromiseFilter.NONE),
        QueueFilter(callable_now=True),
        QueueFilter(segment="C"),
        QueueFilter(product=Product.AUTO_LOAN),
    ) * 3:
        started = time.perf_counter()
        ws.queue.page(None, chosen=chosen, count=False)
        pages.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        ws.queue.count(chosen)
        totals.append((time.perf_counter() - started) * 1000)
    return pages, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--opens", type=int, default=50, help="accounts opened with f5")
    args = parser.parse_args()
    policy, settings, clock = load_policy(), load_settings(), FixedClock(NOW)
    settings = settings.model_copy(update={"ui": settings.ui.model_copy(update={"cursor_blink": False})})
    with tempfile.TemporaryDirectory() as folder:
        path, key, engine = agent_cache(folder, args.accounts, policy)
        ws = build_workstation(engine, settings, clock, policy, "agente01", "demo")
        ws.queue.ensure_current()  # scored as a workstation that ran today would be
        with engine.connect() as conn:  # and its log folded into the file, as closing the app leaves it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        gc.collect()
        gc.freeze()  # this process's own heap must not pause the measuring loop
        print(f"queue_ui: {args.accounts:,} accounts for one agent, encrypted cache, 120x40")
        # Bytecode as an installed package has it (pip compiles a wheel's modules; an editable
        # checkout writes them at its first start, unless PYTHONDONTWRITEBYTECODE is set).
        compileall.compile_dir(ROOT / "src" / "cobro_tui", quiet=1)
        starts = []
        for _ in range(2):
            session, started = start_in_terminal(path, key, [], "Cola de agente01 · ", 120)
            starts.append(started)
            close(session)
        session, started = start_in_terminal(path, key, [], "Cola de agente01 · ", 120)
        starts.append(started)
        ours = statistics.median(starts)
        ours_moves = moves(session, args.presses, args.opens)
        ours_memory = child_peak_mib(session)
        close(session)
        session, naive = start_in_terminal(path, key, ["--datatable"], "DataTable · ", 900)
        naive_moves = {"down": [key_to_screen(session, DOWN) for _ in range(args.presses)]}
        naive_memory = child_peak_mib(session)
        close(session)
        figure("process start to interactive queue, median of 3", ours, "s", "< 1.0 s")
        figure("  the slowest of the 3", max(starts), "s")
        figure("key press to screen, moving down, p50", statistics.median(ours_moves["down"]), "ms")
        figure("key press to screen, moving down, p95", p95(ours_moves["down"]), "ms", "< 16 ms")
        figure("first f5 of the process, to the account on screen", ours_moves["first f5"][0], "ms")
        figure("f5 to the next account on screen, p50", statistics.median(ours_moves["f5"]), "ms")
        figure("f5 to the next account on screen, p95", p95(ours_moves["f5"]), "ms", "< 50 ms")
        pages, totals = filter_pages(ws)
        figure("apply a filter: its first page, p95", p95(pages), "ms", "< 100 ms")
        figure("  and its total, counted after, p95", p95(totals), "ms")
        figure("peak memory of the workstation process", ours_memory, "MiB", "< 300 MB")
        figure("DataTable with every row: process start", naive, "s")
        figure("  key press to screen, moving down, p95", p95(naive_moves["down"]), "ms")
        figure("  peak memory of its process", naive_memory, "MiB")
        figure("ratio DataTable / paged queue: start", naive / ours, "x")
        figure("ratio DataTable / paged queue: key p95", p95(naive_moves["down"]) / p95(ours_moves["down"]), "x")
        engine.dispose()


if __name__ == "__main__":
    main()
