"""Payment plans (convenios): the schedule of a plan and whether it can be proposed as entered.

The money of a plan is split exactly: installments are equal to the centavo and the last one takes
what the division leaves, so the down payment and the installments always add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from cobro_tui.domain.models import Account, Installment, PaymentPlan, PlanStatus
from cobro_tui.domain.money import Money
from cobro_tui.domain.promises import Problem


class Frequency(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


_STEP = {
    Frequency.WEEKLY: relativedelta(weeks=1),
    Frequency.BIWEEKLY: relativedelta(weeks=2),
    Frequency.MONTHLY: relativedelta(months=1),
}


@dataclass(frozen=True, slots=True)
class PlanLimits:
    max_installments: int = 24
    min_installment: Money = Money(10000, "MXN")
    max_days_to_first: int = 30


def due_dates(first_due: date, count: int, frequency: Frequency) -> list[date]:
    """The due day of each installment; monthly ones keep the first day of the month where they can
    (the 31st falls on the 30th or the 28th, and comes back to the 31st after)."""
    return [first_due + _STEP[frequency] * i for i in range(count)]


def schedule(total: Money, down: Money, count: int, first_due: date, frequency: Frequency) -> tuple[Installment, ...]:
    """The installments that pay `total` after `down`: equal to the centavo, the last one evening it out."""
    if count < 1:
        return ()
    rest = (total - down).centavos
    each = rest // count
    amounts = [each] * (count - 1) + [rest - each * (count - 1)]
    return tuple(Installment(i + 1, day, Money(amount, total.currency))
                 for i, (day, amount) in enumerate(zip(due_dates(first_due, count, frequency), amounts, strict=True)))


def plan_problems(account: Account, open_plans: list[PaymentPlan], total: Money, down: Money, count: int,
                  first_due: date, today: date, limits: PlanLimits = PlanLimits()) -> list[Problem]:
    """Everything wrong with a plan as entered, as of the debtor's `today` (empty: it can be proposed)."""
    problems = []
    balance = account.balance
    if total.centavos <= 0 or total.centavos > balance.centavos:
        problems.append(Problem("plan.total_range", {"balance": balance}))
    if down.centavos < 0 or (total.centavos > 0 and down.centavos >= total.centavos):
        problems.append(Problem("plan.down_range", {"total": total}))
    if not 1 <= count <= limits.max_installments:
        problems.append(Problem("plan.count_range", {"most": limits.max_installments}))
    elif total.centavos > down.centavos and (total.centavos - down.centavos) // count < limits.min_installment.centavos:
        problems.append(Problem("plan.installment_small", {"minimum": limits.min_installment}))
    last_day = today + timedelta(days=limits.max_days_to_first)
    if first_due < today or first_due > last_day:
        problems.append(Problem("plan.first_due_range", {"today": today, "last_day": last_day}))
    if any(p.status in (PlanStatus.PROPOSED, PlanStatus.ACTIVE) for p in open_plans):
        problems.append(Problem("plan.overlap", {}))
    return problems
