"""What the agent recorded on this workstation and where each item stands with the server."""

from __future__ import annotations

from textual.widgets import DataTable

from cobro_tui.i18n import instant, t
from cobro_tui.services.sync import LocalItem


class LocalItems(DataTable[str]):
    """The latest local items: pending, sending, synced, with warnings, rejected (with reason), held."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_column(t("items.col_state"), key="state", width=16)
        self.add_column(t("items.col_action"), key="action", width=14)
        self.add_column(t("items.col_time"), key="time", width=17)
        self.add_column(t("items.col_reason"), key="reason")

    def show(self, items: list[LocalItem]) -> None:
        self.set_class(not items, "-empty")
        wanted = {item.mutation_id for item in items}
        for key in [k for k in self.rows if k.value not in wanted]:
            self.remove_row(key)
        for item in reversed(items):
            cells = (t(f"items.state_{item.state}"), t(f"items.action_{item.name.split('@')[0].replace('.', '_')}"),
                     instant(item.occurred_at), item.reason or "")
            if item.mutation_id in self.rows:
                for column, value in zip(("state", "action", "time", "reason"), cells):
                    self.update_cell(item.mutation_id, column, value)
            else:
                self.add_row(*cells, key=item.mutation_id)
