"""A full disk is said where the action was taken: the wrap-up line in the real app keeps what was
typed and what was recorded before, and `cobro-tui sync` exits 74 with words, not a crash report.

The full disk is SQLite's own limit (`PRAGMA max_page_count` at the cache's size so far), which
gives the same SQLITE_FULL "database or disk is full" as a disk with no room left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from sqlalchemy import Engine, event
from sqlcipher3 import dbapi2 as sqlcipher
from support.keyrings import FileKeyring
from sync_support import running_server
from test_sync_cli import run
from textual.widgets import Input
from ui_support import demo_app, top, wait_for

from cobro_tui import cli
from cobro_tui.policy import Policy
from cobro_tui.ui.screens.account import AccountScreen
from cobro_tui.ui.widgets.queue_table import QueueTable


def _no_room(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlcipher.Connection):  # the caches only, never a server's database
        dbapi_connection.execute("PRAGMA max_page_count = 1")  # it cannot shrink: the size so far


@pytest.fixture
def full_disk() -> Iterator[None]:
    """From now on no cache may grow by a page."""
    event.listen(Engine, "connect", _no_room)
    yield
    event.remove(Engine, "connect", _no_room)


def _outbox(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT mutation_id, name FROM outbox ORDER BY client_seq")]


async def test_a_wrap_up_line_on_a_full_disk_says_so_and_keeps_what_was_there(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy, accounts=30)
    engine = app.workstation.contacts.engine
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(QueueTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen) and app.screen.view is not None)
        screen = top(app, AccountScreen)
        await pilot.press("colon")
        for key in "g nc":
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(_outbox(engine)) == 1)  # recorded while there was room
        before = _outbox(engine)

        # No free page left in the file, then no page more.
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("VACUUM")
        finally:
            raw.close()
        event.listen(engine, "connect", _no_room)
        engine.dispose()
        try:
            await wait_for(pilot, lambda: screen.view is not None)
            await pilot.press("colon")
            line = screen.query_one("#wrapup", Input)
            # Long notes (under their 4,000-character limit): the row needs a page more, which there is not.
            typed = "g nc " + "no contesta, buzón lleno; " * 150
            line.value = typed
            await pilot.press("enter")
            await wait_for(pilot, lambda: any("Disco lleno" in str(n.message) for n in app._notifications))
            said = next(str(n.message) for n in app._notifications if "Disco lleno" in str(n.message))
            assert said.startswith("Disco lleno: no se guardó nada; libere espacio en ")
            assert str(tmp_path) in said  # where the cache lives
            assert not any("Algo falló" in str(n.message) for n in app._notifications)  # not a crash report
            assert line.value == typed  # what was typed stays, to save again
        finally:
            event.remove(engine, "connect", _no_room)
            engine.dispose()
        assert _outbox(engine) == before  # nothing half-saved, nothing lost


def test_sync_on_a_full_disk_exits_74_with_words_not_a_crash_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COBRO_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    keyring.set_keyring(FileKeyring())
    with running_server(tmp_path, accounts=40, seed=7) as (_server, thread):
        login = run(tmp_path, "login", "--server", thread.url, "--user", "agente01", "--password-stdin", stdin="demo\n")
        assert login.returncode == 0, login.stderr
        event.listen(Engine, "connect", _no_room)  # the first snapshot cannot be written
        try:
            code = cli.main(["sync"])
        finally:
            event.remove(Engine, "connect", _no_room)
        said = capsys.readouterr().err
        assert code == 74, said
        assert f"Disco lleno: no se guardó nada; libere espacio en {tmp_path / 'data'}" in said
        assert "unexpected error" not in said and "crash" not in said
        assert not list((tmp_path / "logs").glob("crash*"))
        assert cli.main(["sync"]) == 0  # room again: the same round goes through
