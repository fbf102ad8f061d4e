"""Where an account stands in the work queue: a score from configured points, with its reasons.

Pure: the facts of an account in, a score and the factors that made it out. The store keeps the
score in an indexed column so the queue pages in SQLite; the reasons are computed on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PriorityPoints:
    callback_due: int = 5000
    promise_due_today: int = 900
    promise_broken: int = 700
    per_bucket_rank: int = 60
    per_10k_past_due: int = 8
    max_past_due_points: int = 400
    not_contacted_7_days: int = 150
    contacted_today: int = -500
    contact_allowed_now: int = 250
    risk: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the score looks at, for one account, as of one day."""

    account_id: str
    bucket_rank: int
    past_due_centavos: int
    risk_segment: str
    last_contact_at: datetime | None
    promise_due_today: bool
    promise_broken: bool
    contacted_today: bool
    callback_due: bool = False
    contact_allowed_now: bool = False  # the contact rules allow calling the debtor now


@dataclass(frozen=True, slots=True)
class Reason:
    factor: str  # message id suffix: priority.<factor>
    points: int


def reasons(facts: AccountFacts, points: PriorityPoints, now: datetime) -> list[Reason]:
    """Every factor that adds or takes points, largest first."""
    found = []
    if facts.callback_due:
        found.append(Reason("callback_due", points.callback_due))
    if facts.promise_due_today:
        found.append(Reason("promise_due_today", points.promise_due_today))
    if facts.promise_broken:
        found.append(Reason("promise_broken", points.promise_broken))
    if facts.bucket_rank:
        found.append(Reason("bucket", points.per_bucket_rank * facts.bucket_rank))
    past_due = min(points.max_past_due_points, points.per_10k_past_due * (facts.past_due_centavos // 1_000_000))
    if past_due:
        found.append(Reason("past_due", past_due))
    risk = points.risk.get(facts.risk_segment, 0)
    if risk:
        found.append(Reason("risk", risk))
    if facts.contact_allowed_now:
        found.append(Reason("contact_allowed_now", points.contact_allowed_now))
    if facts.contacted_today and not facts.callback_due:  # a callback asked for today is no reason to wait
        found.append(Reason("contacted_today", points.contacted_today))
    elif facts.last_contact_at is None or (now - facts.last_contact_at).days >= 7:
        found.append(Reason("not_contacted_7_days", points.not_contacted_7_days))
    return sorted((r for r in found if r.points), key=lambda r: -abs(r.points))


def score(facts: AccountFacts, points: PriorityPoints, now: datetime) -> int:
    return sum(r.points for r in reasons(facts, points, now))
