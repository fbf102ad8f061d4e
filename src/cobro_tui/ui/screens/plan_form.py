"""f3: a payment plan (convenio) with its schedule previewed as it is typed."""

from __future__ import annotations

from datetime import date

from rich import box
from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from cobro_tui.domain.entry import parse_day
from cobro_tui.domain.models import Installment, PlanKind
from cobro_tui.domain.money import Money
from cobro_tui.domain.plans import Frequency
from cobro_tui.domain.text import shown_line
from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import day, money, t
from cobro_tui.services.promises import parse_amount, problem_text
from cobro_tui.ui.screens.base import AccountForm

Entered = tuple[Money, Money, int, date, Frequency, PlanKind]


class PlanForm(AccountForm):
    """Dismissed with the confirmation text when proposed, None when cancelled."""

    class Previewed(Message):
        def __init__(
            self,
            installments: tuple[Installment, ...],
            problems: list[str],
            generation: int,
            approval: str | None = None,
        ) -> None:
            super().__init__()
            self.installments = installments
            self.problems = problems
            self.generation = generation
            self.approval = approval

    def compose(self) -> ComposeResult:
        account = self.view.file.account
        today = self.view.debtor_now.date()
        with Vertical(id="plan-form", classes="form"):
            yield Static(t("plan.title"), classes="form-title")
            yield Static(
                Content(
                    f"{shown_line(self.view.file.customer.full_name)} · {t('account.total')} {money(account.balance)}"
                ),
                classes="form-context",
            )
            yield Label(t("plan.kind"))
            yield Select(
                [(t(f"plan.kind_{k.value}"), k.value) for k in PlanKind],
                value=PlanKind.PLAN.value,
                allow_blank=False,
                compact=True,
                id="plan-kind",
            )
            with Horizontal(classes="form-row"):
                with Vertical():
                    yield Label(t("plan.total"))
                    yield Input(str(account.balance.to_decimal()), compact=True, id="plan-total")
                with Vertical():
                    yield Label(t("plan.down"))
                    yield Input(
                        str(self.workstation.plans.least_down(account.balance).to_decimal()),
                        compact=True,
                        id="plan-down",
                    )
            with Horizontal(classes="form-row"):
                with Vertical():
                    yield Label(t("plan.count"))
                    yield Input("6", compact=True, id="plan-count")
                with Vertical():
                    yield Label(t("plan.frequency"))
                    yield Select(
                        [(t(f"plan.{f.value}"), f.value) for f in Frequency],
                        value=Frequency.MONTHLY.value,
                        allow_blank=False,
                        compact=True,
                        id="plan-frequency",
                    )
            yield Label(t("plan.first_due"))
            yield Input(day(today), compact=True, id="plan-first")
            yield Static("", id="plan-check", classes="form-check")
            yield Static("", id="plan-preview")
            yield from self.save_buttons("plan")

    def on_mount(self) -> None:
        self.recheck()

    def _entered(self) -> Entered | str:
        """What was typed, read; or the sentence that says what is wrong with it."""

        def text(selector: str) -> str:
            return self.query_one(selector, Input).value

        try:
            total, down = parse_amount(text("#plan-total")), parse_amount(text("#plan-down") or "0")
        except UserFacingError as exc:
            return exc.message
        count_text = text("#plan-count").strip()
        if not count_text.isdigit():
            return t("plan.bad_count", text=count_text or "—")
        today = self.view.debtor_now.date()
        first = parse_day(text("#plan-first"), today)
        if first is None:
            return t("form.bad_date", text=text("#plan-first") or "—", example=day(today))
        frequency = Frequency(str(self.query_one("#plan-frequency", Select).value))
        return total, down, int(count_text), first, frequency, PlanKind(str(self.query_one("#plan-kind", Select).value))

    generation = 0  # counts edits: a preview answered after a newer edit is not shown

    @on(Input.Changed)
    @on(Select.Changed)
    def recheck(self) -> None:
        self.generation += 1
        entered = self._entered()
        if isinstance(entered, str):
            self._show([entered], ())
        else:
            self.preview(*entered, self.generation)

    @work(thread=True, exclusive=True, group="plan-preview", exit_on_error=False)
    def preview(
        self, total: Money, down: Money, count: int, first: date, frequency: Frequency, kind: PlanKind, generation: int
    ) -> None:
        result = self.workstation.plans.preview(self.view.file.account.id, total, down, count, first, frequency, kind)
        self.post_message(
            self.Previewed(result.installments, [problem_text(p) for p in result.problems], generation, result.approval)
        )

    @on(Previewed)
    def show_preview(self, message: Previewed) -> None:
        if message.generation == self.generation:
            self._show(message.problems, message.installments, message.approval)

    def _show(self, problems: list[str], installments: tuple[Installment, ...], approval: str | None = None) -> None:
        check = self.query_one("#plan-check", Static)
        check.update("\n".join(problems) if problems else approval or t("plan.ok"))
        check.set_class(bool(problems), "-bad")
        check.set_class(not problems and approval is not None, "-held")
        table = Table(title=t("plan.preview"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column(t("plan.number"), justify="right")
        table.add_column(t("account.due"))
        table.add_column(t("promise.amount"), justify="right")
        shown = installments if len(installments) <= 8 else (*installments[:6], None, installments[-1])
        for item in shown:
            if item is None:
                table.add_row("…", "", "")
            else:
                table.add_row(str(item.number), day(item.due_on), money(item.amount))
        self.query_one("#plan-preview", Static).update(table if installments else "")

    @on(Button.Pressed, "#plan-save")
    def action_save(self) -> None:
        entered = self._entered()
        if isinstance(entered, str):
            self._show([entered], ())
            return
        self.saving(lambda: self._propose(*entered))

    def _propose(self, total: Money, down: Money, count: int, first: date, frequency: Frequency, kind: PlanKind) -> str:
        plan = self.workstation.plans.propose(
            self.view.file.account.id, total, down, count, first, frequency, self.script_steps, kind
        )
        saved = t(f"plan.saved_{plan.kind.value}", total=money(plan.total), count=len(plan.installments))
        held = self.workstation.plans.preview(plan.account_id, total, down, count, first, frequency, kind).approval
        return f"{saved} {held}" if held else saved
