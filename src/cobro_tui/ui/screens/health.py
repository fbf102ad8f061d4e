"""Sync health of every workstation: whose, which version, when the server last saw it, and how
many items it had waiting to be sent (and since when)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from cobro_tui.i18n import t
from cobro_tui.services.approvals import Seen, SupervisorService, Table
from cobro_tui.ui.screens.server_screen import ServerScreen
from cobro_tui.ui.widgets.key_bar import KeyBar


class HealthScreen(ServerScreen):
    HEADING = "#health-heading"
    BINDINGS = [
        Binding("escape", "back", "keys.approvals", id="health.back"),
        Binding("c", "export", "keys.export", id="health.export"),
        Binding("ctrl+r", "reload", "keys.reload", id="health.reload"),
    ]

    def __init__(self, service: SupervisorService) -> None:
        super().__init__()
        self.service = service
        self.seen: list[Seen] = []

    def compose(self) -> ComposeResult:
        yield Static(t("health.loading"), id="health-heading")
        yield DataTable(id="health-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("agent", "device", "version", "seen", "pending", "oldest", "state"):
            table.add_column(t(f"health.col_{key}"), key=key)
        self.load()

    def tables(self) -> dict[str, Table]:
        return {
            "workstations": (
                [
                    "agent",
                    "device_id",
                    "app_version",
                    "last_seen_at",
                    "pending_items",
                    "oldest_pending_at",
                    "attention",
                ],
                [
                    [
                        w.agent,
                        w.device_id,
                        w.app_version,
                        w.last_seen_at.isoformat(),
                        "" if w.pending_items is None else w.pending_items,
                        w.oldest_pending_at.isoformat() if w.oldest_pending_at else "",
                        self.service.attention(w) or "",
                    ]
                    for w in self.seen
                ],
            )
        }

    def fetch(self) -> list[Seen]:
        return self.service.workstations()

    def show(self, data: list[Seen]) -> None:
        self.seen = data
        heading = self.query_one("#health-heading", Static)
        table = self.query_one(DataTable)
        table.clear()
        flagged = 0
        for seen in data:
            attention = self.service.attention(seen)
            flagged += attention is not None
            table.add_row(
                seen.agent,
                seen.device_id[:8],
                seen.app_version,
                self.local(seen.last_seen_at),
                "—" if seen.pending_items is None else str(seen.pending_items),
                self.local(seen.oldest_pending_at),
                f"⚠ {attention}" if attention else t("health.ok"),
                key=seen.device_id,
            )
        heading.update(
            t("health.heading", count=len(data)) + (" · " + t("health.flagged", count=flagged) if flagged else "")
        )
        table.focus()
