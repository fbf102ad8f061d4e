"""The export's cursor contract and its guard, tried as the CRM and as an attacker with valid tokens:
pages resume exactly once (never an event twice, never one missed, also while the floor writes),
every role but an integration credential with the export scope is refused, and a forged or garbage
cursor, a huge limit or an instant without its offset is a clear 422, never a 500."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import NOW
from export_support import export_headers, read_all
from sync_support import auth_headers, integration_headers, make_station, push_commands, running_server

from cobro_tui.clock import FixedClock
from cobro_tui.domain.ids import new_id
from cobro_tui.policy import Policy
from cobro_tui.server.export import make_cursor
from cobro_tui.server.feed import head_seq, server_epoch


@pytest.fixture
def server(tmp_path: Path):
    with running_server(tmp_path, accounts=40, seed=11) as running:
        yield running


def _notes(station, engine, account_id: str, n: int) -> None:
    for start in range(0, n, 50):
        batch = [
            ("note.add@1", {"id": new_id(), "account_id": account_id, "text": f"nota {i}"})
            for i in range(start, min(n, start + 50))
        ]
        assert {v["status"] for v in push_commands(station, engine, *batch)} == {"applied"}


def test_pages_resume_exactly_once_while_the_floor_writes(
    tmp_path: Path, server, clock: FixedClock, policy: Policy
) -> None:
    engine, thread = server
    url, crm = thread.url, export_headers(thread.url)
    station = make_station(tmp_path, "agent", url, "agente01", clock, policy)
    assert station.round().ok
    account_id = station.accounts()[0][0]
    _, start = read_all(url, crm)
    _notes(station, engine, account_id, 120)
    # A reader on small pages, while another workstation keeps writing in another thread.
    other = make_station(tmp_path, "other", url, "agente02", clock, policy)
    assert other.round().ok
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        while not stop.is_set() and len(written) < 40:
            _notes(other, engine, other.accounts()[0][0], 3)
            written.append(3)

    writer = threading.Thread(target=write)
    writer.start()
    seen: list[int] = []
    cursor = start
    try:
        for _ in range(400):
            page = httpx.get(f"{url}/v1/export/events", params={"cursor": cursor, "limit": 7}, headers=crm).json()
            seen += [e["seq"] for e in page["events"]]
            assert len(page["events"]) <= 7
            cursor = page["next_cursor"]
            if not page["has_more"] and len(seen) >= 120 and not writer.is_alive():
                break
    finally:
        stop.set()
        writer.join()
    rest, _ = read_all(url, crm, cursor=cursor, limit=5)
    seen += [e["seq"] for e in rest]
    everything, last = read_all(url, crm, cursor=start)
    assert seen == [e["seq"] for e in everything]  # in order, none twice, none missed
    assert len(seen) == 120 + sum(written)
    # The last cursor gives nothing more, and again nothing: resuming is exactly once.
    assert read_all(url, crm, cursor=last) == ([], last)
    # A page's next cursor equals what reading one by one gives.
    one_by_one, _ = read_all(url, crm, cursor=start, limit=1)
    assert [e["seq"] for e in one_by_one] == seen


def test_since_starts_at_the_first_event_recorded_at_or_after_it(tmp_path: Path, clock, policy: Policy) -> None:
    from cobro_tui.server.run import ServerThread

    with running_server(tmp_path, accounts=40, seed=11) as (engine, thread):
        station = make_station(tmp_path, "agent", thread.url, "agente01", clock, policy)
        assert station.round().ok
        crm = export_headers(thread.url)
        read_all(thread.url, crm)  # the seed's own judging, at NOW
        account_id = station.accounts()[0][0]
        _notes(station, engine, account_id, 2)
        later = NOW + timedelta(hours=2)
        # The same database served by a server whose clock is two hours on.
        with ServerThread(engine, FixedClock(later)) as on:
            later_station = make_station(tmp_path, "later", on.url, "agente01", FixedClock(later), policy)
            assert later_station.round().ok
            push_commands(
                later_station,
                engine,
                ("note.add@1", {"id": new_id(), "account_id": account_id, "text": "después"}),
                at=later,
            )
            crm_later = export_headers(on.url)
            mexico = (later - timedelta(minutes=1)).astimezone(ZoneInfo("America/Mexico_City"))
            events, _ = read_all(on.url, crm_later, since=mexico.isoformat())
            assert [e["data"].get("text") for e in events if e["kind"] == "note.added"] == ["después"]
            everything, _ = read_all(on.url, crm_later, since=(NOW - timedelta(days=1)).isoformat())
            assert [e["data"].get("text") for e in everything if e["kind"] == "note.added"] == [
                "nota 0",
                "nota 1",
                "después",
            ]
            future, cursor = read_all(on.url, crm_later, since=(later + timedelta(days=1)).isoformat())
            assert future == []
            assert read_all(on.url, crm_later, cursor=cursor)[0] == []


def test_only_an_integration_credential_with_the_export_scope_reads_the_export(server) -> None:
    _, thread = server
    url = thread.url
    where = f"{url}/v1/export/events"
    assert httpx.get(where).status_code == 401
    assert httpx.get(where, headers={"Authorization": "Bearer forged"}).status_code == 401
    for person in ("agente01", "supervisor01", "gerente01", "auditor01"):
        refused = httpx.get(where, headers=auth_headers(url, person))
        assert refused.status_code == 403 and refused.json()["code"] == "INTEGRATION_ONLY", person
    for scopes in (("payments",), ("portfolio",), ("payments", "portfolio")):
        refused = httpx.get(where, headers=integration_headers(url, scopes, name="-".join(scopes)))
        assert refused.status_code == 403 and refused.json()["code"] == "SCOPE_MISSING"
    assert httpx.get(where, headers=export_headers(url)).status_code == 200


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_forged_and_garbage_cursors_and_bounds_are_clear_422s(server) -> None:
    engine, thread = server
    url = thread.url
    crm = export_headers(url)
    where = f"{url}/v1/export/events"
    _, good = read_all(url, crm)
    with engine.connect() as conn:
        epoch, head = server_epoch(conn), head_seq(conn)
    honest = good[: len(good) // 2] + ("A" if good[len(good) // 2] != "A" else "B") + good[len(good) // 2 + 1 :]
    forged = {
        "garbage": "CURSOR_INVALID",
        "%00": "CURSOR_INVALID",
        "ñandú": "CURSOR_INVALID",
        "=" * 10: "CURSOR_INVALID",
        honest: "CURSOR_INVALID",  # one character changed
        _b64(f"1:{epoch}:5:deadbeef00"): "CURSOR_INVALID",  # the check does not match
        _b64(f"1:{epoch}:-5:x"): "CURSOR_INVALID",
        _b64(f"1:{epoch}:{'9' * 40}:x"): "CURSOR_INVALID",
        _b64("\x00\xff"): "CURSOR_INVALID",
        make_cursor("e00000000", 3): "CURSOR_OTHER_SERVER",
        make_cursor(epoch, head + 1_000): "CURSOR_AHEAD",
        make_cursor(epoch, 10**17): "CURSOR_AHEAD",
    }
    for cursor, code in forged.items():
        answer = httpx.get(where, params={"cursor": cursor}, headers=crm)
        assert answer.status_code == 422, (cursor, answer.text)
        assert answer.json()["code"] == code and answer.json()["message"], cursor
    too_long = httpx.get(where, params={"cursor": "A" * 5000}, headers=crm)
    assert too_long.status_code == 422 and too_long.json()["code"] == "MALFORMED_REQUEST"
    for limit in ("0", "-1", "5001", "10" * 20, "1e3", "mil"):
        answer = httpx.get(where, params={"limit": limit}, headers=crm)
        assert answer.status_code == 422 and "limit" in answer.json()["message"], limit
    assert httpx.get(where, params={"limit": 5000}, headers=crm).status_code == 200
    for since in ("2026-11-01T00:00:00", "ayer", "2026-13-01T00:00:00Z", "9" * 300):
        answer = httpx.get(where, params={"since": since}, headers=crm)
        assert answer.status_code == 422 and "since" in answer.json()["message"], since
    # A good cursor still works after all that.
    assert httpx.get(where, params={"cursor": good}, headers=crm).json()["events"] == []
