"""x: the contact rules for every contact point of the account, rule by rule, with their sources."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from cobro_tui.domain.models import Channel
from cobro_tui.i18n import t
from cobro_tui.services.workstation import Workstation
from cobro_tui.ui.screens.base import CobroModal


class RulesView(CobroModal[None]):
    BINDINGS = [Binding("escape", "close", "keys.close", id="rules.close")]

    def __init__(self, workstation: Workstation, account_id: str) -> None:
        super().__init__()
        self.workstation = workstation
        self.account_id = account_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="rules-view", classes="form"):
            yield Static(t("rules.title"), classes="form-title")
            yield Static(t("queue.loading"), id="rules-text")

    def on_mount(self) -> None:
        super().on_mount()
        self.explain()

    @work(thread=True, exclusive=True, group="rules-explain", exit_on_error=False)
    def explain(self) -> None:
        lines: list[str] = []
        for channel in (Channel.VOICE, Channel.WHATSAPP, Channel.SMS, Channel.EMAIL):
            lines += self.workstation.rules.explain(self.account_id, channel)
            lines.append("")
        text = self.query_one("#rules-text", Static)
        self.app.call_from_thread(text.update, "\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
