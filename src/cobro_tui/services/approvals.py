"""A supervisor's approvals inbox: the offers held above their agents' authority, decided here
with a reason. Online only: the decision is the server's to record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cobro_tui.domain.money import Money
from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import day, money, t
from cobro_tui.sync.client import ApiClient, SyncError

MIN_REASON = 10  # the server's rule, said before sending


@dataclass(frozen=True, slots=True)
class Held:
    """One held offer, as the inbox shows it."""

    mutation_id: str
    agent: str
    account_id: str
    what: str  # the offer in a few words: kind, amount, date
    level: str
    why: str
    requested_at: datetime


def _what(name: str, args: dict[str, Any]) -> str:
    """The offer in a few words, from the command as pushed."""
    if name == "promise.create@1":
        amount = Money(args["amount"]["centavos"], args["amount"]["currency"])
        return t("approvals.what_promise", amount=money(amount), due_on=day(date.fromisoformat(args["due_on"])))
    down = Money(args["down_payment"]["centavos"], args["down_payment"]["currency"])
    total = sum((Money(i["amount"]["centavos"], i["amount"]["currency"]) for i in args.get("installments", [])), down)
    kind = args.get("kind", "plan")
    return t("approvals.what_plan", kind=t(f"plan.kind_{kind}"), total=money(total), count=len(args.get("installments", [])))


@dataclass(frozen=True, slots=True)
class ApprovalService:
    api: ApiClient
    user: str

    def pending(self) -> list[Held]:
        try:
            found = self.api.approvals("pending")
        except SyncError as exc:
            raise UserFacingError(t("approvals.unreachable", error=exc.message)) from None
        return [Held(item["mutation_id"], item["agent"], item["account_id"], _what(item["name"], item["args"]),
                     item["level"], item["why"], datetime.fromisoformat(item["requested_at"])) for item in found]

    def decide(self, mutation_id: str, approve: bool, reason: str) -> str:
        """Approve or deny with a reason; returns the sentence that says what came of it."""
        reason = reason.strip()
        if len(reason) < MIN_REASON:
            raise UserFacingError(t("approvals.reason_short", chars=MIN_REASON))
        try:
            verdict = self.api.decide(mutation_id, approve, reason)
        except SyncError as exc:
            raise UserFacingError(t("approvals.refused", error=exc.message)) from None
        if verdict["status"] == "applied":
            return t("approvals.approved")
        if approve:  # approved, but the account changed since: the server refused it now
            return t("approvals.approved_but_refused", reason=verdict["reason"]["message"])
        return t("approvals.denied")
