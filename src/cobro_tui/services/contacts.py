"""Logging contact attempts (gestiones): validated against the catalogue, saved for sync and audit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from cobro_tui.clock import Clock
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import Channel, ContactAttempt, Direction
from cobro_tui.domain.text import without_controls
from cobro_tui.errors import Refusal
from cobro_tui.i18n import t
from cobro_tui.policy import Policy
from cobro_tui.services.rules import PointDecision, RulesService, reasons_text
from cobro_tui.store.actions import UnknownAccount, record_contact_attempt
from cobro_tui.store.device import Device
from cobro_tui.store.outbox import OutboxItem

MAX_CALLBACK_DAYS = 30
# An override reason says what happened, not "ok": at least this many characters.
MIN_OVERRIDE_REASON = 15


class ContactRefused(Refusal):
    """A contact that cannot be logged as entered; the message says what to change."""

    decision: PointDecision | None = None  # when the contact rules refused it


@dataclass(frozen=True, slots=True)
class LoggedContact:
    attempt: ContactAttempt
    outbox: OutboxItem


@dataclass(frozen=True, slots=True)
class ContactService:
    engine: Engine
    clock: Clock
    policy: Policy
    device: Device
    # Called after every committed local write (the app syncs then); shared with the other services.
    after_write: list[Callable[[], None]] = field(default_factory=list)
    # Scores the queue again for these accounts after a write (QueueService.rescore).
    rescore: Callable[[list[str]], object] | None = None
    # The contact rules; None only in tests of the catalogue checks alone.
    rules: RulesService | None = None
    # A supervisor may log a contact the rules block, with a written reason (the server checks the role too).
    may_override: bool = False

    def log(
        self,
        *,
        account_id: str,
        customer_id: str,
        channel: Channel,
        result_code: str,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        direction: Direction = Direction.OUTBOUND,
        contact_point_id: str | None = None,
        problem_code: str | None = None,
        circumstance: str = "",
        resolution: str = "",
        notes: str = "",
        script_steps: tuple[str, ...] = (),
        callback_at: datetime | None = None,
        override_reason: str | None = None,
    ) -> LoggedContact:
        """Record one contact attempt; refused with a reason when the code or times do not fit."""
        catalog = self.policy.result_codes
        if result_code not in catalog:
            known = ", ".join(c.code for c in catalog.for_channel(channel.value))
            raise ContactRefused("contact.unknown_code", code=result_code, known=known)
        if result_code not in {c.code for c in catalog.for_channel(channel.value)}:
            raise ContactRefused(
                "contact.code_not_for_channel", code=result_code, channel=t(f"channel.{channel.value}")
            )
        if result_code in self.policy.offers.pcr_required:
            missing = [
                t(f"contact.pcr_{name}")
                for name, value in (
                    ("problem", problem_code or ""),
                    ("circumstance", circumstance),
                    ("resolution", resolution),
                )
                if not value.strip()
            ]
            if missing:
                raise ContactRefused("contact.pcr_required", code=result_code, missing=", ".join(missing))
        now = self.clock.now()
        started = started_at or now
        if ended_at is not None and ended_at < started:
            raise ContactRefused("contact.ends_before_start")
        if started > now:
            raise ContactRefused("contact.in_future")
        if callback_at is not None and callback_at <= now:
            raise ContactRefused("contact.callback_past")
        if callback_at is not None and callback_at > now + timedelta(days=MAX_CALLBACK_DAYS):
            raise ContactRefused("contact.callback_far", days=MAX_CALLBACK_DAYS)
        override_reason = without_controls((override_reason or "").strip()) or None
        notes = without_controls(notes)  # what the agent typed or pasted: text, never terminal controls
        if direction is Direction.OUTBOUND and self.rules is not None:
            self._check_rules(account_id, contact_point_id, channel, started, override_reason)
        elif override_reason is not None:
            raise ContactRefused("rules.override_not_needed")
        attempt = ContactAttempt(
            id=new_id(),
            account_id=account_id,
            customer_id=customer_id,
            channel=channel,
            direction=direction,
            started_at=started,
            ended_at=ended_at,
            result_code=result_code,
            agent=self.device.agent_id,
            contact_point_id=contact_point_id,
            problem_code=problem_code,
            circumstance=circumstance,
            resolution=resolution,
            notes=notes,
            script_steps=script_steps,
            callback_at=callback_at,
            override_reason=override_reason,
        )
        try:
            item = record_contact_attempt(
                self.engine, attempt, device=self.device, at=now, config_hash=self.policy.config_hash
            )
        except UnknownAccount:
            raise ContactRefused("account.gone") from None
        if self.rescore is not None:
            self.rescore([account_id])
        for listener in self.after_write:
            listener()
        return LoggedContact(attempt, item)

    def _check_rules(
        self, account_id: str, point_id: str | None, channel: Channel, at: datetime, override_reason: str | None
    ) -> None:
        """An outbound contact the rules block is refused with their reasons, unless a supervisor
        overrides them with a reason; every decision goes to the audit log."""
        assert self.rules is not None
        found = self.rules.decide_point(account_id, point_id, channel, at)
        if found is None:
            return  # no contact point on file for the channel: nothing the rules can judge
        blocked = not found.decision.allowed
        if not blocked:
            if override_reason is not None:
                raise ContactRefused("rules.override_not_needed")
            self.rules.record(found, account_id)
            return
        if override_reason is not None and self.may_override:
            if len(override_reason) < MIN_OVERRIDE_REASON:
                raise ContactRefused("rules.override_reason_short", chars=MIN_OVERRIDE_REASON)
            self.rules.record(found, account_id, override_reason)
            return
        self.rules.record(found, account_id)
        if override_reason is not None:
            raise ContactRefused("rules.override_not_allowed")
        refusal = ContactRefused("rules.blocked", reasons=reasons_text(found.decision))
        refusal.decision = found
        raise refusal
