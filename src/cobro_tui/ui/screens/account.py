"""One account, everything for the call: the customer and their accounts, balances, promises,
payments, contact points with the debtor's local time, references, history and alerts."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from cobro_tui.domain.account_file import Alert
from cobro_tui.domain.models import Channel
from cobro_tui.domain.priority import Reason
from cobro_tui.domain.scripts import choose_script
from cobro_tui.domain.wrapup import (
    ContactIntent,
    PromiseIntent,
    WrapUpError,
    parse_wrapup,
)
from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import day, language, money, t
from cobro_tui.services.accounts import AccountView
from cobro_tui.services.promises import PAYMENT_CHANNELS
from cobro_tui.services.status import WorkstationStatus
from cobro_tui.services.workstation import Workstation
from cobro_tui.ui.messages import NextAccountWanted, SyncFinished
from cobro_tui.ui.screens.base import CobroScreen, Confirm
from cobro_tui.ui.screens.contact_form import POINTS_FOR, ContactForm
from cobro_tui.ui.screens.plan_form import PlanForm
from cobro_tui.ui.screens.promise_form import PromiseForm
from cobro_tui.ui.screens.restriction_form import RestrictionForm
from cobro_tui.ui.screens.reveal_reason import RevealReason
from cobro_tui.ui.screens.rules_view import RulesView
from cobro_tui.ui.widgets import account_panels as panels
from cobro_tui.ui.widgets.key_bar import KeyBar
from cobro_tui.ui.widgets.status_bar import StatusBar
from cobro_tui.ui.widgets.table_panel import TablePanel

# Alerts that stop a call are shown as dangers; the others as things to know.
DANGER = {"deceased", "legal_hold", "dispute", "cease"}


class AccountScreen(CobroScreen):
    BINDINGS = [
        Binding("escape", "back", "keys.back", id="account.back"),
        Binding("f2", "promise", "keys.promise", id="account.promise"),
        Binding("f3", "plan", "keys.plan", id="account.plan"),
        Binding("f4", "log_contact", "keys.log", id="account.log"),
        Binding("f5", "next_account", "keys.next", id="account.next"),
        Binding("f6", "guide", "keys.script", id="account.script"),
        Binding("v", "reveal", "keys.reveal", id="account.reveal"),
        Binding("colon", "wrapup", "keys.wrapup", id="account.wrapup"),
        Binding("x", "rules", "keys.rules", id="account.rules"),
        Binding("o", "restrict", "keys.restrict", id="account.restrict"),
        Binding("d", "document", "keys.document", id="account.document"),
        Binding("c", "cancel_promise", "keys.cancel_promise", id="account.cancel_promise"),
    ]

    class Loaded(Message):
        def __init__(self, view: AccountView, status: WorkstationStatus, reasons: list[Reason]) -> None:
            super().__init__()
            self.view = view
            self.status = status
            self.reasons = reasons

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(
        self, workstation: Workstation, account_id: str | None, agent_zone: str, loaded: Loaded | None = None
    ) -> None:
        super().__init__()
        self.workstation = workstation
        self.account_id = account_id
        self.agent_zone = agent_zone
        self.view: AccountView | None = None
        self.revealed = False
        self.steps_done: set[str] = set()
        self._loaded = loaded  # read before the screen existed: shown at mount

    @classmethod
    def read(cls, workstation: Workstation, account_id: str) -> Loaded | Failed:
        """Everything the screen shows about an account (in a worker thread)."""
        try:
            view = workstation.accounts.open(account_id)
        except UserFacingError as exc:
            return cls.Failed(exc.message)
        return cls.Loaded(view, workstation.status.snapshot(), workstation.queue.reasons(account_id))

    def compose(self) -> ComposeResult:
        yield Static(t("queue.loading"), id="account-heading")
        with Horizontal(id="account-alerts", classes="-empty"):
            for alert in Alert:
                yield Label(
                    t(f"alert.{alert.value}"),
                    id=f"alert-{alert.value}",
                    classes="alert -off -danger" if alert.value in DANGER else "alert -off",
                )
        yield Static(id="account-priority")
        with Horizontal(id="account-body"):
            with VerticalScroll(id="account-left"):
                yield TablePanel(id="panel-balances")
                yield TablePanel(id="panel-offers")
                yield TablePanel(id="panel-promises")
                yield TablePanel(id="panel-payments")
                yield TablePanel(id="panel-other-accounts")
            with VerticalScroll(id="account-right"):
                yield TablePanel(id="panel-contact-points")
                yield TablePanel(id="panel-references")
                yield TablePanel(id="panel-history")
        with Vertical(id="guide", classes="-hidden"):
            yield Static(id="guide-title")
            yield SelectionList[str](id="guide-steps")
        yield Input(placeholder=t("wrapup.placeholder"), compact=True, id="wrapup")
        yield Static(t("account.masked"), id="account-privacy")
        yield StatusBar(self.agent_zone, id="status-bar")
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        if self._loaded is not None:
            self.show(self._loaded)
            self._loaded = None
        elif self.account_id is not None:  # else made ahead of the first account (see CobroApp)
            self.load()

    def show_loaded(self, loaded: Loaded) -> None:
        """Show another account on this same screen, already read: composing the screen for every
        account costs far more than filling it (f5 goes from account to account all day)."""
        self.account_id = loaded.view.file.account.id
        self.revealed = False
        self.steps_done = set()
        self.query_one("#guide").add_class("-hidden")
        self.query_one("#wrapup", Input).value = ""
        self.show(loaded)

    @work(thread=True, exclusive=True, group="account", exit_on_error=False)
    def load(self) -> None:
        """Read the account on screen again (after a form saved, a sync)."""
        if self.account_id is not None:
            self.post_message(self.read(self.workstation, self.account_id))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        message.stop()  # the app opens accounts with the same message; this one is the screen's own
        self.view = message.view
        self.query_one("#account-priority", Static).update(panels.priority_line(message.reasons))
        bar = self.query_one(StatusBar)
        bar.debtor_zone = message.view.debtor_zone
        bar.status = message.status
        self._fill()

    @on(Failed)
    def gone(self, message: Failed) -> None:
        message.stop()
        self.notify(message.message, severity="error")
        self.dismiss()

    def _fill(self) -> None:
        view = self.view
        if view is None:
            return
        revealed = self.revealed
        self.query_one("#account-heading", Static).update(panels.heading(view, revealed))
        # Every alert has its label from the start; an account shows its own (no widgets mounted per account).
        shown = set(view.alerts)
        for alert in Alert:
            self.query_one(f"#alert-{alert.value}", Label).set_class(alert not in shown, "-off")
        self.query_one("#account-alerts", Horizontal).set_class(not shown, "-empty")
        labels = {c.code: c.label(language()) for c in self.workstation.policy.result_codes.codes}
        self.query_one("#panel-balances", TablePanel).show(panels.balances(view))
        self.query_one("#panel-offers", TablePanel).show(panels.offers(view))
        self.query_one("#panel-promises", TablePanel).show(panels.promises(view))
        self.query_one("#panel-payments", TablePanel).show(panels.payments(view))
        self.query_one("#panel-other-accounts", TablePanel).show(panels.other_accounts(view, revealed))
        self.query_one("#panel-contact-points", TablePanel).show(panels.contact_points(view, revealed))
        self.query_one("#panel-references", TablePanel).show(panels.references(view, revealed))
        self.query_one("#panel-history", TablePanel).show(panels.history(view, labels))
        privacy = self.query_one("#account-privacy", Static)
        privacy.update(t("account.revealed") if revealed else t("account.masked"), layout=False)  # one line
        privacy.set_class(revealed, "-revealed")
        if not self.query_one("#guide").has_class("-hidden"):
            self._fill_guide()

    def first_contact(self) -> bool:
        """No right-party contact with this customer yet: identification and disclosures are due."""
        assert self.view is not None
        codes = self.workstation.policy.result_codes
        return not any(
            c.item.result_code in codes and codes.get(c.item.result_code).right_party_contact
            for c in self.view.file.contacts
        )

    def _fill_guide(self) -> None:
        view = self.view
        assert view is not None
        script = choose_script(
            self.workstation.policy.scripts, view.file.account.bucket, view.file.account.risk_segment
        )
        title = self.query_one("#guide-title", Static)
        steps = self.query_one("#guide-steps", SelectionList)
        steps.clear_options()
        if script is None:
            title.update(t("guide.none"))
            return
        first = self.first_contact()
        title.update(t("guide.title", name=script.name) + ("\n" + t("guide.first_contact") if first else ""))
        lang = language()
        steps.add_options(
            [Selection(step.text(lang), step.id, step.id in self.steps_done) for step in script.steps_for(first)]
        )
        steps.highlighted = 0

    def action_guide(self) -> None:
        """Show or hide the call guide; the steps ticked go with the next contact logged."""
        guide = self.query_one("#guide")
        guide.toggle_class("-hidden")
        if not guide.has_class("-hidden") and self.view is not None:
            self._fill_guide()
            self.query_one("#guide-steps", SelectionList).focus()

    @on(SelectionList.SelectedChanged, "#guide-steps")
    def steps_ticked(self, event: SelectionList.SelectedChanged[str]) -> None:
        self.steps_done = set(event.selection_list.selected)

    def action_wrapup(self) -> None:
        self.query_one("#wrapup", Input).focus()

    @on(Input.Submitted, "#wrapup")
    def wrapup_entered(self, event: Input.Submitted) -> None:
        if self.view is None:
            return
        intent = parse_wrapup(event.value, self.view.debtor_now.date(), PAYMENT_CHANNELS)
        if isinstance(intent, WrapUpError):
            self.notify(t(intent.key, **intent.values), severity="error")
            return
        self.run_wrapup(intent)

    @work(thread=True, exclusive=True, group="wrapup", exit_on_error=False)
    def run_wrapup(self, intent: PromiseIntent | ContactIntent) -> None:
        """The same services, and so the same rules, as the forms."""
        assert self.view is not None
        account = self.view.file.account
        try:
            if isinstance(intent, PromiseIntent):
                promise = self.workstation.promises.take(
                    account.id, intent.amount, intent.due_on, intent.channel, tuple(sorted(self.steps_done))
                )
                done = t("promise.saved", amount=money(promise.amount), due_on=day(promise.due_on))
            else:
                phones = [p for p in self.view.file.contact_points if p.kind in POINTS_FOR[Channel.VOICE]]
                self.workstation.contacts.log(
                    account_id=account.id,
                    customer_id=account.customer_id,
                    channel=Channel.VOICE,
                    result_code=intent.result_code,
                    notes=intent.notes,
                    contact_point_id=phones[0].id if phones else None,
                    script_steps=tuple(sorted(self.steps_done)),
                )
                done = t("contact.saved", code=intent.result_code)
        except UserFacingError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error")
            return
        self.app.call_from_thread(self._wrapped_up, done)

    def _wrapped_up(self, done: str) -> None:
        self.query_one("#wrapup", Input).value = ""
        self._after_form(done)

    def action_back(self) -> None:
        self.dismiss()

    def action_rules(self) -> None:
        """The contact rules for every point of the account, rule by rule."""
        if self.account_id is not None:
            self.app.push_screen(RulesView(self.workstation, self.account_id))

    def action_restrict(self) -> None:
        """Record that the debtor asked not to be contacted (a point, a channel, or at all)."""
        if self.view is not None:
            self.app.push_screen(RestrictionForm(self.workstation, self.view, self.revealed), self._after_form)

    def action_document(self) -> None:
        """The agreement document of the account's plan or settlement, as text and HTML, to send."""
        if self.account_id is not None:
            self.write_document(self.account_id)

    @work(thread=True, exclusive=True, group="document", exit_on_error=False)
    def write_document(self, account_id: str) -> None:
        folder = self.app.settings.resolved_data_dir() / "agreements"  # type: ignore[attr-defined]
        try:
            text, page = self.workstation.plans.save_document(account_id, folder)
        except UserFacingError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="warning")
            return
        self.app.call_from_thread(self.notify, t("agreement.saved", text=str(text), html=page.name), timeout=10)

    def action_reveal(self) -> None:
        """Show personal data in full once the agent says why (the reason's code goes to the audit
        log), or hide it again."""
        if self.view is None:
            return
        if self.revealed:
            self.revealed = False
            self._fill()
        elif self.account_id is not None:
            self.app.push_screen(RevealReason(), self._reveal_for)

    def hide_personal_data(self) -> None:
        """The lock covers the screen: what was revealed is masked again (a new reason reveals it)."""
        if self.revealed:
            self.revealed = False
            self._fill()

    def _reveal_for(self, reason: str | None) -> None:
        account_id = self.account_id
        if reason is None or account_id is None or self.view is None:
            return  # cancelled: nothing shown, nothing recorded
        self.workstation.accounts.reveal(account_id, "contact_data", reason)
        self.revealed = True
        self._fill()

    def action_next_account(self) -> None:
        self.app.post_message(NextAccountWanted(skip=(self.account_id,) if self.account_id else ()))

    def action_promise(self) -> None:
        if self.view is not None:
            self.app.push_screen(
                PromiseForm(self.workstation, self.view, tuple(sorted(self.steps_done))), self._after_form
            )

    def action_cancel_promise(self) -> None:
        """Call off the account's running promise, once the agent confirms which one."""
        if self.view is None:
            return
        running = self.view.file.open_promises()
        if not running:
            self.notify(t("promise.none_open"), severity="warning")
            return
        promise = max(running, key=lambda p: p.created_at)
        question = t("promise.cancel_question", amount=money(promise.amount), due_on=day(promise.due_on))
        self.app.push_screen(Confirm(question, t("promise.cancel_yes")), self._cancel_answered)

    def _cancel_answered(self, yes: bool | None) -> None:
        if not yes or self.account_id is None:
            return
        try:
            promise = self.workstation.promises.cancel(self.account_id)
        except UserFacingError as exc:
            self.notify(exc.message, severity="warning")
            return
        self._after_form(t("promise.cancelled", amount=money(promise.amount), due_on=day(promise.due_on)))

    def action_plan(self) -> None:
        if self.view is not None:
            self.app.push_screen(
                PlanForm(self.workstation, self.view, tuple(sorted(self.steps_done))), self._after_form
            )

    def action_log_contact(self) -> None:
        if self.view is not None:
            form = ContactForm(self.workstation, self.view, self.revealed, tuple(sorted(self.steps_done)))
            self.app.push_screen(form, self._after_form)

    def _after_form(self, saved: str | None) -> None:
        if saved:
            self.notify(saved)
            self.steps_done = set()  # the steps went with the contact; the next call starts afresh
            self.load()

    @on(SyncFinished)
    def after_sync(self, message: SyncFinished) -> None:
        # The status line follows every round; the file is read again only when something moved.
        if message.moved:
            self.load()
        else:
            self.refresh_status()

    class StatusRead(Message):
        def __init__(self, status: WorkstationStatus) -> None:
            super().__init__()
            self.status = status

    @work(thread=True, exclusive=True, group="account-status", exit_on_error=False)
    def refresh_status(self) -> None:
        self.post_message(self.StatusRead(self.workstation.status.snapshot()))

    @on(StatusRead)
    def show_status(self, message: StatusRead) -> None:
        self.query_one(StatusBar).status = message.status
