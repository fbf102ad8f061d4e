"""Supervisor KPIs as formulas over plain facts (docs/kpi.md defines each one). The server feeds
them from its tables; tests feed them a small portfolio worked out by hand. Pure: no I/O."""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction

from cobro_tui.domain.models import BucketHistoryEntry
from cobro_tui.domain.result_codes import ResultCodeCatalog


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (a rate of nothing is not zero)."""
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class AttemptFact:
    agent: str
    channel: str
    started_at: datetime  # UTC
    result_code: str


@dataclass(frozen=True, slots=True)
class PromiseFact:
    agent: str
    made_at: datetime
    amount: int  # centavos
    deadline: date  # due day plus grace
    status: str  # open, partial, kept, broken, cancelled
    paid: int = 0  # centavos


class Rates:
    """The rates of whatever counts attempts, right-party contacts and promises (and, when it has
    them, the hours agents dialled)."""

    __slots__ = ()
    attempts: int
    contacts: int  # right-party contacts
    promises: int

    @property
    def rpc_rate(self) -> float | None:
        return ratio(self.contacts, self.attempts)

    @property
    def promise_rate(self) -> float | None:
        return ratio(self.promises, self.contacts)


class HourlyRates(Rates):
    __slots__ = ()
    agent_hours: int  # distinct (agent, clock hour) with at least one attempt

    @property
    def attempts_per_hour(self) -> float | None:
        return ratio(self.attempts, self.agent_hours)

    @property
    def contacts_per_hour(self) -> float | None:
        return ratio(self.contacts, self.agent_hours)


@dataclass(frozen=True, slots=True)
class ChannelFigures(Rates):
    attempts: int
    contacts: int
    promises: int


@dataclass(frozen=True, slots=True)
class ContactFigures(HourlyRates):
    attempts: int
    contacts: int
    agent_hours: int
    promises: int
    by_channel: dict[str, ChannelFigures] = field(default_factory=dict)


def contact_figures(
    attempts: Iterable[AttemptFact], codes: ResultCodeCatalog, promises: int | None = None
) -> ContactFigures:
    """Attempts, right-party contacts and promises (by the result codes' flags), per agent-hour and
    per channel. `promises`, when given, is the period's total counted from the promises themselves."""
    counts: Counter[tuple[str, str, str, str]] = Counter(
        (f.agent, f.channel, f.started_at.strftime("%Y-%m-%dT%H"), f.result_code) for f in attempts
    )
    return contact_figures_from_counts(((*key, n) for key, n in counts.items()), codes, promises)


def contact_figures_from_counts(
    rows: Iterable[tuple[str, str, str, str, int]], codes: ResultCodeCatalog, promises: int | None = None
) -> ContactFigures:
    """The same from counts already grouped by (agent, channel, clock hour, result code)."""
    attempt_codes = {c.code for c in codes.codes if c.attempt}
    sums: Counter[tuple[str, str]] = Counter()
    hours: set[tuple[str, str]] = set()
    for agent, channel, hour, code, n in rows:
        sums[(channel, code)] += n
        if code in attempt_codes:
            hours.add((agent, hour))
    return contact_figures_from_sums(sums.items(), len(hours), codes, promises)


def contact_figures_from_sums(
    sums: Iterable[tuple[tuple[str, str], int]], agent_hours: int, codes: ResultCodeCatalog, promises: int | None = None
) -> ContactFigures:
    """The same from counts by (channel, result code) and the agent-hours counted apart, as a
    database sums them. A channel's promises are its contacts whose result code records one
    (`promise = true`); the total is `promises` when given, their sum otherwise."""
    counted = {c.code: (c.attempt, c.right_party_contact, c.promise) for c in codes.codes}
    total_attempts = total_contacts = 0
    per_channel: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (channel, code), n in sums:
        attempt, contact, promise = counted.get(code, (False, False, False))
        if attempt:
            total_attempts += n
            per_channel[channel][0] += n
        if contact:
            total_contacts += n
            per_channel[channel][1] += n
        if promise:
            per_channel[channel][2] += n
    channels = {channel: ChannelFigures(a, c, p) for channel, (a, c, p) in per_channel.items()}
    total = promises if promises is not None else sum(c.promises for c in channels.values())
    return ContactFigures(total_attempts, total_contacts, agent_hours, total, channels)


@dataclass(frozen=True, slots=True)
class AgentFigures(HourlyRates):
    """One agent's figures over the period, to set agents side by side."""

    agent: str
    attempts: int
    contacts: int
    agent_hours: int
    promises: int
    judged: int  # promises whose deadline passed in the period: kept or broken
    kept: int
    recovered: int  # centavos received on the accounts the agent held

    @property
    def kept_rate(self) -> float | None:
        return ratio(self.kept, self.judged)


@dataclass(frozen=True, slots=True)
class KeptFigures:
    judged: int  # promises whose deadline passed: kept or broken
    kept: int
    promised_amount: int
    kept_amount: int  # what was paid on them, kept or not

    @property
    def kept_rate(self) -> float | None:
        return ratio(self.kept, self.judged)

    @property
    def kept_amount_rate(self) -> float | None:
        return ratio(self.kept_amount, self.promised_amount)


def kept_figures(promises: Iterable[PromiseFact], as_of: date) -> KeptFigures:
    """Promise-kept rate by count and by amount, over the promises already judged (deadline before
    `as_of`, kept or broken); open and cancelled ones are left out."""
    judged = kept = promised = paid = 0
    for promise in promises:
        if promise.deadline >= as_of or promise.status not in ("kept", "broken"):
            continue
        judged += 1
        kept += promise.status == "kept"
        promised += promise.amount
        paid += min(promise.paid, promise.amount)
    return KeptFigures(judged, kept, promised, paid)


@dataclass(frozen=True, slots=True)
class RecoveryFigures:
    amount: int  # centavos received in the period
    payments: int
    target: int | None  # centavos; None when the team has none

    @property
    def share(self) -> float | None:
        """What was recovered as a share of the target."""
        return ratio(self.amount, self.target) if self.target else None


def period_target(monthly: int, first: date, last: date) -> int:
    """A monthly target over the days `first` to `last` (both counted): each day is its month's
    1/days-in-month share; rounded to the centavo (half up) once, at the end."""
    total = Fraction(0)
    day = first
    while day <= last:
        in_month = calendar.monthrange(day.year, day.month)[1]
        month_end = date(day.year, day.month, in_month)
        total += Fraction(monthly * ((min(last, month_end) - day).days + 1), in_month)
        day = month_end + timedelta(days=1)
    return int(total + Fraction(1, 2))


def recovery_figures(
    payments: Iterable[tuple[date, int]], first: date, last: date, monthly_target: int | None
) -> RecoveryFigures:
    """Payments (day, centavos) received from `first` to `last`, against the prorated target."""
    received = [amount for day, amount in payments if first <= day <= last]
    target = period_target(monthly_target, first, last) if monthly_target else None
    return RecoveryFigures(sum(received), len(received), target)


def bucket_on(history: Sequence[BucketHistoryEntry], day: date) -> str | None:
    """The bucket an account was in on `day`, from its history (None: not on the books then)."""
    for entry in history:
        if entry.entered_on <= day and (entry.left_on is None or day < entry.left_on):
            return entry.bucket
    return None


def _histories(entries: Iterable[BucketHistoryEntry]) -> dict[str, list[BucketHistoryEntry]]:
    found: dict[str, list[BucketHistoryEntry]] = defaultdict(list)
    for entry in entries:
        found[entry.account_id].append(entry)
    return found


def roll_rates(entries: Iterable[BucketHistoryEntry], start: date, end: date) -> dict[str, dict[str, float]]:
    """For the accounts in each bucket on `start`, the share in each bucket on `end` (rows add up to
    1; an account no longer on the books by `end` counts as "closed")."""
    moves: Counter[tuple[str, str]] = Counter()
    for history in _histories(entries).values():
        before = bucket_on(history, start)
        if before is not None:
            moves[(before, bucket_on(history, end) or "closed")] += 1
    return roll_rates_from_moves(moves.items())


def roll_rates_from_moves(moves: Iterable[tuple[tuple[str, str], int]]) -> dict[str, dict[str, float]]:
    """The same from accounts counted by (bucket at the start, bucket at the end), as a database counts them."""
    rows: dict[str, dict[str, int]] = defaultdict(dict)
    for (before, after), n in moves:
        rows[before][after] = rows[before].get(after, 0) + n
    return {b: {to: n / sum(row.values()) for to, n in row.items()} for b, row in rows.items()}


def aging(accounts: Iterable[tuple[str, int]], order: Sequence[str]) -> list[tuple[str, int, int]]:
    """Accounts and balance (centavos) per bucket, in the bucket set's order."""
    count: Counter[str] = Counter()
    balance: Counter[str] = Counter()
    for bucket, owed in accounts:
        count[bucket] += 1
        balance[bucket] += owed
    return [(bucket, count[bucket], balance[bucket]) for bucket in order]


def aging_from_sums(sums: Iterable[tuple[str, int, int]], order: Sequence[str]) -> list[tuple[str, int, int]]:
    """The same from (bucket, accounts, balance) already summed, as a database sums them."""
    found = {bucket: (n, owed) for bucket, n, owed in sums}
    return [(bucket, *found.get(bucket, (0, 0))) for bucket in order]


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def vintage(
    opened: dict[str, date], entries: Iterable[BucketHistoryEntry], bad: set[str], as_of: date, months: int = 12
) -> dict[str, list[float | None]]:
    """Vintage curves: for each origination month, the share of its accounts that had been in a `bad`
    bucket by the end of each month on book (1..months; the current month so far); None where that
    month has not begun."""
    first_bad: dict[str, date] = {}
    for entry in entries:
        if entry.bucket in bad and (
            entry.account_id not in first_bad or entry.entered_on < first_bad[entry.account_id]
        ):
            first_bad[entry.account_id] = entry.entered_on
    sizes: Counter[str] = Counter()
    went_bad: Counter[tuple[str, int]] = Counter()
    for account_id, day in opened.items():
        cohort = day.strftime("%Y-%m")
        sizes[cohort] += 1
        if account_id in first_bad:
            went_bad[(cohort, months_between(day.replace(day=1), first_bad[account_id]))] += 1
    return vintage_from_counts(sizes, went_bad, as_of, months)


def vintage_from_counts(
    sizes: dict[str, int], went_bad: dict[tuple[str, int], int], as_of: date, months: int = 12
) -> dict[str, list[float | None]]:
    """The same from counts, as a database makes them: accounts per origination month ("2026-03"),
    and per (origination month, months from its first day to the first bad day)."""
    by_month: dict[str, Counter[int]] = defaultdict(Counter)
    for (cohort, month), n in went_bad.items():
        by_month[cohort][month] += n
    curves: dict[str, list[float | None]] = {}
    for cohort, size in sorted(sizes.items()):
        start = date(int(cohort[:4]), int(cohort[5:]), 1)
        curve: list[float | None] = []
        for k in range(1, months + 1):
            if months_between(start, as_of) < k - 1:  # the month has not begun (the current one shows so far)
                curve.append(None)
            else:
                curve.append(sum(n for m, n in by_month[cohort].items() if m < k) / size)
        curves[cohort] = curve
    return curves
