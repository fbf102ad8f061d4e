"""What the agent sees of sync, in the real app against a real server through a fault proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NOW
from support.fault_proxy import FaultProxy
from sync_support import make_station
from textual.widgets import Static

from cobro_tui.bootstrap import build_app, build_workstation
from cobro_tui.clock import FixedClock
from cobro_tui.domain.models import Channel
from cobro_tui.policy import Policy
from cobro_tui.server.run import ServerThread, prepare
from cobro_tui.settings import load_settings
from cobro_tui.ui.widgets.local_items import LocalItems
from cobro_tui.ui.widgets.queue_table import QueueTable


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[FaultProxy]:
    engine = prepare(f"sqlite:///{tmp_path / 'server.db'}", FixedClock(NOW), demo_accounts=200, seed=4)
    with ServerThread(engine, FixedClock(NOW)) as server:
        fault = FaultProxy(server.port)
        yield fault
        fault.close()
    engine.dispose()


async def _until(pilot, check, tries: int = 300) -> None:
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError("the screen never showed it")


def _live_app(
    tmp_path: Path,
    name: str,
    proxy: FaultProxy,
    clock: FixedClock,
    policy: Policy,
    monkeypatch: pytest.MonkeyPatch,
):
    """A workstation synced through the proxy; rounds only when the test (or a local write) asks."""
    monkeypatch.setenv("COBRO_SYNC__INTERVAL_SECONDS", "3600")
    station = make_station(tmp_path, name, proxy.url, "agente01", clock, policy, timeout=2)
    settings = load_settings()
    workstation = build_workstation(station.cache, settings, clock, policy, "agente01", "live").syncing(
        station.sync, 3600
    )
    return station, workstation, build_app(settings, clock, workstation)


async def test_status_and_local_items_follow_the_server(
    tmp_path: Path, proxy: FaultProxy, clock: FixedClock, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    station, workstation, app = _live_app(tmp_path, "ui", proxy, clock, policy, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.screen.query_one("#status-bar", Static)
        table = app.screen.query_one(QueueTable)
        await _until(pilot, lambda: table.row_count > 0 and "En línea" in str(status.render()))
        assert "sincronizado 10:30" in str(status.render())
        proxy.mode = "refuse"
        account = station.accounts()[0]
        station.log_contact(account)
        app.run_sync()
        await _until(pilot, lambda: "Sin conexión" in str(status.render()))
        assert "Pendientes: 1" in str(status.render())
        assert str(status.render()).startswith("Sin conexión: servidor no responde")  # why
        items = app.screen.query_one(LocalItems)
        assert items.row_count == 1 and str(items.get_row_at(0)[0]) == "Pendiente"
        proxy.mode = "pass"
        app.run_sync()
        await _until(pilot, lambda: "En línea" in str(status.render()) and "Pendientes: 0" in str(status.render()))
        assert str(items.get_row_at(0)[0]) == "Sincronizado"
        assert str(items.get_row_at(0)[1]) == "Gestión"
        # A local write starts a round by itself (the timer here is an hour away).
        second = workstation.contacts.log(
            account_id=account[0], customer_id=account[1], channel=Channel.VOICE, result_code="BZ"
        )
        await _until(pilot, lambda: items.row_count == 2 and str(items.get_row_at(0)[0]) == "Sincronizado")
        assert items.get_row_at(0) == items.get_row(second.outbox.mutation_id)  # newest first


async def test_a_full_disk_is_said_on_the_status_bar_and_sync_tries_again(
    tmp_path: Path, proxy: FaultProxy, clock: FixedClock, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event

    from cobro_tui.logs import start_workstation_log

    log = start_workstation_log()
    station, _workstation, app = _live_app(tmp_path, "full", proxy, clock, policy, monkeypatch)
    # The cache may not grow by one page (SQLite's own limit: the same SQLITE_FULL as a full disk),
    # so the first round's portfolio cannot be written.
    event.listen(
        station.cache,
        "connect",
        lambda conn, _: conn.execute("PRAGMA max_page_count = 1"),  # its size so far
    )
    station.cache.dispose()
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.screen.query_one("#status-bar", Static)
        await _until(pilot, lambda: "Disco lleno" in str(status.render()))
        assert str(status.render()).startswith("Disco lleno: libere espacio")
        assert app._next_sync is not None  # the next round is scheduled
    assert "WARNING sync: round failed (disk_full)" in log.read_text()


async def test_a_version_the_server_does_not_take_says_update(
    tmp_path: Path, proxy: FaultProxy, clock: FixedClock, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cobro_tui.sync.engine as engine

    monkeypatch.setattr(engine, "SCHEMA_VERSION", 99)  # a workstation newer than its server
    _station, _workstation, app = _live_app(tmp_path, "version", proxy, clock, policy, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.screen.query_one("#status-bar", Static)
        # Before the first round it is only "Sin conexión"; the refusal then says why.
        await _until(pilot, lambda: "Versión no aceptada" in str(status.render()))
        assert str(status.render()).startswith("Versión no aceptada: actualice cobro-tui")


async def test_a_round_that_moves_nothing_leaves_the_table_and_the_cursor_alone(
    tmp_path: Path, proxy: FaultProxy, clock: FixedClock, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _station, _workstation, app = _live_app(tmp_path, "quiet", proxy, clock, policy, monkeypatch)
    seen: list[object] = []
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        table = app.screen.query_one(QueueTable)
        status = app.screen.query_one("#status-bar", Static)
        await _until(pilot, lambda: table.row_count > 0 and "En línea" in str(status.render()))
        await pilot.press("down", "down")
        await pilot.pause()
        cursor = table.cursor_row
        seen.clear()
        app.run_sync()
        await _until(pilot, lambda: any(type(m).__name__ == "Refreshed" for m in seen))
        await pilot.pause()
        refreshed = [m for m in seen if type(m).__name__ == "Refreshed"]
        assert refreshed[0].page is None  # type: ignore[attr-defined]
        assert not any(type(m).__name__ == "PageLoaded" for m in seen)
        assert table.cursor_row == cursor > 0


async def test_a_rejected_item_stays_on_top_until_acknowledged(
    tmp_path: Path, proxy: FaultProxy, clock: FixedClock, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    station, workstation, app = _live_app(tmp_path, "ack", proxy, clock, policy, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.screen.query_one("#status-bar", Static)
        items = app.screen.query_one(LocalItems)
        await _until(pilot, lambda: "En línea" in str(status.render()))
        account_id, _customer_id = next(
            a for a in station.accounts() if not workstation.accounts.open(a[0]).file.open_promises()
        )
        # Two promises on one account, recorded below the form's checks: the server refuses the second.
        station.promise(account_id, 300)
        _, refused = station.promise(account_id, 400)
        callable_now = [e.account_id for e in workstation.queue.page(None, 200).entries if e.callable_now]
        for other in callable_now[:10]:
            file = workstation.accounts.open(other).file
            workstation.contacts.log(
                account_id=other, customer_id=file.customer.id, channel=Channel.VOICE, result_code="NC"
            )
        app.run_sync()
        await _until(pilot, lambda: "Pendientes: 0" in str(status.render()) and refused.mutation_id in items.attention)
        assert items.get_row_at(0) == items.get_row(refused.mutation_id)  # on top, though ten items are newer
        assert str(items.get_row_at(0)[0]) == "Rechazado" and "promesa abierta" in str(items.get_row_at(0)[3])
        items.focus()
        items.move_cursor(row=0)
        await pilot.press("a")
        await _until(pilot, lambda: refused.mutation_id not in [k.value for k in items.rows])
        with station.cache.connect() as conn:
            events = (
                conn.exec_driver_sql("SELECT body FROM audit_event WHERE body LIKE '%item.acknowledged%'")
                .scalars()
                .all()
            )
        assert len(events) == 1 and refused.mutation_id in events[0]


async def test_next_account_promise_pending_then_synced(
    tmp_path: Path, proxy: FaultProxy, clock: FixedClock, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Input

    from cobro_tui.ui.screens.account import AccountScreen
    from cobro_tui.ui.screens.promise_form import PromiseForm

    _station, _workstation, app = _live_app(tmp_path, "flow", proxy, clock, policy, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.screen.query_one("#status-bar", Static)
        await _until(pilot, lambda: "En línea" in str(status.render()))
        proxy.mode = "refuse"  # the network goes away: the agent keeps working
        await pilot.press("f5")
        await _until(pilot, lambda: isinstance(app.screen, AccountScreen) and app.screen.view is not None)
        screen = app.screen
        if screen.view.file.open_promises():  # the next best account may already have a promise: move on
            await pilot.press("f5")
            await _until(
                pilot,
                lambda: (
                    app.screen is not screen
                    and isinstance(app.screen, AccountScreen)
                    and app.screen.view is not None
                    and not app.screen.view.file.open_promises()
                ),
            )
            screen = app.screen
        pesos = -(
            -policy.offers.promise.minimum(screen.view.file.account).centavos // 100
        )  # whole pesos, at least the minimum
        await pilot.press("f2")
        await _until(pilot, lambda: isinstance(app.screen, PromiseForm))
        app.screen.query_one("#promise-amount", Input).value = str(pesos)
        app.screen.query_one("#promise-due", Input).value = "29/11/2026"
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: app.screen is screen)
        bar = screen.query_one("#status-bar", Static)
        await _until(pilot, lambda: "Sin conexión" in str(bar.render()) and "Pendientes: 1" in str(bar.render()))
        tracked = next(p for p in screen.view.file.promises if p.item.amount.centavos == pesos * 100)
        assert tracked.sync_state == "pending"
        proxy.mode = "pass"
        await pilot.press("ctrl+r")
        await _until(pilot, lambda: "En línea" in str(bar.render()) and "Pendientes: 0" in str(bar.render()))
        await _until(
            pilot,
            lambda: any(
                p.item.amount.centavos == pesos * 100 and p.sync_state == "synced" for p in screen.view.file.promises
            ),
        )


async def test_a_sync_round_that_raises_is_told_and_the_next_one_is_still_scheduled(
    tmp_path: Path, proxy: FaultProxy, clock: FixedClock, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    _, workstation, app = _live_app(tmp_path, "ui", proxy, clock, policy, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(QueueTable)
        await _until(pilot, lambda: table.row_count > 0 and app._next_sync is not None)
        first = app._next_sync

        def broken(self: object) -> None:
            raise RuntimeError("a bug in a sync round")

        monkeypatch.setattr(type(workstation), "sync_round", broken)  # a frozen service: its class
        app.run_sync()
        await _until(pilot, lambda: any("Algo falló" in n.message for n in app._notifications))
        assert app._next_sync is not None and app._next_sync is not first  # re-armed, not left stopped


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_reason_leaves_room_for_the_agents_clock_and_the_pending_count_at_80_columns(lang: str) -> None:
    from cobro_tui.i18n import set_language, t
    from cobro_tui.services.status import SYNC_REASONS
    from cobro_tui.ui.widgets.status_bar import fitted

    set_language(lang)
    for reason in SYNC_REASONS:
        clock = t("status.agent_time", time="10:30")
        parts = [
            (t(f"status.why_{reason}"), None, 0),
            (t("status.pending", count=123), None, 2),
            (t("status.agent_time", time="22/11/2026 10:30"), clock, 1),
        ]
        line = fitted(parts, 78)  # 80 columns less the bar's padding
        label = t("status.agent_time", time="").strip()
        assert line.startswith(t(f"status.why_{reason}")) and f"{label} " in line and "10:30" in line, line
        assert "123" in line, line
