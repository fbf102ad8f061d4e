"""Kept, partial, broken: payments matched to promises first in, first out, with grace days.

The server runs this when a payment arrives and when a promise's grace ends; the workstation runs
the same on its cache, so a payment it has but the server has not yet judged shows at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from cobro_tui.domain.models import Payment, Promise, PromiseStatus
from cobro_tui.domain.money import Money


def deadline(promise: Promise) -> date:
    """The last day a payment counts for the promise: its due day plus its grace days."""
    return promise.due_on + timedelta(days=promise.grace_days)


def evaluate(promises: list[Promise], payments: list[Payment], today: date) -> list[Promise]:
    """Every promise as the payments leave it on `today`, in the order given.

    Promises take payments in the order they fall due (then as they were made); a payment counts
    for a promise when it was made from the promise's day to its deadline, and what one promise
    does not need goes on to the next. A promise fully paid is kept; past its deadline, a promise
    short of its amount is broken (with what was paid); before it, some paid is partial. Cancelled
    promises take nothing, and a promise already kept or broken stays so."""
    left = {p.id: p.amount.centavos for p in payments}
    ordered_payments = sorted(payments, key=lambda p: (p.paid_on, p.id))
    judged: dict[str, Promise] = {}
    for promise in sorted(promises, key=lambda p: (p.due_on, p.created_at, p.id)):
        if promise.status is PromiseStatus.CANCELLED:
            judged[promise.id] = promise
            continue
        want, paid = promise.amount.centavos, 0
        first, last = promise.created_at.date(), deadline(promise)
        for payment in ordered_payments:
            if paid >= want:
                break
            if first <= payment.paid_on <= last and left[payment.id] > 0:
                take = min(left[payment.id], want - paid)
                left[payment.id] -= take
                paid += take
        judged[promise.id] = _status(promise, paid, today)
    return [judged[p.id] for p in promises]


def _status(promise: Promise, paid: int, today: date) -> Promise:
    if promise.status in (PromiseStatus.KEPT, PromiseStatus.BROKEN):
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
    if status is promise.status and promise.paid == money:
        return promise
    return promise.moved_to(status, money) if status is not promise.status else replace(promise, paid=money)
