"""Escape sequences in a customer's data never reach the terminal as controls (issue #14, item 9).

A name, an address, a note or a result text carrying ESC sequences (clear the screen, retitle the
window, change colours), a bell, bidirectional overrides or Rich markup: removed where the text
enters (the server's answers, snapshot pages, policy files, what the agent types), and drawn as
visible symbols wherever an older cache still holds them.
"""

from __future__ import annotations

import io
import json
import secrets
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from conftest import NOW
from portfolio_fixtures import fill
from sync_support import make_station, running_server
from ui_support import wait_for

from cobro_tui.bootstrap import build_app, build_workstation
from cobro_tui.clock import FixedClock
from cobro_tui.domain.text import cleaned_json_text, shown, without_controls
from cobro_tui.policy import Policy
from cobro_tui.settings import load_settings
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.ui.widgets.queue_table import QueueTable

PAYLOAD = "\x1b[2J\x1b]0;pwned\x07\x1b[31mZapata\x1b[0m \u202eXavier\u202c \x9b6n[@click=app.quit]ya[/]"
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c")


def no_controls(text: str) -> bool:
    return not any(control in text for control in CONTROLS)


def test_the_sanitizer_removes_or_shows_every_control_and_keeps_the_words() -> None:
    assert without_controls(PAYLOAD) == "[2J]0;pwned[31mZapata[0m Xavier 6n[@click=app.quit]ya[/]"
    visible = shown(PAYLOAD)
    assert no_controls(visible) and "␛[2J" in visible and "␇" in visible and "Zapata" in visible
    assert shown("Ana María\tNote\nline") == "Ana María\tNote\nline"  # tab and newline are text
    page = json.dumps({"entities": [{"data": {"full_name": PAYLOAD}}], "cursor": "c"})
    assert no_controls(json.loads(cleaned_json_text(page))["entities"][0]["data"]["full_name"])
    clean = json.dumps({"entities": [{"data": {"full_name": "Ana"}}], "cursor": "c"})
    assert cleaned_json_text(clean) is clean  # the usual page is not decoded twice


def test_what_the_server_sends_is_cleaned_before_the_cache_keeps_it(tmp_path: Path, policy: Policy) -> None:
    clock = FixedClock(NOW)
    with running_server(tmp_path, 60, 5) as (server, thread):
        with server.begin() as conn:
            rows = conn.exec_driver_sql("SELECT id, data FROM entities WHERE kind = 'customer'").all()
            for entity_id, data in rows:
                value = json.loads(data)
                value["full_name"] = PAYLOAD
                conn.exec_driver_sql(
                    "UPDATE entities SET data = ? WHERE kind = 'customer' AND id = ?", (json.dumps(value), entity_id)
                )
        station = make_station(tmp_path, "safe", thread.url, "agente01", clock, policy)
        assert station.round().ok
        with station.cache.connect() as conn:
            names = [row[0] for row in conn.exec_driver_sql("SELECT full_name FROM customer")]
        assert names and all(no_controls(name) and "Zapata" in name for name in names)
        station.cache.dispose()


def screen_svg(app) -> str:
    """What the screen shows, as text (the screenshot's text runs, unescaped)."""
    import html
    import re

    return html.unescape(" ".join(re.findall(r">([^<>]+)</text>", app.export_screenshot()))).replace("\xa0", " ")


@pytest.fixture
def dirty_app(tmp_path: Path, policy: Policy):
    """The workstation on a cache that already holds escape payloads (written before this version)."""
    cache = CacheFile(tmp_path / "dirty.db", secrets.token_bytes(32))
    engine = cache.open()
    upgrade(engine)
    fill(cache, policy, accounts=30, seed=3)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE customer SET full_name = ?", (PAYLOAD,))
        conn.exec_driver_sql("UPDATE contact_point SET value = value || ?", ("\x1b]0;title\x07",))
    settings = load_settings()
    clock = FixedClock(NOW)
    app = build_app(settings, clock, build_workstation(engine, settings, clock, policy, "agente01", "demo"))
    yield app, engine
    engine.dispose()


async def test_the_queue_the_account_and_the_palette_draw_controls_as_symbols(dirty_app) -> None:
    app, _ = dirty_app
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.query(QueueTable) and app.screen.query_one(QueueTable).row_count > 0)
        table = app.screen.query_one(QueueTable)
        cell = table.get_row_at(0)[1] if hasattr(table, "get_row_at") else ""
        assert no_controls(str(cell)) and "␛" in str(cell)
        queue = screen_svg(app)
        assert no_controls(queue) and "␛[2J" in queue
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AccountScreen")
        await pilot.pause(0.2)
        account = screen_svg(app)
        assert no_controls(account) and "Zapata" in account
        assert app.is_running  # the [@click=app.quit] markup did not become an action
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Zapata")
        await pilot.pause(1.0)
        palette = screen_svg(app)
        assert "␛[2J" in palette and no_controls(palette)
        # Closed before the app ends: an app that ends with the palette open skips its on_unmount
        # and leaves the collector's threshold raised for the next test (see the issue note).
        await pilot.press("escape")
        await pilot.pause()


def test_rules_explain_prints_controls_as_symbols(tmp_path: Path, policy: Policy) -> None:
    from cobro_tui import cli
    from cobro_tui.bootstrap import cache_path, open_user_cache
    from cobro_tui.store.device import ensure_device

    settings = load_settings()
    store, engine = open_user_cache(settings, create=True)
    ensure_device(engine, "agente01")
    key = store.cache_key(cache_path(settings), create=False)
    assert key is not None
    fill(CacheFile(cache_path(settings), key), policy, accounts=10, seed=3)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE contact_point SET value = value || ?", ("\x1b]0;title\x07",))
        account_id = conn.exec_driver_sql("SELECT id FROM account LIMIT 1").scalar_one()
    engine.dispose()
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["rules", "explain", account_id, "--at", "2026-11-22T10:30-06:00"]) == 0
    assert out.getvalue() and no_controls(out.getvalue())


def test_every_json_answer_is_cleaned_by_the_client_before_anyone_reads_it(tmp_path: Path) -> None:
    """A server (or whatever answers on its address) that sends escape codes in a change page or a
    problem's message: the workstation reads them without the controls."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cobro_tui.sync.client import ApiClient, Refused

    class Hostile(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = 200 if self.path.startswith("/v1/changes") else 409
            body = (
                {"changes": [{"data": {"full_name": PAYLOAD}}], "cursor": "c"}
                if status == 200
                else {"code": "X", "message": PAYLOAD, "details": {}}
            )
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = ApiClient(f"http://127.0.0.1:{server.server_port}", "t", "d", timeout=5)
        page = api.changes(None)
        assert (
            no_controls(page["changes"][0]["data"]["full_name"]) and "Zapata" in page["changes"][0]["data"]["full_name"]
        )
        with pytest.raises(Refused) as refused:
            api.audit_device("d")
        assert no_controls(refused.value.message) and "Zapata" in refused.value.message
        api.close()
    finally:
        server.shutdown()
