"""Payment plans (convenios): the schedule of a plan, on business days where the policy says so.

The money of a plan is split exactly: installments are equal to the centavo and the last one takes
what the division leaves, so the down payment and the installments always add up to the total.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from cobro_tui.domain.models import Installment
from cobro_tui.domain.money import Money


class Frequency(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


_STEP = {
    Frequency.WEEKLY: relativedelta(weeks=1),
    Frequency.BIWEEKLY: relativedelta(weeks=2),
    Frequency.MONTHLY: relativedelta(months=1),
}


def due_dates(first_due: date, count: int, frequency: Frequency) -> list[date]:
    """The due day of each installment; monthly ones keep the first day of the month where they can
    (the 31st falls on the 30th or the 28th, and comes back to the 31st after)."""
    return [first_due + _STEP[frequency] * i for i in range(count)]


def schedule(
    total: Money,
    down: Money,
    count: int,
    first_due: date,
    frequency: Frequency,
    holidays: frozenset[date] | None = None,
) -> tuple[Installment, ...]:
    """The installments that pay `total` after `down`: equal to the centavo, the last one evening it
    out; with `holidays`, each due day that falls on a weekend or holiday moves to the next business day."""
    if count < 1:
        return ()
    rest = (total - down).centavos
    each = rest // count
    amounts = [each] * (count - 1) + [rest - each * (count - 1)]
    days = due_dates(first_due, count, frequency)
    if holidays is not None:
        days = [business_day(day, holidays) for day in days]
    return tuple(
        Installment(i + 1, day, Money(amount, total.currency))
        for i, (day, amount) in enumerate(zip(days, amounts, strict=True))
    )


def business_day(day: date, holidays: frozenset[date]) -> date:
    """`day`, or the next day that is neither a weekend nor a holiday."""
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day
