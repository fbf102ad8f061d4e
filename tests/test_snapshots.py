"""How the first screen looks, at 120x40 with a fixed clock and seed; Spanish, and once English."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_support import demo_app

from cobro_tui.policy import Policy
from cobro_tui.ui.widgets.queue_table import QueueTable


async def _wait_for_rows(pilot) -> None:  # type: ignore[no-untyped-def]
    table = pilot.app.screen.query_one(QueueTable)
    for _ in range(300):
        if table.row_count:
            break
        await pilot.pause(0.02)
    await pilot.pause()


def test_queue_screen_spanish(snap_compare, tmp_path: Path, policy: Policy) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=_wait_for_rows)


def test_queue_screen_english(snap_compare, tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COBRO_LANG", "en")
    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=_wait_for_rows)


def test_queue_screen_narrow(snap_compare, tmp_path: Path, policy: Policy) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(80, 24), run_before=_wait_for_rows)
