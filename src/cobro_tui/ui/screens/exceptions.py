"""A supervisor's compliance-exception queue: contacts recorded although the rules blocked them
(or under an override), each reviewed with a note of what was found."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, DataTable, Input, Label, Static

from cobro_tui.domain.text import shown
from cobro_tui.i18n import t
from cobro_tui.services.approvals import Flagged, SupervisorService, Table
from cobro_tui.ui.screens.base import CobroForm
from cobro_tui.ui.screens.server_screen import ServerScreen
from cobro_tui.ui.widgets.key_bar import KeyBar


class ExceptionsScreen(ServerScreen):
    HEADING = "#exceptions-heading"
    BINDINGS = [
        Binding("enter", "review", "keys.review", id="exceptions.review"),
        Binding("escape", "back", "keys.approvals", id="exceptions.back"),
        Binding("c", "export", "keys.export", id="exceptions.export"),
        Binding("ctrl+r", "reload", "keys.reload", id="exceptions.reload"),
    ]

    def __init__(self, service: SupervisorService) -> None:
        super().__init__()
        self.service = service
        self.flagged: dict[str, Flagged] = {}

    def compose(self) -> ComposeResult:
        yield Static(t("exceptions.loading"), id="exceptions-heading")
        yield DataTable(id="exceptions-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="exceptions-message")
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("agent", "customer", "standing", "rules", "when"):
            table.add_column(
                t(f"review.col_{key}" if key in ("customer", "standing") else f"exceptions.col_{key}"), key=key
            )
        self.load()

    def tables(self) -> dict[str, Table]:
        return {
            "compliance_exceptions": (
                ["id", "agent", "account_id", "code", "rules", "message", "created_at"],
                [
                    [f.id, f.agent, f.account_id, f.code, f.rules, f.message, f.created_at.isoformat()]
                    for f in self.flagged.values()
                ],
            )
        }

    def fetch(self) -> list[Flagged]:
        return self.service.exceptions()

    def show(self, data: list[Flagged]) -> None:
        heading = self.query_one("#exceptions-heading", Static)
        self.flagged = {str(f.id): f for f in data}
        table = self.query_one(DataTable)
        table.clear()
        for flagged in data:
            table.add_row(
                flagged.agent,
                flagged.customer,
                flagged.standing,
                flagged.rules or flagged.code,
                self.local(flagged.created_at),
                key=str(flagged.id),
            )
        heading.update(t("exceptions.heading", count=len(data)) if data else t("exceptions.empty"))
        self._show_message()
        table.focus()

    @on(DataTable.RowHighlighted)
    def _show_message(self) -> None:
        chosen = self._chosen()
        self.query_one("#exceptions-message", Static).update(Content(shown(chosen.message)) if chosen else "")

    def _chosen(self) -> Flagged | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self.flagged.get(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or "")

    @on(DataTable.RowSelected)
    def action_review(self) -> None:
        chosen = self._chosen()
        if chosen is not None:
            self.app.push_screen(ReviewForm(self.service, chosen), self._reviewed)

    def _reviewed(self, said: str | None) -> None:
        if said:
            self.notify(said, timeout=6)
            self.load()


class ReviewForm(CobroForm):
    """What the supervisor found about one flagged contact (kept with the exception)."""

    def __init__(self, service: SupervisorService, flagged: Flagged) -> None:
        super().__init__()
        self.service = service
        self.flagged = flagged

    def compose(self) -> ComposeResult:
        with Vertical(id="review-form", classes="form"):
            yield Static(t("exceptions.review_title"), classes="form-title")
            yield Static(Content(shown(f"{self.flagged.agent} · {self.flagged.message}")), classes="form-context")
            yield Label(t("exceptions.note"))
            yield Input(compact=True, id="review-note")
            yield Static("", classes="form-check")
            yield from self.save_buttons("review")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#review-note", Input).focus()

    @on(Button.Pressed, "#review-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        note = self.query_one("#review-note", Input).value
        self.saving(lambda: self.service.review(self.flagged.id, note))
