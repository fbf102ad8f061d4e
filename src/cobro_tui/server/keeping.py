"""The server judges promises: when a payment arrives for an account, and when a promise's grace
ends without one (the sweep). Changed promises go out to the agent's workstation like any change."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, select

from cobro_tui.domain.keeping import PLAN_GRACE_DAYS, deadline, evaluate_all
from cobro_tui.domain.models import (
    Payment,
    PaymentPlan,
    PlanStatus,
    Promise,
    PromiseStatus,
)
from cobro_tui.domain.records import from_record, to_record
from cobro_tui.server import export
from cobro_tui.server.db import write_tx
from cobro_tui.server.feed import Doc, Tx, docs_of_account, get_doc
from cobro_tui.server.mutations import debtor_today
from cobro_tui.server.schema import entities

ACTIVE = (PromiseStatus.OPEN.value, PromiseStatus.PARTIAL.value)


def judge_account(tx: Tx, account_id: str, now: datetime) -> list[Promise]:
    """Evaluate the account's promises against its payments; write the ones that changed."""
    account = get_doc(tx.conn, "account", account_id)
    if account is None:
        return []
    docs = {d.id: d for d in docs_of_account(tx.conn, account_id, "promise")}
    plan_docs = {d.id: d for d in docs_of_account(tx.conn, account_id, "payment_plan")}
    promises: list[Promise] = [from_record("promise", d.data) for d in docs.values()]
    plans: list[PaymentPlan] = [from_record("payment_plan", d.data) for d in plan_docs.values()]
    payments: list[Payment] = [from_record("payment", d.data) for d in docs_of_account(tx.conn, account_id, "payment")]
    today = debtor_today(tx.conn, account, now)
    judged_promises, judged_plans = evaluate_all(promises, plans, payments, today)
    changed: list[Promise] = []
    for before, after in zip(promises, judged_promises):
        if after != before:
            doc = docs[after.id]
            record = to_record(after)
            tx.put(Doc("promise", doc.id, 0, record, doc.account_id, doc.customer_id, doc.agent), current=doc.version)
            export.promise_outcome(tx, doc.data, record)
            changed.append(after)
    for before_plan, after_plan in zip(plans, judged_plans):
        if after_plan != before_plan:
            doc = plan_docs[after_plan.id]
            record = to_record(after_plan)
            tx.put(
                Doc("payment_plan", doc.id, 0, record, doc.account_id, doc.customer_id, doc.agent), current=doc.version
            )
            export.plan_outcome(tx, doc.data, record)
    return changed


class PaymentRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


PAYMENT_HORIZON_DAYS = 366  # a payment older than this is a file from another era, not a feed


def record_payment(engine: Engine, payment: Payment, now: datetime) -> tuple[bool, list[Promise]]:
    """A payment from the bank's feed (once per id): stored, and the account's promises judged again.
    Returns whether it was new and the promises that changed. The same id again with other content
    is refused (PAYMENT_ID_REUSED), as are a currency that is not the account's and a day that has
    not come yet where the debtor lives."""
    with write_tx(engine) as conn:
        account = get_doc(conn, "account", payment.account_id)
        if account is None:
            raise LookupError(payment.account_id)
        stored = get_doc(conn, "payment", payment.id)
        if stored is not None and stored.data != to_record(payment):
            raise PaymentRefused(
                409, "PAYMENT_ID_REUSED", f"payment {payment.id} was already received with other content"
            )
        if payment.amount.currency != account.data["principal"]["currency"]:
            raise PaymentRefused(422, "CURRENCY_MISMATCH", f"the account is in {account.data['principal']['currency']}")
        today = debtor_today(conn, account, now)
        if not today - timedelta(days=PAYMENT_HORIZON_DAYS) <= payment.paid_on <= today:
            raise PaymentRefused(
                422,
                "PAID_ON_OUT_OF_RANGE",
                f"paid_on must fall between "
                f"{today - timedelta(days=PAYMENT_HORIZON_DAYS)} and {today} (the debtor's today)",
            )
        tx = Tx(conn, now)
        new = stored is None
        if new:
            tx.put(
                Doc("payment", payment.id, 0, to_record(payment), account.id, account.customer_id, account.agent),
                current=None,
            )
        return new, judge_account(tx, payment.account_id, now)


def sweep(engine: Engine, now: datetime, agent: str | None = None) -> int:
    """Promises whose grace ended (of one agent's accounts, or all): judged, broken when unpaid.
    Returns how many changed."""
    with engine.connect() as conn:
        due = _accounts_with_active_promises(conn, agent)
    changed = 0
    for account_id, deadlines in due.items():
        if min(deadlines) >= now.date():
            continue  # no grace has ended yet (the debtor's day is checked inside)
        with write_tx(engine) as conn:
            changed += len(judge_account(Tx(conn, now), account_id, now))
    return changed


def _accounts_with_active_promises(conn: Connection, agent: str | None) -> dict[str, list[date]]:
    found: dict[str, list[date]] = {}
    query = select(entities.c.account_id, entities.c.kind, entities.c.data).where(
        entities.c.kind.in_(("promise", "payment_plan"))
    )
    if agent is not None:
        query = query.where(entities.c.agent == agent)
    for account_id, kind, data in conn.execute(query):
        if kind == "promise":
            promise: Promise = from_record("promise", json.loads(data))
            if promise.status.value in ACTIVE:
                found.setdefault(account_id, []).append(deadline(promise))
            continue
        plan: PaymentPlan = from_record("payment_plan", json.loads(data))
        if plan.status in (PlanStatus.PROPOSED, PlanStatus.ACTIVE):
            grace = timedelta(days=PLAN_GRACE_DAYS)
            found.setdefault(account_id, []).extend(
                [plan.created_at.date() + grace, *(i.due_on + grace for i in plan.installments)]
            )
    return found
