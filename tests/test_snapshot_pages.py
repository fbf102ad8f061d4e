"""Snapshot pages are read by SQLite itself (no record passes through Python); change pages go
through Python. Both must leave exactly the same rows, and a page that is not what the protocol
promises must be refused with a sentence, leaving the cache as it was."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from cobro_tui.demo.portfolio import PortfolioSpec, generate_chunk
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import Channel, ContactAttempt, Direction, Note
from cobro_tui.domain.records import to_record
from cobro_tui.server.seed import bundle_docs
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.store.rows import KNOWN_KINDS
from cobro_tui.store.sync_store import (
    PageUnreadable,
    apply_changes,
    decode_snapshot_page,
    write_snapshot_page,
)

TABLES = (
    "customer",
    "contact_point",
    "restriction",
    "account",
    "reference",
    "payment",
    "promise",
    "payment_plan",
    "plan_installment",
    "contact_attempt",
    "bucket_history",
    "note",
)


def _records(policy, clock) -> list[dict[str, Any]]:
    """A generated portfolio as wire records, plus the kinds the generator does not make."""
    bundles = generate_chunk(PortfolioSpec(accounts=300, seed=11, as_of=clock.now(), buckets=policy.buckets), 0)
    out = [
        {"seq": 0, "entity": kind, "op": "upsert", "id": entity_id, "version": version, "data": json.loads(data)}
        for bundle in bundles
        for kind, entity_id, _, _, _, version, data in bundle_docs(bundle)
    ]
    account = next(r["data"] for r in out if r["entity"] == "account")
    extra: list[ContactAttempt | Note] = [
        ContactAttempt(
            id=new_id(),
            account_id=account["id"],
            customer_id=account["customer_id"],
            contact_point_id=None,
            channel=Channel.VOICE,
            direction=Direction.OUTBOUND,
            started_at=clock.now(),
            ended_at=clock.now() + timedelta(minutes=3),
            result_code="PTP",
            agent="agente01",
            problem_code="desempleo",
            circumstance="Perdió el empleo en octubre",
            resolution="Promesa",
            notes="Pagará el día 15 — «sin falta»",
            script_steps=("identificacion", "aviso_privacidad"),
        ),
        Note(
            id=new_id(),
            account_id=account["id"],
            author="agente01",
            created_at=clock.now(),
            text="Llamar después de las 6",
        ),
    ]
    out += [
        {"seq": 0, "entity": kind, "op": "upsert", "id": e.id, "version": 3, "data": to_record(e)}
        for kind, e in zip(("contact_attempt", "note"), extra)
    ]
    return out


def _page(records: list[dict[str, Any]], **overrides: Any) -> str:
    body = {
        "server_time": "2026-11-22T16:30:00Z",
        "server_epoch": "e1",
        "entities": records,
        "next_page": None,
        "cursor": "e1.1",
        **overrides,
    }
    return json.dumps(body, ensure_ascii=False)


def _contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1, 2")] for t in TABLES}


def _fresh(tmp_path, name: str) -> Engine:
    engine = CacheFile(tmp_path / f"{name}.db", bytes(range(32))).open()
    upgrade(engine)
    return engine


def test_snapshot_pages_and_change_pages_leave_the_same_rows(tmp_path, policy, clock) -> None:
    records = _records(policy, clock)
    assert {r["entity"] for r in records} == KNOWN_KINDS, "the sample must hold every kind"
    by_changes, by_snapshot = _fresh(tmp_path, "changes"), _fresh(tmp_path, "snapshot")
    apply_changes(by_changes, records, "e1.1")
    written = write_snapshot_page(by_snapshot, decode_snapshot_page(by_snapshot, _page(records)))
    assert written.entities == len(records)
    assert sorted(written.accounts) == sorted(r["id"] for r in records if r["entity"] == "account")
    expected, got = _contents(by_changes), _contents(by_snapshot)
    assert all(expected[t] for t in TABLES), "every table must have rows to compare"
    assert got == expected


def test_a_snapshot_page_keeps_local_rows_the_server_has_not_answered(tmp_path, policy, clock) -> None:
    records = [r for r in _records(policy, clock) if r["entity"] != "note"]
    note = next(r for r in _records(policy, clock) if r["entity"] == "note")
    cache = _fresh(tmp_path, "cache")
    write_snapshot_page(cache, decode_snapshot_page(cache, _page(records)))
    # A rejected local note stays as the agent saw it, even when an older server copy comes again.
    with cache.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO note (id, account_id, author, created_at, text, sync_state, server_version) "
            "VALUES (?, ?, 'agente01', '2026-11-22T16:30:00.000000+00:00', 'texto local', 'rejected', 0)",
            (note["id"], note["data"]["account_id"]),
        )
    write_snapshot_page(cache, decode_snapshot_page(cache, _page([note])))
    with cache.connect() as conn:
        state = conn.exec_driver_sql("SELECT sync_state FROM note WHERE id = ?", (note["id"],)).scalar_one()
    assert state == "rejected"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"entities": [{"entity": "account", "op": "ups', "cut or garbled"),
        (_page([]).replace('"cursor": "e1.1"', '"cursor": null'), "no cursor"),
    ],
)
def test_a_page_that_cannot_be_read_is_refused_when_decoded(tmp_path, text: str, says: str) -> None:
    cache = _fresh(tmp_path, "cache")
    with pytest.raises(PageUnreadable, match=says):
        decode_snapshot_page(cache, text)


def test_a_page_from_another_version_is_refused_and_changes_nothing(tmp_path, policy, clock) -> None:
    records = _records(policy, clock)
    cache = _fresh(tmp_path, "cache")
    before = _contents(cache)
    unknown = [*records[:5], {"seq": 0, "entity": "lawsuit", "op": "upsert", "id": "x", "version": 1, "data": {}}]
    lacking = [
        dict(r, data={k: v for k, v in r["data"].items() if k != "dpd"}) if r["entity"] == "account" else r
        for r in records
    ]
    deleting = [*records[:5], {**records[5], "op": "delete"}]
    for page, says in ((unknown, "does not know"), (lacking, "lacks fields"), (deleting, "not a plain upsert")):
        with pytest.raises(PageUnreadable, match=says):
            write_snapshot_page(cache, decode_snapshot_page(cache, _page(page)))
        assert _contents(cache) == before
