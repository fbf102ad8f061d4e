"""A team's queues: per agent, accounts by bucket, accounts worked today, promises due today."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from cobro_tui.i18n import t
from cobro_tui.services.approvals import SupervisorService
from cobro_tui.ui.screens.server_screen import ServerScreen
from cobro_tui.ui.widgets.key_bar import KeyBar


class TeamScreen(ServerScreen):
    HEADING = "#team-heading"
    BINDINGS = [
        Binding("escape", "back", "keys.approvals", id="team.back"),
        Binding("ctrl+r", "reload", "keys.reload", id="team.reload"),
    ]

    def __init__(self, service: SupervisorService) -> None:
        super().__init__()
        self.service = service

    def compose(self) -> ComposeResult:
        yield Static(t("team.loading"), id="team-heading")
        yield DataTable(id="team-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.load()

    def fetch(self) -> dict[str, Any]:
        return self.service.team()

    def show(self, view: dict[str, Any]) -> None:
        heading = self.query_one("#team-heading", Static)
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column(t("team.col_agent"), key="agent")
        table.add_column(t("team.col_accounts"), key="accounts")
        for code in view["buckets"]:
            table.add_column(code, key=f"bucket-{code}")
        table.add_column(t("team.col_worked"), key="worked")
        table.add_column(t("team.col_due"), key="due")
        for agent in view["agents"]:
            table.add_row(agent["agent"], str(agent["accounts"]), *(str(agent["by_bucket"][c]) for c in view["buckets"]),
                          str(agent["worked_today"]), str(agent["promises_due_today"]), key=agent["agent"])
        heading.update(t("team.heading", day=view["day"], agents=len(view["agents"])))
        table.focus()
