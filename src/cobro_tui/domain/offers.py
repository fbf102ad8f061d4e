"""The offer policy (config/offers.toml) as values, and what it allows for one account: promises,
payment plans, settlements and restructures. Every refusal and every need for approval names its
rule (the message id) and its limit (the values), for the UI to word. Pure: no clock, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from cobro_tui.domain.models import (
    Account,
    PaymentPlan,
    PlanStatus,
    Promise,
    PromiseStatus,
)
from cobro_tui.domain.money import Money
from cobro_tui.domain.plans import business_day
from cobro_tui.domain.promises import Problem

AUTHORITY = ("agent", "supervisor", "manager")  # lowest first
MIN_BASES = ("past_due", "min_to_cure")
FREQUENCIES = ("weekly", "biweekly", "monthly")


@dataclass(frozen=True, slots=True)
class Band:
    """Buckets and a balance band [min_balance, max_balance) in centavos (no max: no upper end)."""

    buckets: tuple[str, ...]
    min_balance: int = 0
    max_balance: int | None = None

    def fits(self, bucket: str, balance: int) -> bool:
        return (
            bucket in self.buckets
            and balance >= self.min_balance
            and (self.max_balance is None or balance < self.max_balance)
        )


@dataclass(frozen=True, slots=True)
class PromisePolicy:
    min_basis: str = "min_to_cure"
    min_percent: int = 100
    min_amount: int = 10000
    max_open: int = 1
    grace_days: int = 2
    broken_for_approval: int = 2
    max_days: dict[str, int] = field(default_factory=lambda: {"default": 30})
    move_off_holidays: bool = True

    def days_for(self, bucket: str) -> int:
        return self.max_days.get(bucket, self.max_days["default"])

    def minimum(self, account: Account) -> Money:
        """The smallest promise for this account: the policy's share of its basis, never below the
        floor, and never above the balance."""
        basis = account.past_due if self.min_basis == "past_due" else account.min_to_cure
        share = -(-basis.centavos * self.min_percent // 100)  # rounded up to the centavo
        return Money(min(max(share, self.min_amount), account.balance.centavos), account.currency)


@dataclass(frozen=True, slots=True)
class PlanTerm:
    band: Band
    max_installments: int


@dataclass(frozen=True, slots=True)
class PlanPolicy:
    min_down_percent: int = 10
    min_installment: int = 20000
    max_days_to_first: int = 30
    frequencies: tuple[str, ...] = FREQUENCIES
    move_off_holidays: bool = True
    terms: tuple[PlanTerm, ...] = ()

    def max_installments(self, bucket: str, balance: int) -> int | None:
        """The most installments for this bucket and balance; None: the policy offers no plan here."""
        return next((term.max_installments for term in self.terms if term.band.fits(bucket, balance)), None)


@dataclass(frozen=True, slots=True)
class SettlementBand:
    band: Band
    discounts: dict[str, int]  # authority level -> largest discount, percent of the balance


@dataclass(frozen=True, slots=True)
class SettlementPolicy:
    max_days_to_pay: int = 30
    max_installments: int = 3
    bands: tuple[SettlementBand, ...] = ()

    def discounts(self, bucket: str, balance: int) -> dict[str, int]:
        return next((b.discounts for b in self.bands if b.band.fits(bucket, balance)), {})


@dataclass(frozen=True, slots=True)
class RestructurePolicy:
    buckets: tuple[str, ...] = ()
    min_down_percent: int = 5
    max_installments: int = 48
    frequencies: tuple[str, ...] = ("monthly",)


@dataclass(frozen=True, slots=True)
class Institution:
    """Who the debtor pays, on the agreement document: the institution's own collection account."""

    name: str = ""
    bank: str = ""
    clabe: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class OfferPolicy:
    calendar: str = "MX"
    promise: PromisePolicy = PromisePolicy()
    plan: PlanPolicy = PlanPolicy()
    settlement: SettlementPolicy = SettlementPolicy()
    restructure: RestructurePolicy = RestructurePolicy()
    holidays: frozenset[date] = frozenset()  # the calendar's bank holidays
    institution: Institution = Institution()
    pcr_required: frozenset[str] = frozenset()  # result codes whose contacts must carry the whole PCR


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the policy says of an offer as entered: problems refuse it; approval names the level
    that must approve it (None: within the agent's own authority) and why."""

    problems: tuple[Problem, ...] = ()
    approval: str | None = None
    why: tuple[Problem, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.problems


def _at_least_percent(part: int, whole: int, percent: int) -> bool:
    return part * 100 >= whole * percent


def broken_recently(promises: list[Promise], today: date) -> int:
    """Promises broken with a due day in the last 90 days."""
    since = today - timedelta(days=90)
    return sum(p.status is PromiseStatus.BROKEN and p.due_on >= since for p in promises)


def check_promise(
    account: Account,
    open_promises: list[Promise],
    broken_recently: int,
    amount: Money,
    due_on: date,
    today: date,
    policy: OfferPolicy,
) -> Verdict:
    """A promise of `amount` due `due_on`, as of the debtor's `today`."""
    rules = policy.promise
    problems = []
    minimum = rules.minimum(account)
    if amount.centavos <= 0 or amount.centavos < minimum.centavos:
        problems.append(Problem("promise.too_small", {"minimum": minimum}))
    if amount.centavos > account.balance.centavos:
        problems.append(Problem("promise.above_balance", {"balance": account.balance}))
    days = rules.days_for(account.bucket)
    last_day = today + timedelta(days=days)
    if due_on < today:
        problems.append(Problem("promise.in_past", {"today": today}))
    elif due_on > last_day:
        problems.append(Problem("promise.too_far", {"days": days, "last_day": last_day, "bucket": account.bucket}))
    elif rules.move_off_holidays and business_day(due_on, policy.holidays) != due_on:
        problems.append(Problem("promise.not_business_day", {"next": business_day(due_on, policy.holidays)}))
    if len(open_promises) >= rules.max_open:
        for existing in open_promises:
            problems.append(Problem("promise.overlap", {"amount": existing.amount, "due_on": existing.due_on}))
    if broken_recently >= rules.broken_for_approval:
        why = (Problem("offer.why_broken", {"broken": broken_recently, "limit": rules.broken_for_approval}),)
        return Verdict(tuple(problems), "supervisor", why)
    return Verdict(tuple(problems))


def check_plan(
    account: Account,
    open_plans: list[PaymentPlan],
    total: Money,
    down: Money,
    count: int,
    first_due: date,
    frequency: str,
    today: date,
    policy: OfferPolicy,
) -> Verdict:
    """A payment plan as entered: total, down payment, number and frequency of installments, first due day."""
    rules = policy.plan
    problems = []
    balance = account.balance
    most = rules.max_installments(account.bucket, balance.centavos)
    if most is None:
        return Verdict((Problem("plan.not_offered", {"bucket": account.bucket, "balance": balance}),))
    if total.centavos <= 0 or total.centavos > balance.centavos:
        problems.append(Problem("plan.total_range", {"balance": balance}))
    if down.centavos < 0 or (total.centavos > 0 and down.centavos >= total.centavos):
        problems.append(Problem("plan.down_range", {"total": total}))
    elif not _at_least_percent(down.centavos, total.centavos, rules.min_down_percent):
        least = Money(-(-total.centavos * rules.min_down_percent // 100), total.currency)
        problems.append(Problem("plan.down_small", {"percent": rules.min_down_percent, "minimum": least}))
    if frequency not in rules.frequencies:
        problems.append(Problem("plan.bad_frequency", {"frequencies": ", ".join(rules.frequencies)}))
    if not 1 <= count <= most:
        problems.append(Problem("plan.count_range", {"most": most, "bucket": account.bucket}))
    elif total.centavos > down.centavos and (total.centavos - down.centavos) // count < rules.min_installment:
        problems.append(Problem("plan.installment_small", {"minimum": Money(rules.min_installment, total.currency)}))
    last_day = today + timedelta(days=rules.max_days_to_first)
    if first_due < today or first_due > last_day:
        problems.append(Problem("plan.first_due_range", {"today": today, "last_day": last_day}))
    if any(p.status in (PlanStatus.PROPOSED, PlanStatus.ACTIVE) for p in open_plans):
        problems.append(Problem("plan.overlap", {}))
    return Verdict(tuple(problems))


def discount_percent(balance: Money, pay: Money) -> int:
    """The discount a pay-off of `pay` gives on `balance`, in whole percent, rounded up."""
    if balance.centavos <= 0:
        return 0
    return -(-(balance.centavos - pay.centavos) * 100 // balance.centavos)


def check_settlement(
    account: Account, pay: Money, pay_by: date, today: date, level: str, policy: OfferPolicy, count: int = 1
) -> Verdict:
    """A settlement (pay `pay` by `pay_by` and the rest is forgiven) asked by a user of `level`:
    within that level's discount it stands; above it, the lowest level allowed must approve."""
    rules = policy.settlement
    balance = account.balance
    limits = rules.discounts(account.bucket, balance.centavos)
    if not limits:
        return Verdict((Problem("settlement.not_offered", {"bucket": account.bucket, "balance": balance}),))
    problems = []
    if pay.centavos <= 0 or pay.centavos >= balance.centavos:
        problems.append(Problem("settlement.amount_range", {"balance": balance}))
    last_day = today + timedelta(days=rules.max_days_to_pay)
    if pay_by < today or pay_by > last_day:
        problems.append(Problem("settlement.date_range", {"today": today, "last_day": last_day}))
    if not 1 <= count <= rules.max_installments:
        problems.append(Problem("settlement.count", {"most": rules.max_installments}))
    wanted = discount_percent(balance, pay)
    allowed = [lvl for lvl in AUTHORITY if limits.get(lvl, 0) >= wanted]
    if not allowed:
        top = max(limits.values())
        floor = Money(balance.centavos - balance.centavos * top // 100, balance.currency)
        problems.append(Problem("settlement.discount_too_big", {"percent": wanted, "most": top, "minimum": floor}))
        return Verdict(tuple(problems))
    needed = allowed[0]
    if AUTHORITY.index(needed) <= AUTHORITY.index(level):
        return Verdict(tuple(problems))
    why = (Problem("offer.why_discount", {"percent": wanted, "limit": limits.get(level, 0), "level": needed}),)
    return Verdict(tuple(problems), needed, why)


def check_restructure(
    account: Account, down: Money, count: int, frequency: str, policy: OfferPolicy, total: Money | None = None
) -> Verdict:
    """A restructure of the whole balance: always for a supervisor; refused outside its terms."""
    rules = policy.restructure
    problems = []
    if total is not None and total != account.balance:
        problems.append(Problem("restructure.total", {"balance": account.balance}))
    if account.bucket not in rules.buckets:
        problems.append(Problem("restructure.bucket", {"bucket": account.bucket, "buckets": ", ".join(rules.buckets)}))
    balance = account.balance
    if (
        down.centavos < 0
        or down.centavos >= balance.centavos
        or not _at_least_percent(down.centavos, balance.centavos, rules.min_down_percent)
    ):
        least = Money(-(-balance.centavos * rules.min_down_percent // 100), balance.currency)
        problems.append(Problem("restructure.down", {"percent": rules.min_down_percent, "minimum": least}))
    if not 1 <= count <= rules.max_installments:
        problems.append(Problem("restructure.count", {"most": rules.max_installments}))
    if frequency not in rules.frequencies:
        problems.append(Problem("plan.bad_frequency", {"frequencies": ", ".join(rules.frequencies)}))
    return Verdict(tuple(problems), "supervisor", (Problem("offer.why_restructure", {}),))


@dataclass(frozen=True, slots=True)
class Offer:
    """One thing the agent can offer now, with its figures, best first."""

    kind: str  # promise_cure, promise_past_due, settlement, plan, restructure
    amount: Money  # what the debtor pays (the pay-off, the promise, the plan's total)
    due_on: date  # the (first) due day
    count: int = 1  # installments after the down payment
    down: Money | None = None
    each: Money | None = None  # one installment
    discount: int = 0  # percent of the balance forgiven
    approval: str | None = None  # the level that must approve it, None: the agent may agree it


def offers_for(
    account: Account, open_promises: list[Promise], broken_recently: int, today: date, level: str, policy: OfferPolicy
) -> list[Offer]:
    """What the policy lets this user offer on this account today, ranked: bring the account
    current, pay the past-due amount, settle within the user's authority, a plan over the most
    installments allowed, a restructure (for a supervisor). Offers the policy refuses are left out."""
    balance = account.balance
    found: list[Offer] = []
    if balance.centavos <= 0:
        return found
    due = business_day(today, policy.holidays) if policy.promise.move_off_holidays else today
    for kind, amount in (("promise_cure", account.min_to_cure), ("promise_past_due", account.past_due)):
        if amount.centavos <= 0 or any(o.kind.startswith("promise") and o.amount == amount for o in found):
            continue
        verdict = check_promise(account, open_promises, broken_recently, amount, due, today, policy)
        if verdict.allowed:
            found.append(Offer(kind, amount, due, approval=verdict.approval))
    limits = policy.settlement.discounts(account.bucket, balance.centavos)
    mine = limits.get(level, 0)
    if mine > 0:
        pay = Money(balance.centavos - balance.centavos * mine // 100, balance.currency)
        pay_by = business_day(today + timedelta(days=min(7, policy.settlement.max_days_to_pay)), policy.holidays)
        verdict = check_settlement(account, pay, pay_by, today, level, policy)
        if verdict.allowed:
            found.append(
                Offer("settlement", pay, pay_by, discount=discount_percent(balance, pay), approval=verdict.approval)
            )
    most = policy.plan.max_installments(account.bucket, balance.centavos)
    if most:
        down = Money(-(-balance.centavos * policy.plan.min_down_percent // 100), balance.currency)
        count = min(most, max((balance.centavos - down.centavos) // policy.plan.min_installment, 1))
        first = business_day(today + timedelta(days=min(7, policy.plan.max_days_to_first)), policy.holidays)
        verdict = check_plan(account, [], balance, down, count, first, "monthly", today, policy)
        if verdict.allowed:
            each = Money((balance.centavos - down.centavos) // count, balance.currency)
            found.append(Offer("plan", balance, first, count, down, each))
    if account.bucket in policy.restructure.buckets:
        rules = policy.restructure
        down = Money(-(-balance.centavos * rules.min_down_percent // 100), balance.currency)
        each = Money((balance.centavos - down.centavos) // rules.max_installments, balance.currency)
        first = business_day(today + timedelta(days=30), policy.holidays)
        found.append(Offer("restructure", balance, first, rules.max_installments, down, each, approval="supervisor"))
    return found


def check_agreement(
    account: Account,
    open_plans: list[PaymentPlan],
    kind: str,
    total: Money,
    down: Money,
    count: int,
    first: date,
    due_dates: list[date],
    frequency: str,
    today: date,
    level: str,
    policy: OfferPolicy,
) -> Verdict:
    """A plan, a settlement or a restructure as entered (`count` installments from `first`, falling
    on `due_dates` once moved off holidays, after the down payment): the one check the workstation
    and the server both make."""
    if kind == "settlement":
        verdict = check_settlement(account, total, due_dates[-1] if due_dates else today, today, level, policy, count)
    elif kind == "restructure":
        verdict = check_restructure(account, down, count, frequency, policy, total)
        if first < today or first > today + timedelta(days=policy.plan.max_days_to_first):
            last_day = today + timedelta(days=policy.plan.max_days_to_first)
            verdict = replace(
                verdict,
                problems=(*verdict.problems, Problem("plan.first_due_range", {"today": today, "last_day": last_day})),
            )
    else:
        return check_plan(account, open_plans, total, down, count, first, frequency, today, policy)
    if any(p.status in (PlanStatus.PROPOSED, PlanStatus.ACTIVE) for p in open_plans):
        verdict = replace(verdict, problems=(*verdict.problems, Problem("plan.overlap", {})))
    return verdict
