"""The audit log is append-only and hash-chained; verification finds the first broken link."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError

from cobro_tui.clock import FixedClock
from cobro_tui.domain.audit import (
    GENESIS,
    NotCanonical,
    StoredEvent,
    canonical_json,
    event_body,
    link_hash,
    verify_chain,
)
from cobro_tui.store.audit_log import append_event, verify
from cobro_tui.store.engine import CacheFile, write_connection


def _chain(n: int) -> list[StoredEvent]:
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        body = event_body(
            seq=seq,
            prev=prev,
            ts=f"2026-11-22T16:{seq:02d}:00+00:00",
            type="contact.logged",
            actor="agente01",
            device="d1",
            data={"n": seq},
        )
        event = StoredEvent(seq, body, link_hash(body))
        events.append(event)
        prev = event.hash
    return events


def test_canonical_json_is_one_form_and_refuses_floats() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'
    with pytest.raises(NotCanonical, match=r"data\.amount is a float"):
        canonical_json({"amount": 1.5})
    with pytest.raises(NotCanonical):
        canonical_json({1: "x"})


def test_an_intact_chain_verifies() -> None:
    report = verify_chain(_chain(20))
    assert report.intact and report.events == 20 and report.head == _chain(20)[-1].hash


def test_an_edited_event_is_found() -> None:
    events = _chain(10)
    body = json.loads(events[4].body)
    body["data"]["n"] = 999
    events[4] = StoredEvent(5, canonical_json(body), events[4].hash)
    report = verify_chain(events)
    assert report.broken_at == 5 and "edited" in report.reason


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    events = _chain(10)
    body = json.loads(events[4].body)
    body["data"]["n"] = 999
    forged = canonical_json(body)
    events[4] = StoredEvent(5, forged, link_hash(forged))
    report = verify_chain(events)
    assert report.broken_at == 6 and "does not link" in report.reason


def test_a_deleted_event_is_found() -> None:
    events = _chain(10)
    del events[3]
    report = verify_chain(events)
    assert report.broken_at == 5 and "missing" in report.reason


def test_reordered_events_are_found() -> None:
    events = _chain(6)
    events[2], events[3] = events[3], events[2]
    assert not verify_chain(events).intact


@given(st.integers(min_value=1, max_value=30), st.data())
def test_any_single_byte_change_is_detected(n: int, data: st.DataObject) -> None:
    events = _chain(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    body = events[index].body
    pos = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    changed = body[:pos] + ("X" if body[pos] != "X" else "Y") + body[pos + 1 :]
    events[index] = StoredEvent(events[index].seq, changed, events[index].hash)
    assert verify_chain(events).broken_at == index + 1


def test_the_cache_refuses_to_edit_or_delete_audit_events(cache_file: CacheFile, clock: FixedClock) -> None:
    engine = cache_file.open()
    with write_connection(engine) as conn:
        for n in range(3):
            append_event(conn, at=clock.now() + timedelta(seconds=n), type="test", actor="a", device="d", data={"n": n})
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_event SET body = 'x' WHERE seq = 2")
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_event WHERE seq = 3")
    assert verify(engine).intact and verify(engine).events == 3
    # Someone with the key drops the guard and edits: the chain shows it.
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        conn.exec_driver_sql("UPDATE audit_event SET body = replace(body, '\"n\":1', '\"n\":7') WHERE seq = 2")
    report = verify(engine)
    assert report.broken_at == 2
    engine.dispose()
