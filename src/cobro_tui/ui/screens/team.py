"""A team's queues: per agent, their state (enabled, disabled, locked out) and when the server last
saw them, accounts by bucket, accounts worked today, promises due today. Enter opens the agent's accounts, to move them to another agent; `c` writes the table as CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from cobro_tui.i18n import instant, t
from cobro_tui.services.approvals import SupervisorService, Table
from cobro_tui.services.kpi_text import team_words
from cobro_tui.ui.screens.server_screen import ServerScreen
from cobro_tui.ui.widgets.key_bar import KeyBar


class TeamScreen(ServerScreen):
    HEADING = "#team-heading"
    BINDINGS = [
        Binding("enter", "accounts", "keys.accounts", id="team.accounts"),
        Binding("c", "export", "keys.export", id="team.export"),
        Binding("g", "next_team", "keys.next_team", id="team.next_team"),
        Binding("escape", "back", "keys.approvals", id="team.back"),
        Binding("ctrl+r", "reload", "keys.reload", id="team.reload"),
    ]

    def __init__(self, service: SupervisorService) -> None:
        super().__init__()
        self.service = service
        self.view: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static(t("team.loading"), id="team-heading")
        yield DataTable(id="team-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.load()

    def fetch(self) -> dict[str, Any]:
        return self.service.team(self.app.team)  # type: ignore[attr-defined]

    def show(self, view: dict[str, Any]) -> None:
        self.view = view
        heading = self.query_one("#team-heading", Static)
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column(t("team.col_agent"), key="agent")
        table.add_column(t("team.col_state"), key="state")
        table.add_column(t("team.col_seen"), key="seen")
        table.add_column(t("team.col_accounts"), key="accounts")
        for code in view["buckets"]:
            table.add_column(code, key=f"bucket-{code}")
        table.add_column(t("team.col_worked"), key="worked")
        table.add_column(t("team.col_due"), key="due")
        for agent in view["agents"]:
            table.add_row(
                agent["agent"],
                t(f"team.state_{agent.get('state', 'enabled')}"),
                _seen(agent.get("seen_at")),
                str(agent["accounts"]),
                *(str(agent["by_bucket"][c]) for c in view["buckets"]),
                str(agent["worked_today"]),
                str(agent["promises_due_today"]),
                key=agent["agent"],
            )
        heading.update(t("team.heading", team=team_words(view["team"]), day=view["day"], agents=len(view["agents"])))
        table.focus()

    @on(DataTable.RowSelected)
    def action_accounts(self) -> None:
        """The highlighted agent's accounts; escape comes back here."""
        from cobro_tui.ui.screens.reassign import AgentAccountsScreen

        table = self.query_one(DataTable)
        if self.view is None or not table.row_count:
            return
        agent = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        self.app.push_screen(
            AgentAccountsScreen(self.service, agent, [a["agent"] for a in self.view["agents"]]), lambda _: self.load()
        )

    def tables(self) -> dict[str, Table]:
        if self.view is None:
            return {}
        buckets = self.view["buckets"]
        return {
            "team": (
                ["agent", "state", "seen_at", "accounts", *buckets, "worked_today", "promises_due_today"],
                [
                    [
                        a["agent"],
                        a.get("state", "enabled"),
                        a.get("seen_at") or "",
                        a["accounts"],
                        *(a["by_bucket"][b] for b in buckets),
                        a["worked_today"],
                        a["promises_due_today"],
                    ]
                    for a in self.view["agents"]
                ],
            )
        }


def _seen(text: str | None) -> str:
    """When the server last saw the agent, on its clock (UTC): the column says so."""
    return instant(datetime.fromisoformat(text).astimezone(UTC)) if text else "—"
