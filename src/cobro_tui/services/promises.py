"""Taking a promise to pay: checked against the offer policy and the account's open promises, saved
with its outbox item and audit event, pending until the server confirms it (or holds it for a
supervisor when the policy says so)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine

from cobro_tui.clock import Clock
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import PAYMENT_CHANNELS as ALL_PAYMENT_CHANNELS
from cobro_tui.domain.models import Promise
from cobro_tui.domain.money import Money, MoneyError
from cobro_tui.domain.offers import Verdict, broken_recently, check_promise
from cobro_tui.domain.promises import Problem
from cobro_tui.errors import Refusal
from cobro_tui.i18n import day, money, t
from cobro_tui.policy import Policy
from cobro_tui.services import decisions
from cobro_tui.services.accounts import AccountService, AccountView
from cobro_tui.store.actions import (
    record_promise,
    record_promise_cancel,
    record_refusal,
)
from cobro_tui.store.device import Device

# The channels the promise form offers (the bank's app is where payments arrive, not a promise's channel).
PAYMENT_CHANNELS = tuple(c for c in ALL_PAYMENT_CHANNELS if c != "app")


class PromiseRefused(Refusal):
    """A promise that cannot be taken as entered; the message says what is allowed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(first.key, **_worded(first.values))


def _worded(values: dict[str, object]) -> dict[str, object]:
    """Money, dates and authority levels in the interface's words."""
    return {
        k: money(v)
        if isinstance(v, Money)
        else day(v)
        if isinstance(v, date)
        else t(f"role_name.{v}")
        if k == "level"
        else v
        for k, v in values.items()
    }


def problem_text(problem: Problem) -> str:
    return t(problem.key, **_worded(problem.values))


def approval_text(verdict: Verdict) -> str | None:
    """Who must approve an offer and why, in a sentence; None when the user's own authority covers it."""
    if verdict.approval is None:
        return None
    return t(
        "offer.held", level=t(f"role_name.{verdict.approval}"), why="; ".join(problem_text(p) for p in verdict.why)
    )


def parse_amount(text: str) -> Money:
    """An amount typed by the agent (1500, 1,500.50, $1500); Refusal with the accepted form."""
    try:
        return Money.parse(text)
    except MoneyError:
        raise Refusal("form.bad_amount", text=text.strip() or "—") from None


@dataclass(frozen=True, slots=True)
class PromiseService:
    engine: Engine
    clock: Clock
    policy: Policy
    device: Device
    accounts: AccountService
    after_write: list[Callable[[], None]] = field(default_factory=list)
    # Scores the queue again for these accounts after a write (QueueService.rescore).
    rescore: Callable[[list[str]], object] | None = None

    def verdict(self, account_id: str, amount: Money, due_on: date) -> Verdict:
        """What the offer policy says of this promise now: its problems, and whether a supervisor
        must approve it (for live form checks)."""
        return self._judge(self.accounts.open(account_id), amount, due_on)

    def _judge(self, view: AccountView, amount: Money, due_on: date) -> Verdict:
        today = view.debtor_now.date()
        promises = [p.item for p in view.file.promises]
        return check_promise(
            view.file.account,
            view.file.open_promises(),
            broken_recently(promises, today),
            amount,
            due_on,
            today,
            self.policy.offers,
        )

    def problems(self, account_id: str, amount: Money, due_on: date) -> list[Problem]:
        """What is wrong with this promise now (empty when it can be taken)."""
        return list(self.verdict(account_id, amount, due_on).problems)

    def take(
        self, account_id: str, amount: Money, due_on: date, channel: str, script_steps: tuple[str, ...] = ()
    ) -> Promise:
        """Record the promise, or PromiseRefused naming every problem. Either way what the agent saw
        is kept: with the promise, or as a refusal of its own."""
        if channel not in PAYMENT_CHANNELS:
            raise Refusal("promise.bad_channel", channel=channel, channels=", ".join(PAYMENT_CHANNELS))
        view = self.accounts.open(account_id)
        verdict = self._judge(view, amount, due_on)
        now = self.clock.now()
        offer = {"amount": amount, "due_on": due_on, "channel": channel}
        promise = Promise(
            id=new_id(),
            account_id=account_id,
            amount=amount,
            due_on=due_on,
            channel=channel,
            created_at=now,
            created_by=self.device.agent_id,
            grace_days=self.policy.offers.promise.grace_days,
        )
        snapshot = decisions.of_offer(
            view,
            kind="promise" if verdict.allowed else "refusal",
            subject_id=promise.id if verdict.allowed else None,
            taken_at=now,
            offer={"type": "promise", **offer},
            verdict=verdict,
            script_steps=script_steps,
            config_hash=self.policy.config_hash,
        )
        if not verdict.allowed:
            record_refusal(
                self.engine,
                snapshot,
                actor=self.device.agent_id,
                device=self.device,
                at=now,
                config_hash=self.policy.config_hash,
            )
            self._written([])
            raise PromiseRefused(list(verdict.problems))
        record_promise(
            self.engine, promise, device=self.device, at=now, config_hash=self.policy.config_hash, decision=snapshot
        )
        self._written([account_id])
        return promise

    def cancel(self, account_id: str) -> Promise:
        """Call off the account's running promise (the latest, if there were several); Refusal when
        there is none. The debtor may then promise again."""
        running = self.accounts.open(account_id).file.open_promises()
        if not running:
            raise Refusal("promise.none_open")
        promise = max(running, key=lambda p: p.created_at)
        record_promise_cancel(
            self.engine, promise, device=self.device, at=self.clock.now(), config_hash=self.policy.config_hash
        )
        self._written([account_id])
        return promise

    def _written(self, accounts: list[str]) -> None:
        if self.rescore is not None and accounts:
            self.rescore(accounts)
        for listener in self.after_write:
            listener()
