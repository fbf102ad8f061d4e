"""A team's queues: per agent, accounts by bucket, accounts worked today, promises due today."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import t
from cobro_tui.services.approvals import SupervisorService
from cobro_tui.ui.screens.base import CobroScreen
from cobro_tui.ui.widgets.key_bar import KeyBar


class TeamScreen(CobroScreen):
    BINDINGS = [
        Binding("escape", "back", "keys.approvals", id="team.back"),
        Binding("ctrl+r", "reload", "keys.reload", id="team.reload"),
    ]

    class Loaded(Message):
        def __init__(self, view: dict[str, Any] | None, error: str | None = None) -> None:
            super().__init__()
            self.view = view
            self.error = error

    def __init__(self, service: SupervisorService) -> None:
        super().__init__()
        self.service = service

    def compose(self) -> ComposeResult:
        yield Static(t("team.loading"), id="team-heading")
        yield DataTable(id="team-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="team", exit_on_error=False)
    def load(self) -> None:
        try:
            self.post_message(self.Loaded(self.service.team()))
        except UserFacingError as exc:
            self.post_message(self.Loaded(None, exc.message))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        heading = self.query_one("#team-heading", Static)
        if message.view is None:
            heading.update(message.error or "")
            return
        view = message.view
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

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()
