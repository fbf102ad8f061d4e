"""What the agent recorded on this workstation and where each item stands with the server."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from cobro_tui.i18n import instant, t
from cobro_tui.services.sync import LocalItem


class LocalItems(DataTable[str]):
    """The latest local items: pending, sending, synced, with warnings, rejected (with reason), held.
    Refusals and warnings stay at the top until the agent acknowledges them (a)."""

    BINDINGS = [Binding("a", "acknowledge", "keys.ack", id="items.acknowledge")]

    class Acknowledged(Message):
        def __init__(self, mutation_id: str) -> None:
            super().__init__()
            self.mutation_id = mutation_id

    def action_acknowledge(self) -> None:
        if self.row_count:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
            if key is not None and key in self.attention:
                self.post_message(self.Acknowledged(key))

    def on_mount(self) -> None:
        self.attention: set[str] = set()
        self.cursor_type = "row"
        self.add_column(t("items.col_state"), key="state", width=16)
        self.add_column(t("items.col_action"), key="action", width=14)
        self.add_column(t("items.col_time"), key="time", width=17)
        self.add_column(t("items.col_reason"), key="reason")

    def show(self, items: list[LocalItem]) -> None:
        """Newest first; cells change in place while the same items are listed (the cursor stays put)."""
        self.attention = {item.mutation_id for item in items if item.needs_attention}
        self.set_class(not items, "-empty")
        rows = {item.mutation_id: self._cells(item) for item in items}
        if [key.value for key in self.rows] != list(rows):
            self.clear()
            for key, cells in rows.items():
                self.add_row(*cells, key=key)
            return
        for key, cells in rows.items():
            for column, value in zip(("state", "action", "time", "reason"), cells):
                self.update_cell(key, column, value)

    @staticmethod
    def _cells(item: LocalItem) -> tuple[str, str, str, str]:
        action = item.name.split("@")[0].replace(".", "_")
        return (
            t(f"items.state_{item.state}"),
            t(f"items.action_{action}"),
            instant(item.occurred_at),
            item.reason or "",
        )
