"""Kept, partial, broken: payments matched to promises and plan installments first in, first out,
with grace days.

The server runs this when a payment arrives and when a grace ends; the workstation runs the same
on its cache, so a payment it has but the server has not yet judged shows at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from cobro_tui.domain.models import (
    InstallmentStatus,
    Payment,
    PaymentPlan,
    PlanStatus,
    Promise,
    PromiseStatus,
)
from cobro_tui.domain.money import Money

PLAN_GRACE_DAYS = 2  # an installment's grace, as a promise's default


def deadline(promise: Promise) -> date:
    """The last day a payment counts for the promise: its due day plus its grace days."""
    return promise.due_on + timedelta(days=promise.grace_days)


@dataclass(frozen=True, slots=True)
class _Owed:
    """One amount owed by a day: a promise, a plan's down payment (number 0) or an installment."""

    key: tuple[str, int]
    due_on: date
    made_on: date
    amount: int
    last_day: date
    takes: bool  # cancelled ones take nothing


def _allocate(owed: list[_Owed], payments: Sequence[Payment]) -> dict[tuple[str, int], int]:
    """Payments to what is owed in the order it falls due (then as it was made): a payment counts
    from the day the obligation was made to its last day, and what one does not need goes on."""
    left = {p.id: p.amount.centavos for p in payments}
    ordered = sorted(payments, key=lambda p: (p.paid_on, p.id))
    paid: dict[tuple[str, int], int] = {}
    for item in sorted(owed, key=lambda o: (o.due_on, o.made_on, o.key)):
        got = 0
        if item.takes:
            for payment in ordered:
                if got >= item.amount:
                    break
                if item.made_on <= payment.paid_on <= item.last_day and left[payment.id] > 0:
                    take = min(left[payment.id], item.amount - got)
                    left[payment.id] -= take
                    got += take
        paid[item.key] = got
    return paid


def _owed(promises: Sequence[Promise], plans: Sequence[PaymentPlan]) -> list[_Owed]:
    owed = [
        _Owed(
            (p.id, 0),
            p.due_on,
            p.created_at.date(),
            p.amount.centavos,
            deadline(p),
            p.status is not PromiseStatus.CANCELLED,
        )
        for p in promises
    ]
    grace = timedelta(days=PLAN_GRACE_DAYS)
    for plan in plans:
        takes = plan.status in (PlanStatus.PROPOSED, PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.BROKEN)
        made = plan.created_at.date()
        if plan.down_payment.centavos > 0:
            owed.append(_Owed((plan.id, 0), made, made, plan.down_payment.centavos, made + grace, takes))
        owed += [
            _Owed((plan.id, i.number), i.due_on, made, i.amount.centavos, i.due_on + grace, takes)
            for i in plan.installments
        ]
    return owed


def evaluate_all(
    promises: Sequence[Promise], plans: Sequence[PaymentPlan], payments: Sequence[Payment], today: date
) -> tuple[list[Promise], list[PaymentPlan]]:
    """Every promise and plan as the payments leave them on `today`, in the orders given.

    A promise or installment fully paid is kept; past its last day, one short of its amount is
    broken (with what was paid); before it, some paid is partial. A plan is active once its down
    payment is paid, completed when everything is, broken when its down payment or an installment
    is. Cancelled ones take nothing, and what is already kept, broken or completed stays so."""
    paid = _allocate(_owed(promises, plans), payments)
    judged_promises = [_promise(p, paid[(p.id, 0)], today) for p in promises]
    judged_plans = [_plan(plan, paid, today) for plan in plans]
    return judged_promises, judged_plans


def evaluate(promises: list[Promise], payments: list[Payment], today: date) -> list[Promise]:
    """Promises alone (no plans on the account)."""
    return evaluate_all(promises, (), payments, today)[0]


def _promise(promise: Promise, paid: int, today: date) -> Promise:
    if promise.status in (PromiseStatus.KEPT, PromiseStatus.BROKEN, PromiseStatus.CANCELLED):
        return promise  # final: a later evaluation does not reopen it
    money = Money(paid, promise.amount.currency)
    if paid >= promise.amount.centavos:
        status = PromiseStatus.KEPT
    elif today > deadline(promise):
        status = PromiseStatus.BROKEN
    elif paid > 0:
        status = PromiseStatus.PARTIAL
    else:
        return promise  # nothing paid yet, and time left
    if status is promise.status:
        return promise if promise.paid == money else replace(promise, paid=money)
    return promise.moved_to(status, money)


def _installment_status(paid: int, amount: int, last_day: date, today: date) -> InstallmentStatus:
    if paid >= amount:
        return InstallmentStatus.KEPT
    if today > last_day:
        return InstallmentStatus.BROKEN
    return InstallmentStatus.PARTIAL if paid > 0 else InstallmentStatus.DUE


def _plan(plan: PaymentPlan, paid: dict[tuple[str, int], int], today: date) -> PaymentPlan:
    if plan.status not in (PlanStatus.PROPOSED, PlanStatus.ACTIVE):
        return plan
    grace = timedelta(days=PLAN_GRACE_DAYS)
    items = tuple(
        replace(i, status=_installment_status(paid[(plan.id, i.number)], i.amount.centavos, i.due_on + grace, today))
        for i in plan.installments
    )
    down_owed = plan.down_payment.centavos
    down = (
        _installment_status(paid.get((plan.id, 0), 0), down_owed, plan.created_at.date() + grace, today)
        if down_owed > 0
        else InstallmentStatus.KEPT
    )
    states = [down, *(i.status for i in items)]
    if InstallmentStatus.BROKEN in states:
        status = PlanStatus.BROKEN
    elif all(s is InstallmentStatus.KEPT for s in states):
        status = PlanStatus.COMPLETED
    elif down is InstallmentStatus.KEPT and (down_owed > 0 or any(s is not InstallmentStatus.DUE for s in states[1:])):
        status = PlanStatus.ACTIVE
    else:
        status = plan.status
    judged = replace(plan, installments=items, status=status)
    return plan if judged == plan else judged
