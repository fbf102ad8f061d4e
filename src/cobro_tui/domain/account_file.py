"""The account file (expediente): everything an agent needs on screen for one call, and the alerts
that must catch the eye before dialling."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar

from cobro_tui.domain.keeping import evaluate_all
from cobro_tui.domain.models import (
    Account,
    ContactAttempt,
    ContactPoint,
    Customer,
    Note,
    Payment,
    PaymentPlan,
    Promise,
    PromiseStatus,
    Reference,
    Restriction,
    RestrictionKind,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Tracked(Generic[T]):
    """A record as the cache holds it, with its standing against the server (SyncState value)."""

    item: T
    sync_state: str


@dataclass(frozen=True, slots=True)
class AccountFile:
    account: Account
    customer: Customer
    other_accounts: tuple[Account, ...]
    contact_points: tuple[ContactPoint, ...]
    references: tuple[Reference, ...]
    payments: tuple[Payment, ...]  # newest first
    promises: tuple[Tracked[Promise], ...]  # newest first
    plans: tuple[Tracked[PaymentPlan], ...]
    contacts: tuple[Tracked[ContactAttempt], ...]  # newest first, the recent ones
    restrictions: tuple[Restriction, ...]
    notes: tuple[Tracked[Note], ...]

    def open_promises(self) -> list[Promise]:
        """Promises still running (open, or part paid before their deadline), not refused by the server."""
        return [
            p.item
            for p in self.promises
            if p.item.status in (PromiseStatus.OPEN, PromiseStatus.PARTIAL) and p.sync_state != "rejected"
        ]

    def judged(self, today: date) -> AccountFile:
        """The promises and plans as this file's payments leave them on `today`, the way the server judges them;
        a payment the server has not judged yet counts at once."""
        promises, plans = evaluate_all(
            [p.item for p in self.promises], [p.item for p in self.plans], self.payments, today
        )
        return replace(
            self,
            promises=tuple(Tracked(item, tracked.sync_state) for tracked, item in zip(self.promises, promises)),
            plans=tuple(Tracked(item, tracked.sync_state) for tracked, item in zip(self.plans, plans)),
        )


class Alert(StrEnum):
    """What must be seen before a call, most serious first (message ids: alert.<value>)."""

    DECEASED = "deceased"
    LEGAL_HOLD = "legal_hold"
    DISPUTE = "dispute"
    CEASE = "cease"
    CALLBACK_DUE = "callback_due"
    PAID_TODAY = "paid_today"
    WORKED_TODAY = "worked_today"
    PROMISE_DUE = "promise_due"
    PROMISE_OVERDUE = "promise_overdue"


_RESTRICTION_ALERTS = {
    RestrictionKind.DECEASED: Alert.DECEASED,
    RestrictionKind.LEGAL_HOLD: Alert.LEGAL_HOLD,
    RestrictionKind.DISPUTE: Alert.DISPUTE,
    RestrictionKind.CEASE: Alert.CEASE,
}


def alerts_for(file: AccountFile, now: datetime, today: date, contacted_today: bool) -> tuple[Alert, ...]:
    """The alerts of an account file at `now`, on `today` (the debtor's calendar day). `contacted_today`
    says whether anyone worked the customer today, which the file's recent contacts may not show."""
    found = {_RESTRICTION_ALERTS[r.kind] for r in file.restrictions if r.kind in _RESTRICTION_ALERTS}
    latest = file.contacts[0].item if file.contacts else None  # newest first
    if latest is not None and latest.callback_at is not None and latest.callback_at <= now:
        found.add(Alert.CALLBACK_DUE)
    if any(p.paid_on == today for p in file.payments):
        found.add(Alert.PAID_TODAY)
    if contacted_today:
        found.add(Alert.WORKED_TODAY)
    for promise in file.open_promises():
        if promise.due_on == today:
            found.add(Alert.PROMISE_DUE)
        elif promise.due_on < today:
            found.add(Alert.PROMISE_OVERDUE)
    return tuple(alert for alert in Alert if alert in found)
