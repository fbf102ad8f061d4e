"""How the first screen looks, at 120x40 with a fixed clock and seed; Spanish, and once English."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_support import demo_app, wait_for

from cobro_tui.policy import Policy
from cobro_tui.ui.widgets.queue_table import QueueTable


async def _wait_for_rows(pilot) -> None:
    """Rows on screen, in the order of the scores the screen makes when it opens."""
    table = pilot.app.screen.query_one(QueueTable)
    queue = pilot.app.workstation.queue

    def settled() -> bool:
        top = queue.page(None, 1).entries[0]
        return table.row_count > 0 and top.priority > 0 and table.get_row_at(0)[0] == str(top.priority)

    await wait_for(pilot, settled)
    # Every worker done (scores, pages, refresh) and their messages handled: nothing left to move.
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await wait_for(pilot, settled)
    await pilot.pause()


def test_queue_screen_spanish(snap_compare, tmp_path: Path, policy: Policy) -> None:
    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=_wait_for_rows)


def test_queue_screen_english(snap_compare, tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBRO_LANG", "en")
    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=_wait_for_rows)


def test_queue_screen_narrow(snap_compare, tmp_path: Path, policy: Policy) -> None:
    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(80, 24), run_before=_wait_for_rows)


async def _open_account(pilot) -> None:
    from cobro_tui.ui.screens.account import AccountScreen

    await _wait_for_rows(pilot)
    await pilot.press("enter")
    for _ in range(300):
        if isinstance(pilot.app.screen, AccountScreen) and pilot.app.screen.view is not None:
            break
        await pilot.pause(0.02)
    await pilot.pause()


def test_account_screen_spanish(snap_compare, tmp_path: Path, policy: Policy) -> None:
    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=_open_account)


def test_account_screen_narrow(snap_compare, tmp_path: Path, policy: Policy) -> None:
    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(80, 24), run_before=_open_account)


def test_promise_form_with_a_problem(snap_compare, tmp_path: Path, policy: Policy) -> None:
    async def run_before(pilot) -> None:
        await _open_account(pilot)
        await pilot.press("f2")
        await pilot.pause(0.2)
        await pilot.press(*"50", "tab", *"15")
        await pilot.pause(0.3)

    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=run_before)


def test_contact_form(snap_compare, tmp_path: Path, policy: Policy) -> None:
    async def run_before(pilot) -> None:
        await _open_account(pilot)
        await pilot.press("f4")
        await pilot.pause(0.3)

    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=run_before)


def test_help_over_the_account_english(
    snap_compare, tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COBRO_LANG", "en")

    async def run_before(pilot) -> None:
        await _open_account(pilot)
        await pilot.press("f1")
        await pilot.pause(0.3)

    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=run_before)


def test_call_guide(snap_compare, tmp_path: Path, policy: Policy) -> None:
    async def run_before(pilot) -> None:
        await _open_account(pilot)
        await pilot.press("f6")
        await pilot.pause(0.2)
        await pilot.press("space")
        await pilot.pause(0.2)

    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=run_before)


def test_plan_form_with_its_schedule(snap_compare, tmp_path: Path, policy: Policy) -> None:
    async def run_before(pilot) -> None:
        await _open_account(pilot)
        await pilot.press("f3")
        await pilot.pause(0.5)

    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=run_before)


def test_account_screen_high_contrast(
    snap_compare, tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COBRO_UI__THEME", "cobro-high-contrast")
    assert snap_compare(demo_app(tmp_path, policy), terminal_size=(120, 40), run_before=_open_account)


# The supervisor's dashboard, on a seeded reference server with the clock fixed: the figures are the same every run.


@pytest.fixture(scope="module")
def kpi_server(tmp_path_factory: pytest.TempPathFactory):
    from sync_support import running_server

    with running_server(tmp_path_factory.mktemp("kpi-server"), accounts=300, seed=3) as running:
        yield running


def _supervisor_app(tmp_path: Path, url: str):
    from ui_support import supervisor_app

    return supervisor_app(url, tmp_path)


async def _open_dashboard(pilot) -> None:
    from cobro_tui.ui.screens.dashboard import DashboardScreen

    await pilot.pause(0.2)
    await pilot.press("k")
    await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.portfolio is not None
    )
    await pilot.pause()


def test_dashboard_spanish(snap_compare, tmp_path: Path, kpi_server) -> None:
    assert snap_compare(
        _supervisor_app(tmp_path, kpi_server[1].url), terminal_size=(120, 40), run_before=_open_dashboard
    )


def test_dashboard_english_roll_rates_and_vintage_curves(
    snap_compare,
    tmp_path: Path,
    kpi_server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COBRO_LANG", "en")

    async def run_before(pilot) -> None:
        await _open_dashboard(pilot)
        await pilot.press("end")
        await pilot.pause(0.3)

    assert snap_compare(_supervisor_app(tmp_path, kpi_server[1].url), terminal_size=(120, 40), run_before=run_before)
