"""A supervisor's inbox: offers held above their agents' authority (promises after broken ones,
settlements with a larger discount, restructures), each approved or denied with a reason."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from cobro_tui.domain.text import shown
from cobro_tui.i18n import t
from cobro_tui.services.approvals import Held, SupervisorService, Table
from cobro_tui.ui.screens.base import CobroForm
from cobro_tui.ui.screens.server_screen import ServerScreen
from cobro_tui.ui.widgets.key_bar import KeyBar


class ApprovalsScreen(ServerScreen):
    HEADING = "#approvals-heading"
    BINDINGS = [
        Binding("enter", "decide", "keys.decide", id="approvals.decide"),
        Binding("e", "exceptions", "keys.exceptions", id="approvals.exceptions"),
        Binding("w", "health", "keys.health", id="approvals.health"),
        Binding("t", "team", "keys.team", id="approvals.team"),
        Binding("k", "dashboard", "keys.dashboard", id="approvals.dashboard"),
        Binding("c", "export", "keys.export", id="approvals.export"),
        Binding("ctrl+r", "reload", "keys.reload", id="approvals.reload"),
    ]

    def __init__(self, service: SupervisorService) -> None:
        super().__init__()
        self.service = service
        self.held: dict[str, Held] = {}

    def compose(self) -> ComposeResult:
        yield Static(t("approvals.loading"), id="approvals-heading")
        yield DataTable(id="approvals-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="approvals-why")
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("agent", "customer", "standing", "what", "level", "requested"):
            table.add_column(
                t(f"review.col_{key}" if key in ("customer", "standing") else f"approvals.col_{key}"), key=key
            )
        self.load()

    def tables(self) -> dict[str, Table]:
        return {
            "approvals": (
                ["mutation_id", "agent", "account_id", "customer", "standing", "offer", "level", "why", "requested_at"],
                [
                    [
                        h.mutation_id,
                        h.agent,
                        h.account_id,
                        h.customer,
                        h.standing,
                        h.what,
                        h.level,
                        h.why,
                        h.requested_at.isoformat(),
                    ]
                    for h in self.held.values()
                ],
            )
        }

    def fetch(self) -> list[Held]:
        return self.service.pending()

    def show(self, data: list[Held]) -> None:
        heading = self.query_one("#approvals-heading", Static)
        self.held = {h.mutation_id: h for h in data}
        table = self.query_one(DataTable)
        table.clear()
        for held in data:
            table.add_row(
                held.agent,
                held.customer,
                held.standing,
                held.what,
                t(f"role_name.{held.level}"),
                self.local(held.requested_at),
                key=held.mutation_id,
            )
        heading.update(
            t("approvals.heading", user=self.service.user, count=len(data))
            if data
            else t("approvals.empty", user=self.service.user)
        )
        self._show_why()
        table.focus()

    @on(DataTable.RowHighlighted)
    def _show_why(self) -> None:
        chosen = self._chosen()
        self.query_one("#approvals-why", Static).update(
            Content(shown(t("approvals.why", why=chosen.why))) if chosen else ""
        )

    def _chosen(self) -> Held | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.held.get(key or "")

    @on(DataTable.RowSelected)
    def action_decide(self) -> None:
        chosen = self._chosen()
        if chosen is not None:
            self.app.push_screen(DecisionForm(self.service, chosen), self._decided)

    def _decided(self, said: str | None) -> None:
        if said:
            self.notify(said, timeout=8)
            self.load()

    def action_reload(self) -> None:
        self.load()

    def action_exceptions(self) -> None:
        """The compliance-exception queue; escape comes back here."""
        from cobro_tui.ui.screens.exceptions import ExceptionsScreen

        self.app.push_screen(ExceptionsScreen(self.service))

    def action_dashboard(self) -> None:
        """The KPI dashboard; escape comes back here."""
        from cobro_tui.ui.screens.dashboard import DashboardScreen

        self.app.push_screen(DashboardScreen(self.service))

    def action_team(self) -> None:
        """The team's queues; escape comes back here."""
        from cobro_tui.ui.screens.team import TeamScreen

        self.app.push_screen(TeamScreen(self.service))

    def action_health(self) -> None:
        """Every workstation's sync health; escape comes back here."""
        from cobro_tui.ui.screens.health import HealthScreen

        self.app.push_screen(HealthScreen(self.service))


class DecisionForm(CobroForm):
    """Approve or deny one held offer, with a reason (the server keeps it with the decision)."""

    def __init__(self, service: SupervisorService, held: Held) -> None:
        super().__init__()
        self.service = service
        self.held = held

    def compose(self) -> ComposeResult:
        with Vertical(id="decision-form", classes="form"):
            yield Static(t("approvals.decide_title"), classes="form-title")
            yield Static(Content(shown(f"{self.held.agent} · {self.held.what}")), classes="form-context")
            yield Static(Content(shown(t("approvals.why", why=self.held.why))))
            yield Label(t("approvals.decision"))
            yield Select(
                [(t("approvals.approve"), "approve"), (t("approvals.deny"), "deny")],
                value="approve",
                allow_blank=False,
                compact=True,
                id="decision-choice",
            )
            yield Label(t("approvals.reason"))
            yield Input(compact=True, id="decision-reason")
            yield Static("", classes="form-check")
            yield from self.save_buttons("decision")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#decision-reason", Input).focus()

    @on(Button.Pressed, "#decision-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        approve = self.query_one("#decision-choice", Select).value == "approve"
        reason = self.query_one("#decision-reason", Input).value
        self.saving(lambda: self.service.decide(self.held.mutation_id, approve, reason))
