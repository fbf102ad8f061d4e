"""The first screen, driven through Textual's Pilot on a real cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static
from ui_support import demo_app, top, wait_for

from cobro_tui.policy import Policy
from cobro_tui.ui.screens.queue import QueueScreen
from cobro_tui.ui.widgets.queue_table import QueueTable


async def _loaded(pilot, rows: int) -> QueueTable:
    table = pilot.app.screen.query_one(QueueTable)
    for _ in range(200):
        if table.row_count >= rows:
            break
        await pilot.pause(0.02)
    return table


async def test_the_queue_opens_on_the_agents_accounts_highest_priority_first(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy, accounts=450)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _loaded(pilot, 200)
        assert table.row_count == 200
        heading = str(app.screen.query_one("#queue-heading", Static).render())
        assert heading == "Cola de agente01 · 200 de 450 cuentas"
        # The screen scores every account when it opens, then shows the rows in score order.
        await wait_for(pilot, lambda: app.workstation.queue.page(None, 1).entries[0].priority > 0)
        entries = app.workstation.queue.page(None, 200).entries
        expected = [(str(e.priority), str(e.dpd)) for e in entries]
        await wait_for(
            pilot, lambda: [(table.get_row_at(i)[0], table.get_row_at(i)[5]) for i in range(200)] == expected
        )
        assert [(e.priority, e.dpd) for e in entries] == sorted(((e.priority, e.dpd) for e in entries), reverse=True)
        assert entries[0].priority > entries[-1].priority
        assert table.get_row_at(0)[6].startswith("$")
        status = str(app.screen.query_one("#status-bar", Static).render())
        assert "Demo local" in status and "Pendientes: 0" in status and "22/11/2026 10:30" in status


async def test_moving_down_the_queue_fetches_the_next_page_before_the_end(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy, accounts=450)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _loaded(pilot, 200)
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "pagedown")
        table = await _loaded(pilot, 400)
        assert table.row_count == 400
        assert table.cursor_row < 200  # fetched ahead of the cursor
        await pilot.press("ctrl+end")
        table = await _loaded(pilot, 450)
        assert table.row_count == 450
        keys = table.row_keys
        assert len(set(keys)) == 450
        assert "450 de 450" in str(app.screen.query_one("#queue-heading", Static).render())


async def test_the_queue_moves_by_keys_and_mouse_and_draws_what_changed(tmp_path: Path, policy: Policy) -> None:
    from dataclasses import replace

    from cobro_tui.ui.screens.account import AccountScreen

    app = demo_app(tmp_path, policy, accounts=60)
    async with app.run_test(size=(120, 20)) as pilot:
        table = await _loaded(pilot, 60)
        await wait_for(
            pilot,
            lambda: (
                app.workstation.queue.page(None, 1).entries[0].priority > 0
                and table.get_row_at(0)[0] == str(app.workstation.queue.page(None, 1).entries[0].priority)
            ),
        )

        def on_screen(row: int) -> str:
            return table.render_line(row - round(table.scroll_y) + 1).text  # line 0 is the heading

        assert "Prior." in table.render_line(0).text
        await pilot.press("down", "down", "down")
        assert table.cursor_row == 3 and table.get_row_at(3)[1][:15] in on_screen(3)
        await pilot.press("end")
        assert table.cursor_row == 59 and table.scroll_y > 0  # scrolled to keep the cursor in sight
        assert table.get_row_at(59)[1][:15] in on_screen(59)
        assert "Prior." in table.render_line(0).text  # the heading stays
        await pilot.press("pageup")
        assert table.cursor_row < 59 and table.scroll_y <= table.cursor_row
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_y == 0
        # A row whose cells change is drawn again (the lines drawn before are not reused).
        entries = list(app.workstation.queue.page(None, 60).entries)
        entries[1] = replace(entries[1], customer_name="Nombre Cambiado")
        table.replace_entries(entries)
        assert "Nombre Cambiado" in on_screen(1)
        # A click moves the cursor; a click on the highlighted row opens the account.
        await pilot.click(table, offset=(10, 3))
        assert table.cursor_row == 2
        chosen = table.cursor_key
        await pilot.click(table, offset=(10, 3))
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen) and app.screen.account_id == chosen)


async def test_ctrl_q_quits(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy, accounts=5)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot, 5)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_the_footer_speaks_the_interface_language(
    tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COBRO_LANG", "en")
    app = demo_app(tmp_path, policy, accounts=5)
    async with app.run_test(size=(100, 24)) as pilot:
        await _loaded(pilot, 5)
        quit_binding = app.screen.active_bindings["ctrl+q"].binding
        assert quit_binding.description == "Quit"
        assert "Queue of agente01" in str(app.screen.query_one("#queue-heading", Static).render())


async def test_a_filter_narrows_the_queue_and_says_so(tmp_path: Path, policy: Policy) -> None:
    from textual.widgets import Select

    from cobro_tui.ui.screens.filter_form import FilterForm

    app = demo_app(tmp_path, policy, accounts=120)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _loaded(pilot, 100)
        bucket = table.get_row_at(0)[4]
        code = next(b.code for b in policy.buckets.buckets if b.label("es") == bucket or b.code == bucket)
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, FilterForm))
        app.screen.query_one("#filter-bucket", Select).value = code
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FilterForm))  # the form gone, the queue on top
        queue = top(app, QueueScreen)
        heading = queue.query_one("#queue-heading", Static)
        await wait_for(pilot, lambda: "filtro:" in str(heading.render()) and table.row_count > 0)
        assert {table.get_row_at(i)[4] for i in range(table.row_count)} == {bucket}
        expected = app.workstation.queue.page(None, 500, queue.chosen).total
        assert f"{table.row_count} de {expected} cuentas" in str(heading.render())
        assert expected < 120
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, FilterForm))
        await pilot.click("#filter-clear")
        await wait_for(pilot, lambda: "filtro:" not in str(heading.render()) and table.row_count == 120)


async def test_the_palette_finds_accounts_by_name_number_or_phone_and_offers_the_screens_actions(
    tmp_path: Path, policy: Policy
) -> None:
    from textual.command import CommandList, CommandPalette

    from cobro_tui.ui.screens.account import AccountScreen

    app = demo_app(tmp_path, policy, accounts=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot, 60)
        first = app.workstation.queue.page(None, 1).entries[0]
        view = app.workstation.accounts.open(first.account_id)
        phone = next(p.value for p in view.file.contact_points if p.kind.value == "mobile")
        for query in (first.customer_name.split()[1], view.file.account.number[-4:], phone[-7:]):
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*query)
            options = app.screen.query_one(CommandList)
            await wait_for(
                pilot,
                lambda options=options: any(
                    first.account_last4 in str(options.get_option_at_index(i).prompt)
                    for i in range(options.option_count)
                ),
            )
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Siguiente")
        options = app.screen.query_one(CommandList)
        await wait_for(
            pilot, lambda: options.option_count > 0 and "Siguiente cuenta" in str(options.get_option_at_index(0).prompt)
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))


async def test_the_account_screen_is_made_ahead_and_the_collector_waits_for_quiet(
    tmp_path: Path, policy: Policy
) -> None:
    import gc

    from cobro_tui.ui.screens.account import AccountScreen
    from cobro_tui.ui.screens.queue import QueueScreen

    before = gc.get_threshold()
    assert before[2] < 1_000_000, "an earlier app left the collector's threshold raised"
    app = demo_app(tmp_path, policy, accounts=30)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _loaded(pilot, 30)
        await wait_for(pilot, lambda: gc.get_threshold()[2] == 1_000_000)  # 2 s after start
        await wait_for(pilot, lambda: "account" in app._installed_screens)  # 1 s after start
        prepared = app.get_screen("account")
        assert isinstance(prepared, AccountScreen) and prepared.view is None
        assert isinstance(app.screen, QueueScreen) and app.focused is table  # made unseen; the queue keeps the keys
        await pilot.press("down")
        assert table.cursor_row == 1
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.screen is prepared and prepared.view is not None)
    assert gc.get_threshold() == before  # the process gets its collector back


async def test_a_failed_worker_tells_the_agent_and_leaves_a_crash_report(
    tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cobro_tui.logs import start_workstation_log
    from cobro_tui.ui.screens.queue import QueueScreen

    start_workstation_log()  # COBRO_LOG_DIR: tmp_path / "logs" (conftest)
    app = demo_app(tmp_path, policy, accounts=30)

    def broken(self: object, account_id: str) -> None:
        raise RuntimeError("a bug in opening an account")

    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot, 30)
        monkeypatch.setattr(type(app.workstation.accounts), "open", broken)  # a frozen service: its class
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("Algo falló" in n.message for n in app._notifications))
        assert isinstance(app.screen, QueueScreen)  # the app goes on
        await pilot.press("escape")
    reports = list((tmp_path / "logs").rglob("crash.log"))
    assert len(reports) == 1 and "a bug in opening an account" in reports[0].read_text()
    assert oct(reports[0].stat().st_mode & 0o777) == "0o600"
    log = (tmp_path / "logs" / "cobro-tui.log").read_text()
    assert "ERROR ui: worker" in log and log.rstrip().endswith("(RuntimeError)")  # one line: the type, not its words
    assert "Traceback" not in log and oct((tmp_path / "logs" / "cobro-tui.log").stat().st_mode & 0o777) == "0o600"
