"""The work queue as the agent sees it: one entry per account, and the key that pages it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cobro_tui.domain.models import Product
from cobro_tui.domain.money import Money


@dataclass(frozen=True, slots=True)
class QueueKey:
    """Where a page ends, in queue order (highest priority, then most days past due, then id)."""

    priority: int
    dpd: int
    id: str


@dataclass(frozen=True, slots=True)
class QueueEntry:
    account_id: str
    customer_name: str
    account_last4: str
    product: Product
    bucket: str
    dpd: int
    past_due: Money
    balance: Money
    last_contact_at: datetime | None
    sync_state: str
    priority: int = 0
    contact_from: datetime | None = None  # next instant the rules allow a call (None: not until facts change)
    callable_now: bool = False

    @property
    def key(self) -> QueueKey:
        return QueueKey(self.priority, self.dpd, self.account_id)


@dataclass(frozen=True, slots=True)
class QueuePage:
    entries: tuple[QueueEntry, ...]
    total: int
    next_key: QueueKey | None


class PromiseFilter(StrEnum):
    OPEN = "open"  # has an open promise
    DUE_TODAY = "due_today"  # an open promise falls due today
    BROKEN = "broken"  # an open promise is past its date
    NONE = "none"  # no open promise


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which accounts the queue shows; None in a field means any."""

    bucket: str | None = None
    product: Product | None = None
    segment: str | None = None
    promise: PromiseFilter | None = None
    callable_now: bool | None = None  # True: only accounts the contact rules allow calling now

    @property
    def active(self) -> bool:
        return any(
            value is not None for value in (self.bucket, self.product, self.segment, self.promise, self.callable_now)
        )


@dataclass(frozen=True, slots=True)
class SearchHit:
    account_id: str
    customer_name: str
    account_last4: str
    matched: str  # what matched: "name", "account" or "phone"
