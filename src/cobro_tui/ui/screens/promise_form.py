"""f2: a promise to pay, checked as it is typed against the same rules that save it."""

from __future__ import annotations

from datetime import date

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from cobro_tui.domain.entry import parse_day
from cobro_tui.domain.money import Money
from cobro_tui.domain.text import shown_line
from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import day, money, t
from cobro_tui.services.promises import (
    PAYMENT_CHANNELS,
    approval_text,
    parse_amount,
    problem_text,
)
from cobro_tui.ui.screens.base import AccountForm


class PromiseForm(AccountForm):
    """Dismissed with the confirmation text when saved, None when cancelled."""

    class Checked(Message):
        def __init__(self, problems: list[str], generation: int, approval: str | None = None) -> None:
            super().__init__()
            self.problems = problems
            self.generation = generation
            self.approval = approval  # who must approve it and why (it can be saved; the server holds it)

    def compose(self) -> ComposeResult:
        account = self.view.file.account
        with Vertical(id="promise-form", classes="form"):
            yield Static(t("promise.title"), classes="form-title")
            yield Static(
                Content(
                    f"{shown_line(self.view.file.customer.full_name)} · {t('account.past_due')} "
                    f"{money(account.past_due)} · {t('account.total')} {money(account.balance)}"
                ),
                classes="form-context",
            )
            yield Label(t("promise.amount"))
            yield Input(compact=True, placeholder="1,500.00", id="promise-amount")
            yield Label(t("promise.due_on"))
            yield Input(compact=True, placeholder=day(self.view.debtor_now.date()), id="promise-due")
            yield Label(t("promise.channel"))
            yield Select(
                compact=True,
                options=[(t(f"pay_channel.{c}"), c) for c in PAYMENT_CHANNELS],
                value=PAYMENT_CHANNELS[0],
                allow_blank=False,
                id="promise-channel",
            )
            yield Static("", id="promise-check", classes="form-check")
            yield from self.save_buttons("promise")

    def _entered(self) -> tuple[Money, date] | str:
        """The amount and day typed, or the sentence that says what is wrong with them."""
        amount_text = self.query_one("#promise-amount", Input).value
        due_text = self.query_one("#promise-due", Input).value
        if not amount_text.strip():
            return t("form.required", field=t("promise.amount"))
        try:
            amount = parse_amount(amount_text)
        except UserFacingError as exc:
            return exc.message
        today = self.view.debtor_now.date()
        due = parse_day(due_text, today)
        if due is None:
            return t("form.bad_date", text=due_text or "—", example=day(today))
        return amount, due

    generation = 0  # counts edits: a check answered after a newer edit is not shown

    @on(Input.Changed)
    def recheck(self) -> None:
        self.generation += 1
        entered = self._entered()
        if isinstance(entered, str):
            self._show_check([entered])
        else:
            self.check(*entered, self.generation)

    @work(thread=True, exclusive=True, group="promise-check", exit_on_error=False)
    def check(self, amount: Money, due: date, generation: int) -> None:
        verdict = self.workstation.promises.verdict(self.view.file.account.id, amount, due)
        self.post_message(self.Checked([problem_text(p) for p in verdict.problems], generation, approval_text(verdict)))

    @on(Checked)
    def show_checked(self, message: Checked) -> None:
        if message.generation == self.generation:
            self._show_check(message.problems, message.approval)

    def _show_check(self, problems: list[str], approval: str | None = None) -> None:
        check = self.query_one("#promise-check", Static)
        check.update("\n".join(problems) if problems else approval or t("promise.ok"))
        check.set_class(bool(problems), "-bad")
        check.set_class(not problems and approval is not None, "-held")

    @on(Button.Pressed, "#promise-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        entered = self._entered()
        if isinstance(entered, str):
            self._show_check([entered])
            return
        channel = str(self.query_one("#promise-channel", Select).value)
        self.saving(lambda: self._take(*entered, channel))

    def _take(self, amount: Money, due: date, channel: str) -> str:
        promise = self.workstation.promises.take(self.view.file.account.id, amount, due, channel, self.script_steps)
        saved = t("promise.saved", amount=money(promise.amount), due_on=day(promise.due_on))
        held = approval_text(self.workstation.promises.verdict(promise.account_id, promise.amount, promise.due_on))
        return f"{saved} {held}" if held else saved
