"""Sync health of every workstation: whose, which version, when the server last saw it, and how
many items it had waiting to be sent (and since when)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import instant, t
from cobro_tui.services.approvals import Seen, SupervisorService
from cobro_tui.ui.screens.base import CobroScreen
from cobro_tui.ui.widgets.key_bar import KeyBar


class HealthScreen(CobroScreen):
    BINDINGS = [
        Binding("escape", "back", "keys.approvals", id="health.back"),
        Binding("ctrl+r", "reload", "keys.reload", id="health.reload"),
    ]

    class Loaded(Message):
        def __init__(self, seen: list[Seen] | None, error: str | None = None) -> None:
            super().__init__()
            self.seen = seen
            self.error = error

    def __init__(self, service: SupervisorService) -> None:
        super().__init__()
        self.service = service

    def compose(self) -> ComposeResult:
        yield Static(t("health.loading"), id="health-heading")
        yield DataTable(id="health-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("agent", "device", "version", "seen", "pending", "oldest"):
            table.add_column(t(f"health.col_{key}"), key=key)
        self.load()

    @work(thread=True, exclusive=True, group="health", exit_on_error=False)
    def load(self) -> None:
        try:
            self.post_message(self.Loaded(self.service.workstations()))
        except UserFacingError as exc:
            self.post_message(self.Loaded(None, exc.message))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        heading = self.query_one("#health-heading", Static)
        if message.seen is None:
            heading.update(message.error or "")
            return
        table = self.query_one(DataTable)
        table.clear()
        for seen in message.seen:
            table.add_row(seen.agent, seen.device_id[:8], seen.app_version, instant(seen.last_seen_at),
                          "—" if seen.pending_items is None else str(seen.pending_items),
                          instant(seen.oldest_pending_at) if seen.oldest_pending_at else "—", key=seen.device_id)
        heading.update(t("health.heading", count=len(message.seen)))
        table.focus()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()
