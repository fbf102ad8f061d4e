"""The idle lock and the new sign-in, in the real app: nothing of a debtor shows while locked, the
password opens it offline, five wrong ones sign the user out, and a token the server refused asks
for a new sign-in before anything shows again; the outbox is untouched throughout."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import NOW
from portfolio_fixtures import fill
from sync_support import make_station, running_server
from textual.widgets import Input
from ui_support import top, wait_for

from cobro_tui.bootstrap import build_app, build_workstation, session_guard
from cobro_tui.clock import FixedClock
from cobro_tui.credentials import KeyringKeyStore, MissingToken
from cobro_tui.domain.models import Channel
from cobro_tui.policy import Policy
from cobro_tui.settings import load_settings
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.ui.lock import EXPIRED, IDLE, LockScreen
from cobro_tui.ui.screens.account import AccountScreen
from cobro_tui.ui.widgets.queue_table import QueueTable

TRUSTED = ("support.keyrings.MemoryKeyring",)
SERVER = "https://cobro.example.mx"


class Idle:
    """The idle clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def screen_text(app) -> str:
    """Everything the terminal shows now (the SVG screenshot's text)."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(" ".join(re.findall(r">([^<>]+)</text>", svg))).replace("\xa0", " ")


def names_in_queue(app) -> list[str]:
    table = app.screen.query_one(QueueTable)
    return [str(table.get_row_at(row)[0]).split()[-1] for row in range(min(5, table.row_count))]


async def type_password(pilot, text: str) -> None:
    field = pilot.app.screen.query_one("#lock-password", Input)
    await wait_for(pilot, lambda: not field.disabled)
    field.value = text
    await pilot.press("enter")
    await wait_for(
        pilot, lambda: not isinstance(pilot.app.screen, LockScreen) or not field.disabled or pilot.app._exit_renderables
    )


def offline_app(tmp_path: Path, policy: Policy):
    """agente01's workstation on a generated cache, its session kept in the (test) keyring."""
    cache = CacheFile(tmp_path / "lock-cache.db", secrets.token_bytes(32))
    engine = cache.open()
    upgrade(engine)
    fill(cache, policy, accounts=40, seed=7)
    store = KeyringKeyStore(TRUSTED)
    store.save_session(SERVER, "agente01", "a-token", "correct horse")
    settings = load_settings()
    clock = FixedClock(NOW)
    guard = session_guard(settings, SERVER, "agente01", store)
    app = build_app(settings, clock, build_workstation(engine, settings, clock, policy, "agente01", "demo"), guard)
    idle = Idle()
    app.idle_clock = idle
    return app, idle, store, engine


async def test_idle_time_locks_every_screen_without_personal_data_and_the_password_opens_it_offline(
    tmp_path: Path, policy: Policy
) -> None:
    app, idle, _store, engine = offline_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.query(QueueTable) and app.screen.query_one(QueueTable).row_count > 0)
        names = names_in_queue(app)
        assert len(names) == 5 and all(len(name) > 2 for name in names)
        assert all(name in screen_text(app) for name in names)
        idle.now += 9 * 60
        app.check_idle()
        assert not app.locked  # 9 of the 10 minutes
        idle.now += 61
        app.check_idle()
        await pilot.pause()
        assert isinstance(app.screen, LockScreen) and app.screen.mode == IDLE
        shown = screen_text(app)
        assert "Sesión bloqueada: agente01" in shown
        assert not [name for name in names if name in shown], shown
        app.action_command_palette()  # the palette would search accounts
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)

        await type_password(pilot, "wrong")
        assert "Quedan 4 intento(s)" in screen_text(app)
        await type_password(pilot, "correct horse")
        await wait_for(pilot, lambda: not isinstance(app.screen, LockScreen))
        assert all(name in screen_text(app) for name in names)

        # The account screen is covered the same way.
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "account" or type(app.screen).__name__ == "AccountScreen")
        heading = screen_text(app)
        account = top(app, AccountScreen)
        account.revealed = True  # the agent had revealed the customer's data (v, with a reason)
        account._fill()
        idle.now += 11 * 60
        app.check_idle()
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert not [name for name in names if name in screen_text(app) and name in heading]
        await pilot.resize_terminal(80, 24)  # a smaller window: the lock is drawn again, whole
        await pilot.pause()
        box = app.screen.query_one("#lock-box").region
        assert box.right <= 80 and box.bottom <= 24, box
        await type_password(pilot, "correct horse")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AccountScreen")
        assert not account.revealed  # masked again: a new reason reveals it
    engine.dispose()


async def test_five_wrong_passwords_sign_the_user_out_and_keep_what_was_recorded(
    tmp_path: Path, policy: Policy
) -> None:
    app, idle, store, engine = offline_app(tmp_path, policy)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen.query(QueueTable) and app.screen.query_one(QueueTable).row_count > 0)
        with engine.connect() as conn:
            account_id, customer_id = conn.exec_driver_sql("SELECT id, customer_id FROM account LIMIT 1").one()
        app.workstation.contacts.log(
            account_id=account_id,
            customer_id=customer_id,
            channel=Channel.VOICE,
            result_code="NC",
            started_at=NOW - timedelta(minutes=3),
        )
        with engine.connect() as conn:
            waiting = conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one()
        assert waiting >= 1
        idle.now += 15 * 60
        app.check_idle()
        await pilot.pause()
        for left in (4, 3, 2, 1):
            await type_password(pilot, f"guess {left}")
            assert f"Quedan {left} intento(s)" in screen_text(app)
        await type_password(pilot, "guess 0")
        await wait_for(pilot, lambda: app.return_code == 5)
    with pytest.raises(MissingToken):
        store.load_token(SERVER, "agente01")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one() == waiting
    engine.dispose()


async def test_a_token_the_server_refused_asks_for_a_new_sign_in_and_the_outbox_waits_for_it(
    tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COBRO_SYNC__INTERVAL_SECONDS", "3600")
    clock = FixedClock(NOW)
    with running_server(tmp_path, 120, 4) as (_, thread):
        station = make_station(tmp_path, "lock", thread.url, "agente01", clock, policy, timeout=3)
        assert station.round().ok
        store = KeyringKeyStore(TRUSTED)
        settings = load_settings()
        guard = session_guard(settings, thread.url, "agente01", store)
        guard.on_token.append(station.sync.api.use_token)
        old_token = station.sync.api.http.headers["Authorization"].removeprefix("Bearer ")
        store.save_session(thread.url, "agente01", old_token, "demo")
        workstation = build_workstation(station.cache, settings, clock, policy, "agente01", "live").syncing(
            station.sync, 3600
        )
        app = build_app(settings, clock, workstation, guard)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(
                pilot, lambda: app.screen.query(QueueTable) and app.screen.query_one(QueueTable).row_count > 0
            )
            names = names_in_queue(app)
            # A manager disables and enables the user meanwhile (or the token expired): it is dead.
            assert (
                httpx.post(f"{thread.url}/v1/auth/logout", headers={"Authorization": f"Bearer {old_token}"}).status_code
                == 204
            )
            account = station.accounts()[0]
            station.log_contact(account)
            app.request_sync()
            await wait_for(pilot, lambda: isinstance(app.screen, LockScreen))
            assert top(app, LockScreen).mode == EXPIRED
            await pilot.pause(0.1)
            shown = screen_text(app)
            assert "Inicie sesión de nuevo: agente01" in shown
            assert not [name for name in names if name in shown]
            with pytest.raises(MissingToken):
                store.load_token(thread.url, "agente01")  # the dead token is not kept
            with station.cache.connect() as conn:
                assert conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE state = 'pending'").scalar_one() >= 1
            await type_password(pilot, "nope")
            assert "Quedan 4 intento(s)" in screen_text(app)
            await type_password(pilot, "demo")
            await wait_for(pilot, lambda: not isinstance(app.screen, LockScreen))
            new_token = store.load_token(thread.url, "agente01")
            assert new_token != old_token
            with station.cache.connect() as conn:
                await wait_for(
                    pilot,
                    lambda: (
                        conn.exec_driver_sql(
                            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'inflight')"
                        ).scalar_one()
                        == 0
                    ),
                )
        station.cache.dispose()
