"""The contact-rule engine: may this person be contacted on this point, by this channel, now?

Pure: plain values in (the rule set, the person, the point, the instant, the history), a decision
out, with every rule evaluated, the reasons of a block or warning (rule id, legal source, message
key and values), and the next instant contact would be allowed. No clock, no files, no database.

Time-bound rules (windows, holidays, caps, the pause after a conversation) lift at a known instant;
the others (opt-out, consent, role, holds) lift only when the facts change, so their next instant
is None. Every time is compared in UTC; local times come from the point's candidate IANA zones and
a contact must fit the rules in all of them (the intersection) when the place is uncertain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache, partial
from typing import TypeVar
from zoneinfo import ZoneInfo

# Days ahead searched for an open window before giving up (a window set that never opens).
HORIZON_DAYS = 15
# The smallest step of time: a window [start, end) admits end - _TICK, not end.
_TICK = timedelta(microseconds=1)
# Instant-and-zone results a rule set keeps before starting afresh.
MEMO_SIZE = 20_000
_MISSING = object()
T = TypeVar("T")
# Lifts looked at before the next allowed instant is declared unknown (never reached in practice).
MAX_STEPS = 40


class Outcome(StrEnum):
    ALLOWED = "allowed"
    WARN = "warn"
    BLOCKED = "blocked"


class Result(StrEnum):
    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"
    NOT_APPLICABLE = "n/a"


class Counts(StrEnum):
    """What a cap counts: outbound attempts, conversations (either direction), or distinct channels."""

    ATTEMPTS = "attempts"
    CONVERSATIONS = "conversations"
    CHANNELS = "channels"


class Period(StrEnum):
    ROLLING = "rolling"  # the last `days` x 24 h before the instant
    DAY = "day"  # the debtor's calendar day
    WEEK = "week"  # the debtor's calendar week, Monday first


class Scope(StrEnum):
    PERSON = "person"
    DEBT = "debt"
    CREDITOR = "creditor"


@dataclass(frozen=True, slots=True)
class Rule:
    """What every rule carries into a decision: its id and the legal source it applies."""

    id: str
    source: str


@dataclass(frozen=True, slots=True)
class Window:
    """Contact allowed from `start` to `end` (half-open) on these weekdays (0 = Monday), local time."""

    days: frozenset[int]
    start: time
    end: time
    channels: frozenset[str] = frozenset()  # empty: every channel

    def covers(self, channel: str, weekday: int) -> bool:
        return weekday in self.days and (not self.channels or channel in self.channels)


@dataclass(frozen=True, slots=True)
class WindowRule:
    rule: Rule
    windows: tuple[Window, ...]


@dataclass(frozen=True, slots=True)
class Cap:
    rule: Rule
    limit: int
    counts: Counts
    period: Period
    days: int = 7  # for a rolling period
    scope: Scope = Scope.PERSON
    channels: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Lock:
    """No outbound contact on these channels for `days` local days after a conversation (its day is day 1)."""

    rule: Rule
    days: int
    scope: Scope = Scope.PERSON
    channels: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Flag:
    """A personal circumstance (minor, older adult) that blocks or warns, by the person's age."""

    rule: Rule
    result: Result
    age: int
    unless_obligor: bool = False  # the person owes the debt themselves (debtor, aval, deudor solidario)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A jurisdiction preset with its overlays and the institution's own rules, ready to apply."""

    name: str
    version: str
    country: str
    window_rules: tuple[WindowRule, ...]  # contact must fit a window of every one
    caps: tuple[Cap, ...] = ()
    locks: tuple[Lock, ...] = ()
    handle_minutes: dict[str, int] = field(default_factory=dict)  # by channel; a call must end in the window
    holidays: frozenset[date] = frozenset()
    holiday_rule: Rule | None = None  # None: holidays are ordinary days
    consent_channels: frozenset[str] = frozenset()
    consent_rule: Rule = Rule("consent", "")
    opt_out_rule: Rule = Rule("opt-out", "")
    holds: dict[str, Rule] = field(default_factory=dict)  # restriction kind -> rule that blocks on it
    blocked_roles: frozenset[str] = frozenset()
    roles_rule: Rule = Rule("roles", "")
    obligor_roles: frozenset[str] = frozenset({"debtor", "aval", "deudor_solidario"})
    minors: Flag | None = None
    older_adults: Flag | None = None
    supplied_only: Rule | None = None  # only contact points the creditor was given
    supplied_provenances: frozenset[str] = frozenset({"creditor", "debtor"})
    callback_exempts: Rule | None = None  # a callback the debtor asked for is outside caps and pauses
    callback_tolerance: timedelta = timedelta(minutes=15)
    # What the rules found for a zone at an instant (windows, period starts), shared by every decision
    # about that zone and instant: a whole queue asks the same few questions of the clock.
    memo: dict[tuple[object, ...], object] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def horizon(self) -> timedelta:
        """How far back the rules look: the longest period of a cap (a rolling one's days, a calendar
        week, a day) or pause, and a day to spare for zones behind the agent's."""
        days = [
            1,
            *(c.days if c.period is Period.ROLLING else 7 if c.period is Period.WEEK else 1 for c in self.caps),
            *(lock.days for lock in self.locks),
        ]
        return timedelta(days=max(days) + 1)

    def remembered(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        found = self.memo.get(key, _MISSING)
        if found is _MISSING:
            if len(self.memo) > MEMO_SIZE:
                self.memo.clear()
            found = self.memo[key] = make()
        return found  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Party:
    """Who would be contacted: the debtor or someone named on the account, and their age if known."""

    role: str = "debtor"
    birth_date: date | None = None


@dataclass(frozen=True, slots=True)
class Point:
    """The contact point as the rules see it."""

    id: str | None
    zones: tuple[str, ...]  # candidate IANA zones, most likely first
    provenance: str = "creditor"
    consent: frozenset[str] = frozenset()  # channels with a recorded consent
    opted_out: bool = False
    wrong_number: bool = False


@dataclass(frozen=True, slots=True)
class Past:
    """One contact in the person's history (synced or still pending on this workstation)."""

    at: datetime
    channel: str
    account_id: str
    creditor: str = ""
    outbound: bool = True
    attempt: bool = True  # counts as an attempt (placed, answered or not)
    conversation: bool = False  # the person was spoken with
    consented: bool = False  # made at a time the person asked for (excluded where a preset says so)


@dataclass(frozen=True, slots=True)
class Suppression:
    """An opt-out, cease request or hold; channel or point None means every one."""

    kind: str
    at: datetime
    channel: str | None = None
    point_id: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    at: datetime
    channel: str
    point: Point
    account_id: str
    party: Party = Party()
    creditor: str = ""
    history: tuple[Past, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    callback_at: datetime | None = None  # the debtor asked to be called back then


@dataclass(frozen=True, slots=True)
class Check:
    """One rule evaluated: its result and the message (key into the catalogs, with values)."""

    rule: Rule
    result: Result
    key: str
    values: dict[str, str] = field(default_factory=dict)
    lifts_at: datetime | None = None  # a time-bound block ends then


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    checks: tuple[Check, ...]
    at: datetime
    zones: tuple[str, ...]
    next_allowed: datetime | None  # `at` itself when allowed; None when only a change of facts helps
    window_closes: datetime | None = None  # when an allowed contact stops being allowed (end of window)

    @property
    def reasons(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.result in (Result.BLOCK, Result.WARN))

    @property
    def allowed(self) -> bool:
        return self.outcome is not Outcome.BLOCKED


def decide(rules: RuleSet, question: Question, explain: bool = True) -> Decision:
    """The decision for one contact at `question.at`: with every rule's check when `explain`, else
    only the blocks and warnings (the same outcome and instants, for a whole queue at once)."""
    at = question.at.astimezone(UTC)
    zones = question.point.zones
    quick = None if explain else _standing_quick(rules, question, at)
    if quick == [] and not question.history and question.callback_at is None:
        # Nothing about this person or point matters: the same answer as anyone's in these zones now.
        return rules.remembered(("d", zones, question.channel, at), lambda: _decide(rules, question, at, [], explain))
    standing = quick if quick is not None else _standing_checks(rules, question, at, explain)
    return _decide(rules, question, at, standing, explain)


def _decide(rules: RuleSet, question: Question, at: datetime, standing: list[Check], explain: bool) -> Decision:
    zones = question.point.zones
    timed = _timed_checks(rules, question, at, explain)
    checks = standing + timed if standing else timed
    standing_block = bool(standing) and any(c.result is Result.BLOCK for c in standing)
    if explain:
        blocked = standing_block or any(c.result is Result.BLOCK for c in timed)
    else:
        blocked = standing_block or bool(timed)  # a brief decision keeps only the blocking timed checks
    warned = bool(standing) and any(c.result is Result.WARN for c in standing)
    outcome = Outcome.BLOCKED if blocked else Outcome.WARN if warned else Outcome.ALLOWED
    if standing_block:
        next_allowed = None
    elif blocked:
        next_allowed = _next_allowed(rules, question, timed)
    else:
        next_allowed = at
    closes = (
        None
        if blocked
        else rules.remembered(("c", zones, question.channel, at), lambda: _window_closes(rules, question, at))
    )
    return Decision(outcome, tuple(checks), at, zones, next_allowed, closes)


# --- rules that only a change of facts lifts ---------------------------------------------------


def _standing_quick(rules: RuleSet, q: Question, at: datetime) -> list[Check] | None:
    """The blocks and warnings of the standing rules when only a person's age can raise any (the
    usual case, a few comparisons); None means "look closely" and `_standing_checks` decides."""
    point, party = q.point, q.party
    if q.suppressions or point.wrong_number or point.opted_out or party.role in rules.blocked_roles:
        return None
    if q.channel in rules.consent_channels and q.channel not in point.consent:
        return None
    if rules.supplied_only is not None and point.provenance not in rules.supplied_provenances:
        return None
    found: list[Check] = []
    if party.birth_date is not None:
        for flag, key in ((rules.minors, "minor"), (rules.older_adults, "older_adult")):
            if flag is not None:
                check = _age_check(flag, key, party, at, point.zones, explain=False)
                if check.result in (Result.BLOCK, Result.WARN):
                    found.append(check)
    return found


def _standing_checks(rules: RuleSet, q: Question, at: datetime, explain: bool) -> list[Check]:
    checks: list[Check] = []
    point, party, channel = q.point, q.party, q.channel
    # Holds and stop requests recorded up to this instant (also those still pending here).
    in_force = [s for s in q.suppressions if s.at <= at] if q.suppressions else []
    if in_force or point.wrong_number or explain:
        for kind, rule in rules.holds.items():
            hit = any(s.kind == kind and _covers(s, point.id, channel) for s in in_force)
            if kind == "wrong_number":
                hit = hit or point.wrong_number
            _put(checks, explain, rule, hit, f"rules.hold.{kind}", "rules.no_hold", ("kind", kind))
    if point.opted_out or in_force or explain:
        stop = point.opted_out or any(s.kind == "opt_out" and _covers(s, point.id, channel) for s in in_force)
        _put(checks, explain, rules.opt_out_rule, stop, "rules.opted_out", "rules.not_opted_out")
    if "wrong_number" not in rules.holds:
        _put(
            checks,
            explain,
            rules.opt_out_rule,
            point.wrong_number,
            "rules.hold.wrong_number",
            "rules.no_hold",
            ("kind", "wrong_number"),
        )
    if channel in rules.consent_channels:
        _put(
            checks,
            explain,
            rules.consent_rule,
            channel not in point.consent,
            "rules.consent_missing",
            "rules.consent_given",
            ("channel", channel),
        )
    elif explain:
        checks.append(
            Check(rules.consent_rule, Result.NOT_APPLICABLE, "rules.consent_not_needed", {"channel": channel})
        )
    _put(
        checks,
        explain,
        rules.roles_rule,
        party.role in rules.blocked_roles,
        "rules.role_blocked",
        "rules.role_allowed",
        ("role", party.role),
    )
    if rules.supplied_only is not None:
        _put(
            checks,
            explain,
            rules.supplied_only,
            point.provenance not in rules.supplied_provenances,
            "rules.point_not_supplied",
            "rules.point_supplied",
            ("provenance", point.provenance),
        )
    if party.birth_date is not None or explain:
        for flag, key in ((rules.minors, "minor"), (rules.older_adults, "older_adult")):
            if flag is not None:
                check = _age_check(flag, key, party, at, point.zones, explain)
                if explain or check.result in (Result.BLOCK, Result.WARN):
                    checks.append(check)
    return checks


def _put(
    checks: list[Check],
    explain: bool,
    rule: Rule,
    failed: bool,
    fail: str,
    ok: str,
    value: tuple[str, str] | None = None,
) -> None:
    """A blocked check always; a passed one only when the decision is explained."""
    if failed or explain:
        values = {value[0]: value[1]} if value else {}
        checks.append(Check(rule, Result.BLOCK, fail, values) if failed else Check(rule, Result.PASS, ok, values))


def _covers(s: Suppression, point_id: str | None, channel: str) -> bool:
    return (s.point_id is None or s.point_id == point_id) and (s.channel is None or s.channel == channel)


_PASSED = Check(Rule("-", "-"), Result.PASS, "-")


def _age_check(flag: Flag, key: str, party: Party, at: datetime, zones: tuple[str, ...], explain: bool = True) -> Check:
    if party.birth_date is None:
        return Check(flag.rule, Result.NOT_APPLICABLE, "rules.age_unknown")
    # Clear of the limit by more than a year either way: no need for the exact local date.
    years = at.year - party.birth_date.year
    if not explain and (years > flag.age + 1 if key == "minor" else years < flag.age - 1):
        return _PASSED
    today = _local(at, zones[0] if zones else "UTC").date()
    born = party.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    values = {"age": str(age), "limit": str(flag.age)}
    hit = age < flag.age if key == "minor" else age >= flag.age
    if not hit:
        return Check(flag.rule, Result.PASS, f"rules.not_{key}", values)
    if flag.unless_obligor and party.role in ("debtor", "aval", "deudor_solidario"):
        return Check(flag.rule, Result.WARN, f"rules.{key}_obligor", values)
    return Check(flag.rule, flag.result, f"rules.{key}", values)


# --- rules bound to time ---------------------------------------------------------------------


def _timed_checks(rules: RuleSet, q: Question, at: datetime, explain: bool = True) -> list[Check]:
    zones, channel = q.point.zones, q.channel
    checks: list[Check | None] = [
        rules.remembered(("w", i, zones, channel, at, explain), partial(_window_check, rules, wr, q, at, explain))
        for i, wr in enumerate(rules.window_rules)
    ]
    if rules.holiday_rule is not None:
        checks.append(rules.remembered(("h", zones, at), lambda: _holiday_check(rules, q, at)))
    exempt = _callback_exempt(rules, q, at)
    if exempt is not None:
        checks += [exempt] * (len(rules.caps) + len(rules.locks))
    elif explain:
        checks += [_cap_check(cap, q, at) for cap in rules.caps]
        checks += [_lock_check(lock, q, at) for lock in rules.locks]
    elif q.history:
        # Fewer contacts on record than a cap allows cannot reach it: only the others are counted.
        checks += [
            _cap_check(cap, q, at) for cap in rules.caps if len(q.history) >= cap.limit or cap.counts is Counts.CHANNELS
        ]
        checks += [_lock_check(lock, q, at) for lock in rules.locks]
    if not explain:
        return [c for c in checks if c is not None and c.result is Result.BLOCK]
    return [c for c in checks if c is not None]  # explained, every window check is a Check


def _handle(rules: RuleSet, channel: str) -> timedelta:
    return timedelta(minutes=rules.handle_minutes.get(channel, 0))


def _window_check(rules: RuleSet, wr: WindowRule, q: Question, at: datetime, explain: bool = True) -> Check | None:
    handle = _handle(rules, q.channel)
    lift = at
    for zone in q.point.zones:
        opening = _next_opening(
            wr.windows, q.channel, zone, at, handle, rules.holidays if rules.holiday_rule else frozenset()
        )
        if opening is None:
            return Check(wr.rule, Result.BLOCK, "rules.no_window", {"channel": q.channel})
        lift = max(lift, opening)
    if lift == at and not explain:
        return None
    local = _local(at, q.point.zones[0]) if q.point.zones else at
    values = {
        "local": local.strftime("%H:%M"),
        "zone": q.point.zones[0] if q.point.zones else "UTC",
        "span": _span_text(wr.windows, q.channel, local.weekday()),
    }
    if lift == at:
        return Check(wr.rule, Result.PASS, "rules.in_window", values)
    values["opens"] = _local(lift, q.point.zones[0]).strftime("%Y-%m-%d %H:%M")
    key = (
        "rules.too_late_to_finish" if _inside_any(wr.windows, q.channel, q.point.zones, at) else "rules.outside_window"
    )
    return Check(wr.rule, Result.BLOCK, key, {**values, "minutes": str(int(handle.total_seconds() // 60))}, lift)


def _span_text(windows: tuple[Window, ...], channel: str, weekday: int) -> str:
    spans = [f"{w.start:%H:%M}-{w.end:%H:%M}" for w in windows if w.covers(channel, weekday)]
    return ", ".join(spans) or "-"


def _inside_any(windows: tuple[Window, ...], channel: str, zones: tuple[str, ...], at: datetime) -> bool:
    """The instant is inside a window in every zone (only the handle time does not fit)."""
    for zone in zones:
        local = _local(at, zone)
        if not any(w.covers(channel, local.weekday()) and w.start <= local.time() < w.end for w in windows):
            return False
    return True


def _next_opening(
    windows: tuple[Window, ...], channel: str, zone: str, at: datetime, handle: timedelta, holidays: frozenset[date]
) -> datetime | None:
    """The first instant at or after `at` when a contact of `handle` length fits a window in `zone`."""
    day = _local(at, zone).date()
    for offset in range(HORIZON_DAYS):
        current = day + timedelta(days=offset)
        if current in holidays:
            continue
        for start, end in _day_spans(windows, channel, zone, current):
            # Half-open: a message at the closing instant is late too; a call must also end in time.
            latest = min(end - handle, end - _TICK)
            if latest >= start and at <= latest:
                return max(at, start)
    return None


@lru_cache(maxsize=65536)
def _day_spans(
    windows: tuple[Window, ...], channel: str, zone: str, day: date
) -> tuple[tuple[datetime, datetime], ...]:
    """The windows of one local day as UTC instants, earliest first (cached: the same few days recur)."""
    tz = _zone(zone)
    spans = []
    for w in windows:
        if w.covers(channel, day.weekday()):
            start = datetime.combine(day, w.start, tzinfo=tz).astimezone(UTC)
            end_day = day + timedelta(days=1) if w.end == time(0) else day
            end = datetime.combine(end_day, w.end, tzinfo=tz).astimezone(UTC)
            spans.append((start, end))
    return tuple(sorted(spans))


def _window_closes(rules: RuleSet, q: Question, at: datetime) -> datetime | None:
    """When the window the instant is in stops admitting a contact (the earliest over rules and zones)."""
    handle = _handle(rules, q.channel)
    closes: datetime | None = None
    for wr in rules.window_rules:
        for zone in q.point.zones:
            day = _local(at, zone).date()
            for start, end in _day_spans(wr.windows, q.channel, zone, day):
                if start <= at <= min(end - handle, end - _TICK):
                    last = end - handle
                    closes = last if closes is None else min(closes, last)
    return closes


def _holiday_check(rules: RuleSet, q: Question, at: datetime) -> Check:
    rule = rules.holiday_rule
    assert rule is not None
    for zone in q.point.zones:
        local_day = _local(at, zone).date()
        if local_day in rules.holidays:
            lift = datetime.combine(_next_working(local_day, rules.holidays), time(0), tzinfo=_zone(zone)).astimezone(
                UTC
            )
            return Check(rule, Result.BLOCK, "rules.holiday", {"day": local_day.isoformat()}, lift)
    return Check(rule, Result.PASS, "rules.not_holiday")


def _next_working(day: date, holidays: frozenset[date]) -> date:
    day += timedelta(days=1)
    while day in holidays:
        day += timedelta(days=1)
    return day


def _callback_exempt(rules: RuleSet, q: Question, at: datetime) -> Check | None:
    """A callback at the time the debtor asked for is outside the caps and pauses, where the preset says so."""
    if rules.callback_exempts is None or q.callback_at is None:
        return None
    if abs(q.callback_at.astimezone(UTC) - at) > rules.callback_tolerance:
        return None
    return Check(
        rules.callback_exempts,
        Result.PASS,
        "rules.callback_requested",
        {"at": _local(q.callback_at, q.point.zones[0] if q.point.zones else "UTC").strftime("%H:%M")},
    )


def _in_scope(scope: Scope, past: Past, q: Question) -> bool:
    if scope is Scope.DEBT:
        return past.account_id == q.account_id
    if scope is Scope.CREDITOR:
        return past.creditor == q.creditor
    return True


def _counted(cap: Cap, past: Past, q: Question) -> bool:
    if cap.channels and past.channel not in cap.channels:
        return False
    if not _in_scope(cap.scope, past, q):
        return False
    if cap.counts is Counts.CONVERSATIONS:
        return past.conversation
    return past.outbound and past.attempt and not past.consented


def _period_start(cap: Cap, at: datetime, zone: str) -> datetime:
    if cap.period is Period.ROLLING:
        return at - timedelta(days=cap.days)
    local = _local(at, zone).date()
    return _midnight(local - timedelta(days=local.weekday()) if cap.period is Period.WEEK else local, zone)


@lru_cache(maxsize=4096)
def _remembered_start(cap: Cap, at: datetime, zone: str) -> datetime:
    return _period_start(cap, at, zone)


@lru_cache(maxsize=4096)
def _midnight(day: date, zone: str) -> datetime:
    """The start of a local day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=_zone(zone)).astimezone(UTC)


def _period_end(cap: Cap, at: datetime, zone: str) -> datetime:
    local = _local(at, zone)
    days = 7 - local.weekday() if cap.period is Period.WEEK else 1
    return datetime.combine(local.date() + timedelta(days=days), time(0), tzinfo=_zone(zone)).astimezone(UTC)


def _cap_check(cap: Cap, q: Question, at: datetime) -> Check:
    if cap.channels and q.channel not in cap.channels:
        return Check(cap.rule, Result.NOT_APPLICABLE, "rules.cap_other_channel", {"channel": q.channel})
    zone = q.point.zones[0] if q.point.zones else "UTC"
    since = _period_start(cap, at, zone) if cap.period is Period.ROLLING else _remembered_start(cap, at, zone)
    counted = sorted(p.at for p in q.history if since < p.at <= at and _counted(cap, p, q))
    values = {"limit": str(cap.limit), "period": _period_words(cap)}
    if cap.counts is Counts.CHANNELS:
        used = {
            p.channel
            for p in q.history
            if since < p.at <= at and _in_scope(cap.scope, p, q) and p.outbound and p.attempt
        }
        values["used"] = ", ".join(sorted(used)) or "-"
        if q.channel in used or len(used) < cap.limit:
            return Check(cap.rule, Result.PASS, "rules.channels_ok", values)
        return Check(cap.rule, Result.BLOCK, "rules.channels_used", values, _period_end(cap, at, zone))
    values["count"] = str(len(counted))
    if len(counted) < cap.limit:
        return Check(cap.rule, Result.PASS, "rules.cap_ok", values)
    if cap.period is Period.ROLLING:
        # The cap lifts when enough of the counted contacts have left the rolling period.
        lift = counted[len(counted) - cap.limit] + timedelta(days=cap.days) + timedelta(microseconds=1)
    else:
        lift = _period_end(cap, at, zone)
    return Check(cap.rule, Result.BLOCK, "rules.cap_reached", values, lift)


def _period_words(cap: Cap) -> str:
    return f"rolling:{cap.days}" if cap.period is Period.ROLLING else cap.period.value


def _lock_check(lock: Lock, q: Question, at: datetime) -> Check:
    if lock.channels and q.channel not in lock.channels:
        return Check(lock.rule, Result.NOT_APPLICABLE, "rules.cap_other_channel", {"channel": q.channel})
    zone = q.point.zones[0] if q.point.zones else "UTC"
    today = _local(at, zone).date()
    lift: datetime | None = None
    for past in q.history:
        if not past.conversation or not _in_scope(lock.scope, past, q):
            continue
        if lock.channels and past.channel not in lock.channels:
            continue
        if past.at > at:
            continue
        first_free = _local(past.at, zone).date() + timedelta(days=lock.days)
        if today < first_free:
            free_at = datetime.combine(first_free, time(0), tzinfo=_zone(zone)).astimezone(UTC)
            lift = free_at if lift is None else max(lift, free_at)
    if lift is None:
        return Check(lock.rule, Result.PASS, "rules.no_pause", {"days": str(lock.days)})
    return Check(
        lock.rule,
        Result.BLOCK,
        "rules.pause_after_conversation",
        {"days": str(lock.days), "until": _local(lift, zone).strftime("%Y-%m-%d")},
        lift,
    )


def _next_allowed(rules: RuleSet, q: Question, blocking: Iterable[Check]) -> datetime | None:
    """Step from lift to lift until every time-bound rule passes at once."""
    checks, checks_at = list(blocking), q.at.astimezone(UTC)
    for _ in range(MAX_STEPS):
        failing = [c for c in checks if c.result is Result.BLOCK]
        if not failing:
            return checks_at
        lifts = [c.lifts_at for c in failing]
        if any(lift is None for lift in lifts):
            return None
        checks_at = max(lift for lift in lifts if lift is not None)
        checks = _timed_checks(rules, q, checks_at, explain=False)
    return None


# --- time zones ------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(at: datetime, zone: str) -> datetime:
    return at.astimezone(_zone(zone))
