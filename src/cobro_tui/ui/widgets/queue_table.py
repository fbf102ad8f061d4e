"""The queue as a table of one page of accounts, keyed by account id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from textual.message import Message
from textual.widgets import DataTable

from cobro_tui.domain.queue import QueueEntry
from cobro_tui.i18n import day, money, t


class QueueTable(DataTable[str]):
    """Shows queue pages; posts AccountChosen when the agent opens a row."""

    class AccountChosen(Message):
        def __init__(self, account_id: str) -> None:
            super().__init__()
            self.account_id = account_id

    COLUMNS = (
        ("priority", "queue.col_priority", 5),
        ("customer", "queue.col_customer", 20),
        ("account", "queue.col_account", 6),
        ("product", "queue.col_product", 11),
        ("bucket", "queue.col_bucket", 8),
        ("dpd", "queue.col_dpd", 4),
        ("past_due", "queue.col_past_due", 11),
        ("balance", "queue.col_balance", 12),
        ("last_contact", "queue.col_last_contact", 10),
        ("callable", "queue.col_callable", 11),
    )

    def __init__(self, agent_zone: ZoneInfo, now: Callable[[], datetime], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.agent_zone = agent_zone
        self.now = now  # the workstation's one clock

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, label, width in self.COLUMNS:
            self.add_column(t(label), key=key, width=width)

    def callable_cell(self, entry: QueueEntry) -> str:
        """Whether the rules allow a call now; else when they next do, on the agent's clock."""
        if entry.callable_now:
            return t("queue.callable_now")
        if entry.contact_from is None:
            return t("queue.not_callable")
        local = entry.contact_from.astimezone(self.agent_zone)
        return t("queue.callable_from", at=local.strftime("%H:%M") if local.date() == self._today() else
                 local.strftime("%d/%m %H:%M"))

    def _today(self) -> date:
        return self.now().astimezone(self.agent_zone).date()

    def cells(self, entry: QueueEntry) -> tuple[str, ...]:
        return (
            str(entry.priority),
            entry.customer_name,
            f"•{entry.account_last4}",
            t(f"product.{entry.product.value}"),
            entry.bucket,
            str(entry.dpd),
            money(entry.past_due),
            money(entry.balance),
            day(entry.last_contact_at.date()) if entry.last_contact_at else t("queue.never"),
            self.callable_cell(entry),
        )

    def append_entries(self, entries: tuple[QueueEntry, ...]) -> None:
        for entry in entries:
            if entry.account_id not in self.rows:
                self.add_row(*self.cells(entry), key=entry.account_id)

    def replace_entries(self, entries: tuple[QueueEntry, ...]) -> None:
        """Bring the table to `entries` by keys: changed cells updated, gone rows removed, new rows added."""
        wanted = {entry.account_id: entry for entry in entries}
        for key in [k for k in self.rows if k.value not in wanted]:
            self.remove_row(key)
        keys = [column for column, _, _ in self.COLUMNS]
        for entry in entries:
            cells = self.cells(entry)
            if entry.account_id in self.rows:
                current = self.get_row(entry.account_id)
                for column, old, new in zip(keys, current, cells):
                    if old != new:
                        self.update_cell(entry.account_id, column, new)
            else:
                self.add_row(*cells, key=entry.account_id)
        # Scores move accounts up and down: put the rows back in queue order, in place.
        self.sort("priority", "dpd", key=lambda values: (int(values[0]), int(values[1])), reverse=True)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.AccountChosen(event.row_key.value))
