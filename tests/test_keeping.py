"""Kept, partial and broken on sample payment streams: first in, first out, with grace days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cobro_tui.domain.keeping import evaluate
from cobro_tui.domain.models import Payment, Promise, PromiseStatus
from cobro_tui.domain.money import Money


def promise(
    ident: str,
    pesos: int,
    due: date,
    made: date = date(2026, 11, 1),
    grace: int = 2,
    status: PromiseStatus = PromiseStatus.OPEN,
) -> Promise:
    return Promise(
        id=ident,
        account_id="a",
        amount=Money(pesos * 100),
        due_on=due,
        channel="spei",
        created_at=datetime(made.year, made.month, made.day, 15, tzinfo=UTC),
        created_by="agente01",
        status=status,
        grace_days=grace,
    )


def paid(ident: str, pesos: int, on: date) -> Payment:
    return Payment(id=ident, account_id="a", amount=Money(pesos * 100), paid_on=on, channel="spei", reference=ident)


def states(promises: list[Promise], payments: list[Payment], today: date) -> list[tuple[str, int | None]]:
    return [(p.status.value, p.paid.centavos // 100 if p.paid else None) for p in evaluate(promises, payments, today)]


D10 = date(2026, 11, 10)


def test_a_payment_in_full_by_the_due_day_keeps_the_promise() -> None:
    assert states([promise("p", 1000, D10)], [paid("x", 1000, date(2026, 11, 9))], D10) == [("kept", 1000)]


def test_part_paid_is_partial_until_the_grace_ends_then_broken() -> None:
    stream = [paid("x", 600, date(2026, 11, 9))]
    assert states([promise("p", 1000, D10)], stream, date(2026, 11, 11)) == [("partial", 600)]
    assert states([promise("p", 1000, D10)], stream, date(2026, 11, 12)) == [("partial", 600)]  # last grace day
    assert states([promise("p", 1000, D10)], stream, date(2026, 11, 13)) == [("broken", 600)]


def test_a_payment_within_the_grace_days_counts_one_after_does_not() -> None:
    assert states([promise("p", 1000, D10)], [paid("x", 1000, date(2026, 11, 12))], date(2026, 11, 20)) == [
        ("kept", 1000)
    ]
    assert states([promise("p", 1000, D10)], [paid("x", 1000, date(2026, 11, 13))], date(2026, 11, 20)) == [
        ("broken", None)
    ]
    assert states([promise("p", 1000, D10, grace=0)], [paid("x", 1000, date(2026, 11, 11))], date(2026, 11, 20)) == [
        ("broken", None)
    ]
    assert states([promise("p", 1000, D10)], [], D10) == [("open", None)]  # nothing yet, time left


def test_payments_go_first_in_first_out_and_the_surplus_moves_on() -> None:
    first = promise("a", 500, date(2026, 11, 5))
    second = promise("b", 500, date(2026, 11, 20))
    both = [paid("x", 800, date(2026, 11, 4))]
    assert states([second, first], both, date(2026, 11, 8)) == [("partial", 300), ("kept", 500)]
    assert states([second, first], [*both, paid("y", 200, date(2026, 11, 18))], date(2026, 11, 30)) == [
        ("kept", 500),
        ("kept", 500),
    ]


def test_a_payment_before_the_promise_was_made_or_to_a_cancelled_one_does_not_count() -> None:
    early = [paid("x", 1000, date(2026, 10, 31))]
    assert states([promise("p", 1000, D10)], early, date(2026, 11, 20)) == [("broken", None)]
    cancelled = promise("c", 1000, date(2026, 11, 5), status=PromiseStatus.CANCELLED)
    later = promise("p", 1000, D10)
    assert states([cancelled, later], [paid("x", 1000, date(2026, 11, 4))], D10) == [
        ("cancelled", None),
        ("kept", 1000),
    ]


def test_a_final_promise_stays_final_but_still_takes_its_share() -> None:
    kept = promise("k", 500, date(2026, 11, 5), status=PromiseStatus.KEPT)
    later = promise("p", 500, D10)
    assert states([kept, later], [paid("x", 500, date(2026, 11, 4))], date(2026, 11, 20)) == [
        ("kept", None),
        ("broken", None),
    ]


@given(
    st.lists(
        st.tuples(st.integers(1, 5000), st.integers(0, 40), st.integers(0, 20), st.integers(0, 3)),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 60)), max_size=8),
    st.integers(0, 70),
)
def test_no_payment_is_counted_twice_and_kept_means_paid_in_full(promised, payments, today_offset) -> None:
    start = date(2026, 11, 1)
    promises = [
        promise(f"p{i}", pesos, start + timedelta(days=made + due), start + timedelta(days=made), grace)
        for i, (pesos, due, made, grace) in enumerate(promised)
    ]
    stream = [paid(f"x{i}", pesos, start + timedelta(days=day)) for i, (pesos, day) in enumerate(payments)]
    today = start + timedelta(days=today_offset)
    judged = evaluate(promises, stream, today)
    counted = sum(p.paid.centavos for p in judged if p.paid)
    assert counted <= sum(x.amount.centavos for x in stream)
    for before, after in zip(promises, judged):
        assert after.id == before.id
        assert (after.paid.centavos if after.paid else 0) <= after.amount.centavos
        assert (after.status is PromiseStatus.KEPT) == (after.paid is not None and after.paid == after.amount)
        if after.status is PromiseStatus.BROKEN:
            assert today > after.due_on + timedelta(days=after.grace_days)


# Through the real server: a payment from the feed keeps a promise; an unpaid one breaks after its grace.

import httpx  # noqa: E402
import pytest  # noqa: E402
from conftest import NOW  # noqa: E402
from sync_support import auth_headers, integration_headers, make_station, running_server  # noqa: E402

from cobro_tui.domain.ids import new_id  # noqa: E402


@pytest.fixture
def server(tmp_path):
    with running_server(tmp_path, accounts=30, seed=9) as running:
        yield running


def test_a_payment_from_the_feed_keeps_the_promise_and_the_workstation_sees_it(tmp_path, server, clock, policy) -> None:
    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.settings import load_settings

    _engine, thread = server
    station = make_station(tmp_path, "kept", thread.url, "agente01", clock, policy)
    assert station.round().ok
    ws = build_workstation(station.cache, load_settings(), clock, policy, "agente01", "live")
    account_id = next(a for a, _ in station.accounts() if not ws.accounts.open(a).file.open_promises())
    promise, _ = station.promise(account_id, due=NOW.date() + timedelta(days=4))
    assert station.round().ok
    body = {
        "id": new_id(),
        "account_id": account_id,
        "amount_centavos": promise.amount.centavos,
        "paid_on": NOW.date().isoformat(),
        "channel": "spei",
        "reference": "SPEI-123",
    }
    # Only the institution's feed (a machine credential with the payments scope) posts payments.
    for person in ("agente01", "supervisor01", "gerente01"):
        refused = httpx.post(f"{thread.url}/v1/payments", json=body, headers=auth_headers(thread.url, person))
        assert refused.status_code == 403 and refused.json()["code"] == "INTEGRATION_ONLY"
    no_scope = integration_headers(thread.url, ("export",), name="crm")
    assert httpx.post(f"{thread.url}/v1/payments", json=body, headers=no_scope).json()["code"] == "SCOPE_MISSING"
    feed = integration_headers(thread.url)
    tomorrow = {**body, "paid_on": (NOW.date() + timedelta(days=1)).isoformat()}
    assert httpx.post(f"{thread.url}/v1/payments", json=tomorrow, headers=feed).json()["code"] == "PAID_ON_OUT_OF_RANGE"
    answer = httpx.post(f"{thread.url}/v1/payments", json=body, headers=feed).json()
    assert answer == {
        "new": True,
        "promises": [{"id": promise.id, "status": "kept", "paid_centavos": promise.amount.centavos}],
    }
    again = httpx.post(f"{thread.url}/v1/payments", json=body, headers=feed).json()
    assert again == {"new": False, "promises": []}  # the same payment twice changes nothing
    forged = httpx.post(f"{thread.url}/v1/payments", json={**body, "amount_centavos": 1}, headers=feed)
    assert forged.status_code == 409 and forged.json()["code"] == "PAYMENT_ID_REUSED"
    assert station.round().ok
    tracked = next(p for p in ws.accounts.open(account_id).file.promises if p.item.id == promise.id)
    assert tracked.item.status is PromiseStatus.KEPT and tracked.sync_state == "synced"


def test_an_unpaid_promise_breaks_after_its_grace_and_raises_the_account(tmp_path, server, clock, policy) -> None:
    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.server.keeping import sweep
    from cobro_tui.settings import load_settings

    engine, thread = server
    station = make_station(tmp_path, "broken", thread.url, "agente01", clock, policy)
    assert station.round().ok
    ws = build_workstation(station.cache, load_settings(), clock, policy, "agente01", "live")
    account_id = next(a for a, _ in station.accounts() if not ws.accounts.open(a).file.open_promises())
    promise, _ = station.promise(account_id, due=NOW.date())
    assert station.round().ok
    from cobro_tui.server.feed import get_doc

    def on_server() -> str:
        with engine.connect() as conn:
            doc = get_doc(conn, "promise", promise.id)
        assert doc is not None
        return doc.data["status"]

    sweep(engine, NOW + timedelta(days=2))
    assert on_server() == "open"  # still within the grace days
    assert sweep(engine, NOW + timedelta(days=3)) >= 1
    assert on_server() == "broken"
    report = station.round()
    assert report.ok and account_id in report.touched_accounts
    tracked = next(p for p in ws.accounts.open(account_id).file.promises if p.item.id == promise.id)
    assert tracked.item.status is PromiseStatus.BROKEN
    ws.queue.rescore([account_id])
    assert "promise_broken" in [r.factor for r in ws.queue.reasons(account_id)]  # the account goes up the queue


def test_the_workstation_judges_a_payment_it_has_before_the_server_does(tmp_path, clock, policy) -> None:
    from dataclasses import replace as copy

    from cobro_tui.domain.account_file import AccountFile, Tracked

    base = promise("p", 1000, D10)
    file = AccountFile(
        account=None,  # type: ignore[arg-type]  # judging promises reads only payments and promises
        customer=None,  # type: ignore[arg-type]
        other_accounts=(),
        contact_points=(),
        references=(),
        payments=(paid("x", 1000, date(2026, 11, 9)),),
        promises=(Tracked(base, "synced"),),
        plans=(),
        contacts=(),
        restrictions=(),
        notes=(),
    )
    judged = file.judged(date(2026, 11, 9))
    assert judged.promises[0].item.status is PromiseStatus.KEPT and judged.open_promises() == []
    partial = copy(file, payments=(paid("x", 400, date(2026, 11, 9)),)).judged(date(2026, 11, 9))
    assert partial.promises[0].item.status is PromiseStatus.PARTIAL and partial.open_promises() == [
        partial.promises[0].item
    ]


def _plan(down: int, dues: list[tuple[int, date]], made: date = date(2026, 11, 1)):
    from cobro_tui.domain.models import Installment, PaymentPlan

    return PaymentPlan(
        id="plan",
        account_id="a",
        down_payment=Money(down * 100),
        installments=tuple(Installment(n + 1, day, Money(pesos * 100)) for n, (pesos, day) in enumerate(dues)),
        created_at=datetime(made.year, made.month, made.day, 15, tzinfo=UTC),
        created_by="agente01",
    )


def plan_state(plan, payments, today, promises=()):
    from cobro_tui.domain.keeping import evaluate_all

    _, (judged,) = evaluate_all(list(promises), [plan], payments, today)
    return judged.status.value, [i.status.value for i in judged.installments]


def test_a_plan_becomes_active_with_its_down_payment_and_completes_or_breaks_by_installment() -> None:
    plan = _plan(100, [(200, date(2026, 11, 15)), (200, date(2026, 11, 30))])
    assert plan_state(plan, [], date(2026, 11, 2)) == ("proposed", ["due", "due"])
    down = [paid("d", 100, date(2026, 11, 2))]
    assert plan_state(plan, down, date(2026, 11, 5)) == ("active", ["due", "due"])
    first = [*down, paid("x", 200, date(2026, 11, 16))]  # within the installment's grace
    assert plan_state(plan, first, date(2026, 11, 20)) == ("active", ["kept", "due"])
    assert plan_state(plan, first, date(2026, 12, 3)) == ("broken", ["kept", "broken"])  # the second never came
    everything = [*first, paid("y", 200, date(2026, 11, 29))]
    assert plan_state(plan, everything, date(2026, 12, 3)) == ("completed", ["kept", "kept"])
    assert plan_state(plan, [], date(2026, 11, 4)) == ("broken", ["due", "due"])  # no down payment by its grace


def test_payments_go_to_promises_and_installments_in_the_order_they_fall_due() -> None:
    plan = _plan(0, [(300, date(2026, 11, 20))])
    earlier = promise("p", 500, date(2026, 11, 10))
    stream = [paid("x", 600, date(2026, 11, 9))]  # covers the promise, 100 towards the installment
    from cobro_tui.domain.keeping import evaluate_all

    promises, plans = evaluate_all([earlier], [plan], stream, date(2026, 11, 12))
    assert promises[0].status is PromiseStatus.KEPT
    assert plans[0].status.value == "active" and plans[0].installments[0].status.value == "partial"


def test_a_plans_down_payment_from_the_feed_makes_it_active_on_both_sides(tmp_path, server, clock, policy) -> None:
    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.domain.models import PlanStatus
    from cobro_tui.domain.plans import Frequency
    from cobro_tui.server.feed import get_doc
    from cobro_tui.settings import load_settings

    engine, thread = server
    station = make_station(tmp_path, "plan-kept", thread.url, "agente01", clock, policy)
    assert station.round().ok
    ws = build_workstation(station.cache, load_settings(), clock, policy, "agente01", "live")
    account_id = next(
        a
        for a, _ in station.accounts()
        if not ws.accounts.open(a).file.plans and ws.accounts.open(a).file.account.balance.centavos > 200_000
    )
    balance = ws.accounts.open(account_id).file.account.balance
    down = ws.plans.least_down(balance)
    plan = ws.plans.propose(account_id, balance, down, 3, NOW.date() + timedelta(days=10), Frequency.MONTHLY)
    assert station.round().ok
    body = {
        "id": new_id(),
        "account_id": account_id,
        "amount_centavos": down.centavos,
        "paid_on": NOW.date().isoformat(),
        "channel": "oxxo",
        "reference": "OXXO-9",
    }
    assert (
        httpx.post(f"{thread.url}/v1/payments", json=body, headers=integration_headers(thread.url)).status_code == 200
    )
    with engine.connect() as conn:
        stored = get_doc(conn, "payment_plan", plan.id)
    assert stored is not None and stored.data["status"] == "active"
    assert station.round().ok
    mine = next(p for p in ws.accounts.open(account_id).file.plans if p.item.id == plan.id)
    assert mine.item.status is PlanStatus.ACTIVE and mine.sync_state == "synced"
