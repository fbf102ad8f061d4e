"""Proposing a payment plan: its schedule previewed live, checked like the server will check it,
saved with its installments, outbox item and audit event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from cobro_tui.clock import Clock
from cobro_tui.domain.agreements import (
    WATERFALL,
    Agreement,
    apportion,
    as_html,
    as_text,
)
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import Installment, PaymentPlan, PlanKind
from cobro_tui.domain.money import Money
from cobro_tui.domain.offers import Verdict, check_agreement
from cobro_tui.domain.plans import Frequency, schedule
from cobro_tui.domain.promises import Problem
from cobro_tui.errors import Refusal
from cobro_tui.files import write_private
from cobro_tui.i18n import day, language, money, t
from cobro_tui.policy import Policy
from cobro_tui.services import decisions
from cobro_tui.services.accounts import AccountService, AccountView
from cobro_tui.services.promises import approval_text, problem_text
from cobro_tui.store.actions import record_plan, record_refusal
from cobro_tui.store.device import Device


class PlanRefused(Refusal):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("plan.refused", text=" ".join(problem_text(p) for p in problems))


_AGREEMENT_LABELS = (
    "title",
    "institution",
    "customer",
    "account",
    "kind",
    "balance",
    "total",
    "forgiven",
    "down",
    "installment",
    "bank",
    "clabe",
    "reference",
    "phone",
    "closing",
    "never_personal",
)


@dataclass(frozen=True, slots=True)
class PlanPreview:
    installments: tuple[Installment, ...]
    problems: list[Problem]
    approval: str | None = None  # who must approve it and why, in a sentence (it can be proposed; the server holds it)


@dataclass(frozen=True, slots=True)
class PlanService:
    engine: Engine
    clock: Clock
    policy: Policy
    device: Device
    accounts: AccountService
    after_write: list[Callable[[], None]] = field(default_factory=list)
    rescore: Callable[[list[str]], object] | None = None

    def document(self, account_id: str, plan_id: str | None = None) -> Agreement:
        """The agreement document of a plan or settlement of the account (the newest one not refused
        when no id is given), worded in the interface language; Refusal when there is none."""
        view = self.accounts.open(account_id)
        plans = [
            p.item for p in view.file.plans if p.sync_state != "rejected" and (plan_id is None or p.item.id == plan_id)
        ]
        plans = [p for p in plans if p.kind is not PlanKind.RESTRUCTURE or plan_id is not None]
        if not plans:
            raise Refusal("agreement.none")
        plan, account = plans[0], view.file.account
        labels = {key: t(f"agreement.{key}") for key in _AGREEMENT_LABELS}
        labels |= {f"kind_{k.value}": t(f"plan.kind_{k.value}") for k in PlanKind}
        labels |= {f"part_{part}": t(f"account.{part}") for part in WATERFALL}
        labels["lang"] = language()
        amounts = {
            "balance": account.balance,
            "total": plan.total,
            "down": plan.down_payment,
            **({"forgiven": plan.forgiven} if plan.forgiven is not None else {}),
            **{f"part_{part}": paid for part, paid in apportion(account, plan.total).items()},
            **{f"installment_{i.number}": i.amount for i in plan.installments},
        }
        dates = {f"due_{i.number}": day(i.due_on) for i in plan.installments}
        return Agreement(
            self.policy.offers.institution,
            view.file.customer,
            account,
            plan,
            labels,
            {key: money(value) for key, value in amounts.items()},
            dates,
        )

    def save_document(self, account_id: str, folder: Path, plan_id: str | None = None) -> tuple[Path, Path]:
        """The agreement document written as plain text and HTML in `folder`, for the agent to send."""
        doc = self.document(account_id, plan_id)
        text, page = folder / f"convenio-{doc.plan.id}.txt", folder / f"convenio-{doc.plan.id}.html"
        write_private(text, as_text(doc))
        write_private(page, as_html(doc))
        return text, page

    def least_down(self, total: Money) -> Money:
        """The smallest down payment the policy takes on a plan of `total` (the form starts from it)."""
        return Money(-(-total.centavos * self.policy.offers.plan.min_down_percent // 100), total.currency)

    def preview(
        self,
        account_id: str,
        total: Money,
        down: Money,
        count: int,
        first_due: date,
        frequency: Frequency,
        kind: PlanKind = PlanKind.PLAN,
    ) -> PlanPreview:
        """The schedule as entered and what is wrong with it (for the live preview)."""
        return self._preview(self.accounts.open(account_id), total, down, count, first_due, frequency, kind)[0]

    def _preview(
        self,
        view: AccountView,
        total: Money,
        down: Money,
        count: int,
        first_due: date,
        frequency: Frequency,
        kind: PlanKind,
    ) -> tuple[PlanPreview, Verdict]:
        open_plans = [p.item for p in view.file.plans if p.sync_state != "rejected"]
        offers = self.policy.offers
        holidays = offers.holidays if offers.plan.move_off_holidays else None
        installments = schedule(total, down, count, first_due, frequency, holidays) if 1 <= count <= 120 else ()
        days = [i.due_on for i in installments] or [first_due]
        verdict = check_agreement(
            view.file.account,
            open_plans,
            kind.value,
            total,
            down,
            count,
            first_due,
            days,
            frequency.value,
            view.debtor_now.date(),
            "agent",
            offers,
        )
        return PlanPreview(installments, list(verdict.problems), approval_text(verdict)), verdict

    def propose(
        self,
        account_id: str,
        total: Money,
        down: Money,
        count: int,
        first_due: date,
        frequency: Frequency,
        script_steps: tuple[str, ...] = (),
        kind: PlanKind = PlanKind.PLAN,
    ) -> PaymentPlan:
        """Record the plan, or PlanRefused; either way what the agent saw is kept (with the plan, or as a refusal)."""
        view = self.accounts.open(account_id)
        preview, verdict = self._preview(view, total, down, count, first_due, frequency, kind)
        now = self.clock.now()
        balance = view.file.account.balance
        forgiven = Money(balance.centavos - total.centavos, balance.currency) if kind is PlanKind.SETTLEMENT else None
        plan = PaymentPlan(
            id=new_id(),
            account_id=account_id,
            down_payment=down,
            installments=preview.installments,
            created_at=now,
            created_by=self.device.agent_id,
            kind=kind,
            forgiven=forgiven,
        )
        offer = {
            "type": kind.value,
            "total": total,
            "down": down,
            "count": count,
            "first_due": first_due,
            "frequency": frequency.value,
            "due_dates": [i.due_on for i in preview.installments],
        }
        snapshot = decisions.of_offer(
            view,
            kind=kind.value if verdict.allowed else "refusal",
            subject_id=plan.id if verdict.allowed else None,
            taken_at=now,
            offer=offer,
            verdict=verdict,
            script_steps=script_steps,
            config_hash=self.policy.config_hash,
        )
        if preview.problems:
            record_refusal(
                self.engine,
                snapshot,
                actor=self.device.agent_id,
                device=self.device,
                at=now,
                config_hash=self.policy.config_hash,
            )
            for listener in self.after_write:
                listener()
            raise PlanRefused(preview.problems)
        record_plan(
            self.engine, plan, device=self.device, at=now, config_hash=self.policy.config_hash, decision=snapshot
        )
        if self.rescore is not None:
            self.rescore([account_id])
        for listener in self.after_write:
            listener()
        return plan
