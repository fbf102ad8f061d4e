"""The server decides (issue #14): every command is judged on the server's own state, as an agent with
a valid token and bad intentions would try it. Another agent's records, forged server fields, hostile
text, huge and boundary values: a verdict with its own code or a 422, never a 500, and nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sync_support import NOW, Station, auth_headers, make_station, push_commands, running_server

from cobro_tui.clock import FixedClock
from cobro_tui.domain.ids import new_id
from cobro_tui.policy import Policy
from cobro_tui.server.assign import reassign
from cobro_tui.server.feed import get_doc
from cobro_tui.server.schema import entities, security_events


@pytest.fixture
def server(tmp_path: Path) -> Iterator:
    with running_server(tmp_path, accounts=60, seed=14) as running:
        yield running


@pytest.fixture
def mallory(tmp_path: Path, server, clock: FixedClock, policy: Policy) -> Station:
    """agente01's workstation: a valid token, and intentions of its own."""
    station = make_station(tmp_path, "mallory", server[1].url, "agente01", clock, policy)
    assert station.round().ok
    return station


def _theirs(engine, agent: str = "agente02") -> Any:
    """One of another agent's accounts (id, customer) on the server."""
    with engine.connect() as conn:
        return conn.execute(
            select(entities.c.id, entities.c.customer_id)
            .where(entities.c.kind == "account", entities.c.agent == agent)
            .order_by(entities.c.id)
            .limit(1)
        ).one()


def _contact(account_id: str, customer_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "account_id": account_id,
        "customer_id": customer_id,
        "contact_point_id": None,
        "channel": "voice",
        "direction": "inbound",
        "started_at": (NOW - timedelta(minutes=5)).isoformat(),
        "ended_at": (NOW - timedelta(minutes=2)).isoformat(),
        "result_code": "NC",
        "problem_code": None,
        "circumstance": "",
        "resolution": "",
        "notes": "",
        "script_steps": [],
        **changes,
    }


def _promise(account_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "account_id": account_id,
        "amount": {"centavos": 50_000, "currency": "MXN"},
        "due_on": (NOW.date() + timedelta(days=3)).isoformat(),
        "channel": "spei",
        "created_at": NOW.isoformat(),
        **changes,
    }


def _security(engine) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        return [(r.code, r.actor) for r in conn.execute(select(security_events).order_by(security_events.c.id))]


def _refused(verdict: dict[str, Any], code: str) -> None:
    assert verdict["status"] == "rejected", verdict
    assert verdict["reason"]["code"] == code, verdict


def test_another_agents_promise_cannot_be_cancelled(server, mallory: Station, tmp_path: Path, clock, policy) -> None:
    engine, thread = server
    victim = make_station(tmp_path, "victim", thread.url, "agente02", clock, policy)
    assert victim.round().ok
    promise, _ = victim.promise(victim.accounts()[0][0])
    assert victim.round().ok
    (verdict,) = push_commands(mallory, engine, ("promise.cancel@1", {"promise_id": promise.id}))
    _refused(verdict, "NOT_YOUR_ACCOUNT")
    with engine.connect() as conn:
        assert get_doc(conn, "promise", promise.id).data["status"] == "open"  # type: ignore[union-attr]
    assert ("NOT_YOUR_ACCOUNT", "agente01") in _security(engine)


def test_a_cease_request_on_another_agents_customer_is_refused_and_reaches_no_feed(server, mallory: Station) -> None:
    engine, _ = server
    theirs = _theirs(engine)
    restriction = {
        "id": new_id(),
        "customer_id": theirs.customer_id,
        "kind": "cease",
        "created_at": NOW.isoformat(),
        "contact_point_id": None,
        "channel": None,
        "note": "",
    }
    (verdict,) = push_commands(mallory, engine, ("restriction.request@1", restriction))
    _refused(verdict, "NOT_YOUR_ACCOUNT")
    with engine.connect() as conn:
        assert get_doc(conn, "restriction", restriction["id"]) is None


def test_an_old_cursor_does_not_open_an_account_never_held(server, mallory: Station) -> None:
    engine, _ = server
    theirs = _theirs(engine)
    for name, args in (
        ("promise.create@1", _promise(theirs.id)),
        (
            "plan.propose@1",
            {
                "id": new_id(),
                "account_id": theirs.id,
                "created_at": NOW.isoformat(),
                "down_payment": {"centavos": 10_000, "currency": "MXN"},
                "kind": "plan",
                "installments": [
                    {
                        "number": 1,
                        "due_on": (NOW.date() + timedelta(days=30)).isoformat(),
                        "amount": {"centavos": 10_000, "currency": "MXN"},
                    }
                ],
            },
        ),
    ):
        body = {
            "device_id": mallory.device.device_id,
            "device_epoch": 1,
            "client_time": NOW.isoformat(),
            "mutations": [
                {
                    "mutation_id": new_id(),
                    "client_seq": _next_seq(engine, mallory),
                    "name": name,
                    "args": args,
                    "occurred_at_client": NOW.isoformat(),
                    "observed_cursor": "e0.1",
                }
            ],
        }
        (verdict,) = mallory.sync.api.push(body)["results"]
        _refused(verdict, "NOT_YOUR_ACCOUNT")
        with engine.connect() as conn:
            assert get_doc(conn, "promise" if name.startswith("promise") else "payment_plan", args["id"]) is None


def _next_seq(engine, station: Station) -> int:
    from cobro_tui.server.schema import sync_clients

    with engine.connect() as conn:
        return (
            int(
                conn.execute(
                    select(sync_clients.c.last_client_seq).where(sync_clients.c.device_id == station.device.device_id)
                ).scalar_one()
            )
            + 1
        )


def test_facts_of_an_account_count_only_for_the_time_it_was_held(server, mallory: Station) -> None:
    engine, _ = server
    mine = mallory.accounts()[0]
    reassign(engine, mine[0], "agente02", NOW - timedelta(hours=1))
    before, after = (
        _contact(
            *mine,
            started_at=(NOW - timedelta(hours=2)).isoformat(),
            ended_at=(NOW - timedelta(hours=2) + timedelta(minutes=3)).isoformat(),
        ),
        _contact(*mine),
    )
    held, gone, promise = push_commands(
        mallory, engine, ("contact.log@1", before), ("contact.log@1", after), ("promise.create@1", _promise(mine[0]))
    )
    assert held["status"] == "applied_with_warnings" and held["warnings"][0]["code"] == "ACCOUNT_REASSIGNED"
    _refused(gone, "NOT_YOUR_ACCOUNT")  # made after the account had moved: not theirs to record
    _refused(promise, "ACCOUNT_REASSIGNED")  # an intention needs the account now


@pytest.mark.parametrize(
    "forged",
    [
        {"status": "kept"},
        {"paid": {"centavos": 50_000, "currency": "MXN"}},
        {"created_by": "agente02"},
        {"grace_days": 60},
    ],
)
def test_server_owned_fields_are_refused_and_nothing_is_stored(
    server, mallory: Station, forged: dict[str, object]
) -> None:
    engine, _ = server
    args = _promise(mallory.accounts()[0][0], **forged)
    (verdict,) = push_commands(mallory, engine, ("promise.create@1", args))
    _refused(verdict, "SERVER_OWNED_FIELD")
    assert next(iter(forged)) in verdict["reason"]["message"]
    with engine.connect() as conn:
        assert get_doc(conn, "promise", args["id"]) is None
    assert ("SERVER_OWNED_FIELD", "agente01") in _security(engine)


def test_contacts_out_of_bounds_or_of_other_records_are_refused(server, mallory: Station) -> None:
    engine, _ = server
    account_id, customer_id = mallory.accounts()[0]
    theirs = _theirs(engine)
    with engine.connect() as conn:
        their_point = conn.execute(
            select(entities.c.id).where(
                entities.c.kind == "contact_point", entities.c.customer_id == theirs.customer_id
            )
        ).scalar()
    cases = {
        "INVALID_ARGUMENTS": [
            _contact(account_id, customer_id, started_at="9999-12-31T23:00:00-05:00", ended_at=None),
            _contact(account_id, customer_id, ended_at=(NOW - timedelta(minutes=9)).isoformat()),
            _contact(account_id, customer_id, started_at="2026-11-22T10:00:00"),
            _contact(account_id, customer_id, notes="x" * 4001),
            _contact(account_id, customer_id, channel="fax"),
        ],
        "SERVER_OWNED_FIELD": [_contact(account_id, customer_id, agent="agente02")],
        "INSTANT_OUT_OF_RANGE": [
            _contact(account_id, customer_id, started_at="2100-01-01T00:00:00+00:00", ended_at=None),
            _contact(account_id, customer_id, started_at=(NOW - timedelta(days=400)).isoformat(), ended_at=None),
        ],
        "UNKNOWN_CODE": [
            _contact(account_id, customer_id, result_code="ZZ"),
            _contact(account_id, customer_id, problem_code="aliens"),
        ],
        "FOREIGN_RECORD": [
            _contact(account_id, theirs.customer_id),
            _contact(account_id, customer_id, contact_point_id=their_point),
        ],
    }
    commands = [("contact.log@1", args) for found in cases.values() for args in found]
    verdicts = iter(push_commands(mallory, engine, *commands))
    for code, found in cases.items():
        for args in found:
            _refused(next(verdicts), code)
            with engine.connect() as conn:
                assert get_doc(conn, "contact_attempt", args["id"]) is None
    with engine.connect() as conn:
        account = get_doc(conn, "account", account_id)
    assert account is not None and not str(account.data.get("last_contact_at", "")).startswith(("2100", "9999"))


def test_hostile_text_and_huge_numbers_get_a_422_never_a_500(server, mallory: Station) -> None:
    engine, thread = server
    url, headers = thread.url, auth_headers(thread.url, "agente01")
    account_id = mallory.accounts()[0][0]
    envelope = {"device_id": mallory.device.device_id, "device_epoch": 1, "client_time": NOW.isoformat()}
    mutation = {
        "mutation_id": "m1",
        "client_seq": _next_seq(engine, mallory),
        "name": "note.add@1",
        "args": {"id": "n1", "account_id": account_id, "text": "hola SURROGATE"},
        "occurred_at_client": NOW.isoformat(),
    }
    surrogate = json.dumps({**envelope, "mutations": [mutation]}).replace(
        "SURROGATE", "\\ud800"
    )  # JSON text only can hold it
    answers = [
        httpx.post(f"{url}/v1/mutations", content=surrogate, headers={**headers, "Content-Type": "application/json"}),
        httpx.post(
            f"{url}/v1/mutations",
            json={**envelope, "client_time": "2026-11-22T10:00:00", "mutations": []},
            headers=headers,
        ),
        httpx.post(
            f"{url}/v1/devices/register",
            json={"device_id": "d1", "device_epoch": 2**63, "app_version": "1", "schema_version": 1},
            headers=headers,
        ),
        httpx.post(
            f"{url}/v1/devices/register",
            json={
                "device_id": "d1",
                "device_epoch": 1,
                "app_version": "1",
                "schema_version": 2**64,
                "resume_after_seq": 2**63,
            },
            headers=headers,
        ),
        httpx.post(
            f"{url}/v1/mutations",
            json={
                **envelope,
                "mutations": [
                    {
                        "mutation_id": "m2",
                        "client_seq": 2**63,
                        "name": "note.add@1",
                        "args": {},
                        "occurred_at_client": NOW.isoformat(),
                    }
                ],
            },
            headers=headers,
        ),
        httpx.post(
            f"{url}/v1/auth/login",
            content='{"username": "agente01", "password": "\\udfff"}',
            headers={"Content-Type": "application/json"},
        ),
        httpx.get(f"{url}/v1/changes", params={"cursor": "\x1b]0;x\x07", "limit": 2**70}, headers=headers),
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "MALFORMED_REQUEST"


def test_texts_lose_their_control_characters_and_have_limits(server, mallory: Station) -> None:
    engine, _ = server
    account_id = mallory.accounts()[0][0]
    clean, huge = (
        {"id": new_id(), "account_id": account_id, "text": "ok\x1b]0;PWNED\x07 \x9b2J\u202eya\r\nfin"},
        {"id": new_id(), "account_id": account_id, "text": "x" * 1_000_000},
    )
    stored, refused = push_commands(mallory, engine, ("note.add@1", clean), ("note.add@1", huge))
    assert stored["status"] == "applied"
    _refused(refused, "INVALID_ARGUMENTS")
    with engine.connect() as conn:
        note = get_doc(conn, "note", clean["id"])
    assert note is not None and note.data["text"] == "ok]0;PWNED 2Jya\nfin" and note.data["author"] == "agente01"


def test_a_bad_command_does_not_hold_up_the_outbox(server, mallory: Station) -> None:
    engine, _ = server
    account = mallory.accounts()[0]
    bad, good = push_commands(
        mallory, engine, ("contact.log@1", _contact(*account, result_code="ZZ")), ("contact.log@1", _contact(*account))
    )
    _refused(bad, "UNKNOWN_CODE")
    assert good["status"] == "applied"
    assert mallory.round().ok  # the workstation goes on after hand-made commands took its numbers


def test_supervisors_read_the_security_events_of_their_team_only(server, mallory: Station) -> None:
    engine, thread = server
    url = thread.url
    push_commands(mallory, engine, ("promise.create@1", _promise(_theirs(engine).id)))
    httpx.post(f"{url}/v1/auth/login", json={"username": "agente03", "password": "wrong"})
    events = httpx.get(f"{url}/v1/security-events", headers=auth_headers(url, "supervisor01")).json()
    codes = [(e["code"], e["actor"]) for e in events]
    assert ("NOT_YOUR_ACCOUNT", "agente01") in codes and ("LOGIN_FAILED", "agente03") in codes
    refusal = next(e for e in events if e["code"] == "NOT_YOUR_ACCOUNT")
    assert refusal["details"]["name"] == "promise.create@1" and refusal["source"] == "127.0.0.1"
    assert httpx.get(f"{url}/v1/security-events", headers=auth_headers(url, "auditor01")).json()
    assert httpx.get(f"{url}/v1/security-events", headers=auth_headers(url, "agente01")).status_code == 403
    with engine.connect() as conn:
        stored = [json.loads(r) for r in conn.execute(select(security_events.c.details)).scalars() if r]
    assert not any("full_name" in json.dumps(d) for d in stored)  # ids and codes, never a person's data


def test_a_batch_refused_part_way_keeps_the_feed_numbered_without_gaps(server, mallory: Station) -> None:
    """A push counts its feed's seqs in memory and writes the counter once: what a refusal undoes
    gives its numbers back, and the next writer goes on from the last one kept."""
    from sqlalchemy import func

    from cobro_tui.server.schema import change_log, counters, sync_clients

    engine, thread = server
    (account_id, customer_id), *_ = mallory.accounts()
    with engine.connect() as conn:
        last = conn.execute(
            select(sync_clients.c.last_client_seq).where(sync_clients.c.device_id == mallory.device.device_id)
        ).scalar_one()
        before = conn.execute(select(func.max(change_log.c.seq))).scalar_one() or 0
    contacts = [
        _contact(
            account_id,
            customer_id,
            started_at=(NOW - timedelta(minutes=30 - n)).isoformat(),
            ended_at=(NOW - timedelta(minutes=29 - n)).isoformat(),
        )
        for n in range(3)
    ]
    body = {
        "device_id": mallory.device.device_id,
        "device_epoch": 1,
        "client_time": NOW.isoformat(),
        "mutations": [
            {
                "mutation_id": new_id(),
                "client_seq": last + seq,
                "name": "contact.log@1",
                "args": args,
                "occurred_at_client": NOW.isoformat(),
            }
            for seq, args in zip((1, 2, 4), contacts)
        ],
    }  # a gap before the third
    answer = httpx.post(f"{thread.url}/v1/mutations", json=body, headers=auth_headers(thread.url, "agente01"))
    assert answer.status_code == 409 and answer.json()["code"] == "SEQ_GAP"
    assert [r["status"] for r in answer.json()["details"]["results"]] == ["applied", "applied"]

    def feed() -> tuple[list[int], int]:
        # The counter numbers the change feed's rows and the export's events (server/export.py) alike.
        from cobro_tui.server.schema import export_events

        with engine.connect() as conn:
            changes = conn.execute(select(change_log.c.seq).where(change_log.c.seq > before)).scalars()
            events = conn.execute(select(export_events.c.seq).where(export_events.c.seq > before)).scalars()
            seqs = sorted([*changes, *events])
            return seqs, conn.execute(select(counters.c.value).where(counters.c.name == "seq")).scalar_one()

    seqs, counter = feed()
    assert (
        seqs == list(range(before + 1, before + 1 + len(seqs))) and counter == seqs[-1]
    )  # two contacts, their accounts
    (verdict,) = push_commands(mallory, engine, ("contact.log@1", contacts[2]))
    assert verdict["status"] == "applied"
    again, counter = feed()
    assert again[: len(seqs)] == seqs and again == list(range(before + 1, counter + 1)) and len(again) > len(seqs)


def test_another_agents_ids_are_neither_replayed_nor_confirmed_nor_overwritten(
    server, mallory: Station, tmp_path: Path, clock, policy
) -> None:
    engine, thread = server
    victim = make_station(tmp_path, "victim", thread.url, "agente02", clock, policy)
    assert victim.round().ok
    theirs = victim.accounts()[0][0]
    promise, _ = victim.promise(theirs)
    note_id = new_id()
    (noted,) = push_commands(victim, engine, ("note.add@1", {"id": note_id, "account_id": theirs, "text": "de ella"}))
    assert noted["status"] == "applied" and victim.round().ok
    # The victim's own command, pushed again from mallory's device: not mallory's to read.
    with engine.connect() as conn:
        from cobro_tui.server.schema import mutation_log

        logged = conn.execute(select(mutation_log).where(mutation_log.c.name == "promise.create@1")).first()
    with victim.cache.connect() as conn:
        name, args = conn.exec_driver_sql(
            "SELECT name, args_json FROM outbox WHERE mutation_id = ?", (logged.mutation_id,)
        ).one()
    body = {
        "device_id": mallory.device.device_id,
        "device_epoch": 1,
        "client_time": NOW.isoformat(),
        "mutations": [
            {
                "mutation_id": logged.mutation_id,
                "client_seq": _next_seq(engine, mallory),
                "name": name,
                "args": json.loads(args),
                "occurred_at_client": NOW.isoformat(),
            }
        ],
    }
    replay = httpx.post(f"{thread.url}/v1/mutations", json=body, headers=auth_headers(thread.url, "agente01"))
    assert replay.status_code == 409 and replay.json()["code"] == "MUTATION_ID_TAKEN", replay.text
    assert promise.id not in replay.text
    # Her promise's and her note's ids on mallory's own account: refused, hers untouched.
    mine = mallory.accounts()[0][0]
    promised, note = push_commands(
        mallory,
        engine,
        ("promise.create@1", _promise(theirs, id=promise.id)),
        ("note.add@1", {"id": note_id, "account_id": mine, "text": "mío"}),
    )
    _refused(promised, "FOREIGN_RECORD")
    _refused(note, "FOREIGN_RECORD")
    with engine.connect() as conn:
        assert get_doc(conn, "note", note_id).data["text"] == "de ella"  # type: ignore[union-attr]
    assert ("FOREIGN_RECORD", "agente01") in _security(engine)


def test_a_device_is_one_agents_whatever_its_epoch(server, mallory: Station, tmp_path: Path, clock, policy) -> None:
    _, thread = server
    victim = make_station(tmp_path, "victim", thread.url, "agente02", clock, policy)
    assert victim.round().ok
    for epoch in (1, 2, 3):
        answer = httpx.post(
            f"{thread.url}/v1/devices/register",
            headers=auth_headers(thread.url, "agente01"),
            json={
                "device_id": victim.device.device_id,
                "device_epoch": epoch,
                "app_version": "1",
                "schema_version": 1,
                "resume_after_seq": 0,
            },
        )
        assert answer.status_code == 403 and answer.json()["code"] == "DEVICE_OF_ANOTHER_AGENT", answer.text


def test_a_workstation_of_a_schema_the_server_does_not_sync_is_told_to_update(server) -> None:
    from cobro_tui.server.schema import sync_clients

    engine, thread = server
    for schema in (2, 7):  # newer than this server knows
        answer = httpx.post(
            f"{thread.url}/v1/devices/register",
            headers=auth_headers(thread.url, "agente01"),
            json={"device_id": f"new-{schema}", "device_epoch": 1, "app_version": "9.0", "schema_version": schema},
        )
        assert answer.status_code == 426 and answer.json()["code"] == "CLIENT_UNSUPPORTED", answer.text
        assert "cobro-tui" in answer.json()["message"]
    with engine.connect() as conn:
        assert not conn.execute(select(sync_clients).where(sync_clients.c.device_id.like("new-%"))).first()


def test_values_nested_past_any_record_are_refused_never_a_500(server, mallory: Station) -> None:
    from cobro_tui.domain.audit import event_body, link_hash
    from cobro_tui.store.audit_log import chain_head

    engine, thread = server
    headers = auth_headers(thread.url, "agente01")
    account_id = mallory.accounts()[0][0]
    for levels in (40, 950, 5000):
        deep: dict[str, Any] = {"kind": "refusal"}
        for _ in range(levels):
            deep = {"n": deep}
        text = (
            json.dumps(
                {
                    "device_id": mallory.device.device_id,
                    "device_epoch": 1,
                    "client_time": NOW.isoformat(),
                    "mutations": [
                        {
                            "mutation_id": new_id(),
                            "client_seq": _next_seq(engine, mallory),
                            "name": "decision.record@1",
                            "args": {"account_id": account_id, "decision": deep},
                            "occurred_at_client": NOW.isoformat(),
                        }
                    ],
                }
            )
            if levels < 900
            else '{"device_id": "x", "mutations": [' + "[" * levels + "]" * levels + "]}"
        )
        answer = httpx.post(
            f"{thread.url}/v1/mutations", content=text, headers={**headers, "Content-Type": "application/json"}
        )
        assert answer.status_code == 422 and answer.json()["code"] == "MALFORMED_REQUEST", (levels, answer.text[:200])
    with mallory.cache.connect() as conn:
        seq, head = chain_head(conn)
    for levels in (20, 2000):
        data: Any = []
        for _ in range(levels):
            data = [data]
        body = (
            event_body(
                seq=seq + 1,
                prev=head,
                ts=NOW.isoformat(),
                type="pii.revealed",
                actor="agente01",
                device=mallory.device.device_id,
                data={"deep": data},
            )
            if levels < 900
            else f'{{"seq": {seq + 1}, "data": {"[" * levels + "]" * levels}}}'
        )
        answer = httpx.post(
            f"{thread.url}/v1/audit/events",
            headers=headers,
            json={
                "device_id": mallory.device.device_id,
                "events": [{"seq": seq + 1, "hash": link_hash(body), "body": body}],
            },
        )
        assert answer.status_code == 409 and answer.json()["code"] == "AUDIT_EVENT_INVALID", (levels, answer.text[:200])
    listing = httpx.get(
        f"{thread.url}/v1/audit/devices/{mallory.device.device_id}/events",
        headers=auth_headers(thread.url, "auditor01"),
    )
    assert listing.status_code == 200


def test_a_body_larger_than_any_push_is_refused_before_it_is_read(server) -> None:
    _, thread = server
    headers = {**auth_headers(thread.url, "agente01"), "Content-Type": "application/json"}
    huge = b'{"device_id": "d", "notes": "' + b"x" * (17 * 2**20) + b'"}'
    answer = httpx.post(f"{thread.url}/v1/mutations", content=huge, headers=headers, timeout=60)
    assert answer.status_code == 413 and answer.json()["code"] == "BODY_TOO_LARGE", answer.text[:200]
    assert "16 MiB" in answer.json()["message"]
    chunked = httpx.post(
        f"{thread.url}/v1/mutations",
        content=iter([b'{"a": "', b"x" * (17 * 2**20), b'"}']),
        headers=headers,
        timeout=60,
    )  # no Content-Length: counted as it arrives
    assert chunked.status_code == 413 and chunked.json()["code"] == "BODY_TOO_LARGE"
    small = httpx.post(f"{thread.url}/v1/mutations", content=iter([b'{"device_id": 1', b"}"]), headers=headers)
    assert small.status_code == 422  # a small chunked body goes on to the route whole
