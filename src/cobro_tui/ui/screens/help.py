"""f1: the keys of the screen underneath, as the footer would show them, all at once."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from cobro_tui.i18n import t
from cobro_tui.ui.screens.base import CobroModal


class HelpScreen(CobroModal[None]):
    BINDINGS = [
        Binding("escape", "close", "help.close", id="help.close"),
        Binding("f1", "close", "help.close", show=False, id="help.close_f1"),
    ]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        for key, description in self.keys:
            table.add_row(key, description)
        with Vertical(id="help", classes="form"):
            yield Static(t("help.title"), classes="form-title")
            yield Static(table, id="help-keys")
            yield Static(t("help.close"), classes="form-context")

    def action_close(self) -> None:
        self.dismiss(None)
