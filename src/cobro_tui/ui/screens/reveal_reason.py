"""v on the account: why the agent needs to see the personal data in full, picked from a short catalog
(masking.REVEAL_REASONS). Escape shows nothing and records nothing."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cobro_tui.domain.masking import REVEAL_REASONS
from cobro_tui.i18n import t
from cobro_tui.ui.screens.base import CobroModal


class RevealReason(CobroModal[str | None]):
    """Dismissed with the reason's code, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "keys.cancel", id="reveal.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="reveal-reason", classes="form"):
            yield Static(t("reveal.title"), classes="form-title")
            yield Static(t("reveal.context"), classes="form-context")
            yield OptionList(
                *(Option(t(f"reveal.reason_{code}"), id=code) for code in REVEAL_REASONS),
                id="reveal-reasons",
                compact=True,
            )

    @on(OptionList.OptionSelected, "#reveal-reasons")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
