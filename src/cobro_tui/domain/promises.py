"""Whether a promise to pay can be taken as entered: amount and date limits, no overlap.

The full offer policy (by bucket, balance and authority) is a later issue; these are the limits
every promise meets. Problems come back as message ids with their values, for the UI to word.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cobro_tui.domain.models import Account, Promise
from cobro_tui.domain.money import Money


@dataclass(frozen=True, slots=True)
class PromiseLimits:
    min_amount: Money = Money(10000, "MXN")  # $100.00, or the whole balance when it is less
    max_days_ahead: int = 30


@dataclass(frozen=True, slots=True)
class Problem:
    key: str  # message id, "promise.<what>"
    values: dict[str, Any]


def promise_problems(account: Account, open_promises: list[Promise], amount: Money, due_on: date, today: date,
                     limits: PromiseLimits = PromiseLimits()) -> list[Problem]:
    """Everything wrong with a promise of `amount` due `due_on`, as of the debtor's `today`."""
    problems = []
    balance = account.balance
    minimum = limits.min_amount if limits.min_amount.centavos <= balance.centavos else balance
    if amount.centavos <= 0 or amount.centavos < minimum.centavos:
        problems.append(Problem("promise.too_small", {"minimum": minimum}))
    if amount.centavos > balance.centavos:
        problems.append(Problem("promise.above_balance", {"balance": balance}))
    last_day = today + timedelta(days=limits.max_days_ahead)
    if due_on < today:
        problems.append(Problem("promise.in_past", {"today": today}))
    elif due_on > last_day:
        problems.append(Problem("promise.too_far", {"days": limits.max_days_ahead, "last_day": last_day}))
    for existing in open_promises:
        problems.append(Problem("promise.overlap", {"amount": existing.amount, "due_on": existing.due_on}))
    return problems
