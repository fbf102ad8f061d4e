"""The queue as a list of lines drawn once: one page of accounts after another, keyed by account id.

Textual's DataTable draws every visible row again whenever its cursor moves (its line caches are
keyed by the cursor): 20 to 35 ms per key at 120x40 on a 2-core machine once the list scrolls. Here
each row is drawn into one line when its cells change and that line is reused while the agent moves
and scrolls; a key press repaints two lines, a scroll copies the lines on screen."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cobro_tui.domain.queue import QueueEntry
from cobro_tui.domain.text import shown_line
from cobro_tui.i18n import day, money, t
from cobro_tui.ui.widgets.cells import fit


class QueueTable(ScrollView, can_focus=True):
    """Shows queue pages with a row cursor; posts RowHighlighted as it moves and AccountChosen when
    the agent opens a row (Enter, or a click on the highlighted row)."""

    COMPONENT_CLASSES = {"queue-table--header", "queue-table--even-row", "queue-table--cursor"}

    BINDINGS = [
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home,ctrl+home", "first", show=False),
        Binding("end,ctrl+end", "last", show=False),
        Binding("enter", "choose", show=False),
    ]

    class AccountChosen(Message):
        def __init__(self, account_id: str) -> None:
            super().__init__()
            self.account_id = account_id

    class RowHighlighted(Message):
        def __init__(self, table: QueueTable, cursor_row: int, account_id: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.account_id = account_id

    # key, label, width in cells, aligned right
    COLUMNS = (
        ("priority", "queue.col_priority", 6, True),
        ("customer", "queue.col_customer", 19, False),
        ("account", "queue.col_account", 6, False),
        ("product", "queue.col_product", 11, False),
        ("bucket", "queue.col_bucket", 8, False),
        ("dpd", "queue.col_dpd", 4, True),
        ("past_due", "queue.col_past_due", 11, True),
        ("balance", "queue.col_balance", 12, True),
        ("last_contact", "queue.col_last_contact", 10, False),
        ("callable", "queue.col_callable", 11, False),
    )

    def __init__(self, agent_zone: ZoneInfo, now: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.agent_zone = agent_zone
        self.now = now  # the workstation's one clock
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, tuple[str, ...]] = {}
        self._lines: LRUCache[tuple[str, Style], Strip] = LRUCache(1024)  # rows drawn, by account and style
        self.cursor_row = 0
        self._width = sum(width + 2 for _, _, width, _ in self.COLUMNS)
        self._heading = "".join(f" {fit(t(label), width, right)} " for _, label, width, right in self.COLUMNS)

    # What the table holds

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def row_keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        return self._keys[self.cursor_row] if self._keys else None

    def get_row_at(self, row: int) -> tuple[str, ...]:
        return self._cells[self._keys[row]]

    def get_row(self, account_id: str) -> tuple[str, ...]:
        return self._cells[account_id]

    # Cells of an entry

    def callable_cell(self, entry: QueueEntry) -> str:
        """Whether the rules allow a call now; else when they next do, on the agent's clock."""
        if entry.callable_now:
            return t("queue.callable_now")
        if entry.contact_from is None:
            return t("queue.not_callable")
        local = entry.contact_from.astimezone(self.agent_zone)
        return t(
            "queue.callable_from",
            at=local.strftime("%H:%M") if local.date() == self._today() else local.strftime("%d/%m %H:%M"),
        )

    def _today(self) -> date:
        return self.now().astimezone(self.agent_zone).date()

    def cells(self, entry: QueueEntry) -> tuple[str, ...]:
        return (
            str(entry.priority),
            shown_line(entry.customer_name),
            f"•{entry.account_last4}",
            t(f"product.{entry.product.value}"),
            entry.bucket,
            str(entry.dpd),
            money(entry.past_due),
            money(entry.balance),
            day(entry.last_contact_at.date()) if entry.last_contact_at else t("queue.never"),
            self.callable_cell(entry),
        )

    # Changes

    def append_entries(self, entries: Iterable[QueueEntry]) -> None:
        """The next page, below the rows already shown."""
        for entry in entries:
            if entry.account_id not in self._index:
                self._index[entry.account_id] = len(self._keys)
                self._keys.append(entry.account_id)
                self._cells[entry.account_id] = self.cells(entry)
        self._resized()

    def replace_entries(self, entries: Iterable[QueueEntry]) -> None:
        """Bring the table to `entries`, in their order (the queue's): changed rows drawn again, gone
        rows removed, new rows added. The cursor stays on its row number, so the agent's place holds
        while scores move accounts up and down."""
        cells = {entry.account_id: self.cells(entry) for entry in entries}
        for account_id, new in cells.items():
            if self._cells.get(account_id) != new:
                self._forget(account_id)
        for gone in self._cells.keys() - cells.keys():
            self._forget(gone)
        self._keys = list(cells)
        self._index = {account_id: row for row, account_id in enumerate(self._keys)}
        self._cells = cells
        self.cursor_row = min(self.cursor_row, max(len(self._keys) - 1, 0))
        self._resized()
        self.refresh()

    def clear(self) -> None:
        self._keys, self._index, self._cells = [], {}, {}
        self._lines.clear()
        self.cursor_row = 0
        self.scroll_to(0, 0, animate=False)
        self._resized()
        self.refresh()

    def _forget(self, account_id: str) -> None:
        # Textual's LRUCache has keys() but no iteration of its own: `in self._lines` would index it.
        for key in [key for key in self._lines.keys() if key[0] == account_id]:  # noqa: SIM118
            self._lines.discard(key)

    def _resized(self) -> None:
        self.virtual_size = Size(self._width, len(self._keys) + 1)  # the heading is the first line

    # The cursor

    def move_cursor(self, row: int) -> None:
        if not self._keys:
            return
        row = max(0, min(row, len(self._keys) - 1))
        old, self.cursor_row = self.cursor_row, row
        self._refresh_row(old)
        self._refresh_row(row)
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False)
        if row != old:
            self.post_message(self.RowHighlighted(self, row, self._keys[row]))

    def _refresh_row(self, row: int) -> None:
        y = row - round(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 2, 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._page())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._keys) - 1)

    def action_choose(self) -> None:
        if self._keys:
            self.post_message(self.AccountChosen(self._keys[self.cursor_row]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = round(self.scroll_y) + offset.y - 1
        if row >= len(self._keys):
            return
        if row == self.cursor_row:
            self.action_choose()
        else:
            self.move_cursor(row)

    # Drawing

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("queue-table--header")
            line = Strip([Segment(self._heading, header)], self._width)
        else:
            row = scroll_y + y - 1
            if row >= len(self._keys):
                return Strip.blank(width, base)
            line = self._line(row, base)
        return line.crop_extend(scroll_x, scroll_x + width, base)

    def _line(self, row: int, base: Style) -> Strip:
        if row == self.cursor_row:
            style = self.get_component_rich_style("queue-table--cursor")
        elif row % 2:
            style = self.get_component_rich_style("queue-table--even-row")
        else:
            style = base
        account_id = self._keys[row]
        line = self._lines.get((account_id, style))
        if line is None:
            text = "".join(
                f" {fit(cell, width, right)} "
                for (_, _, width, right), cell in zip(self.COLUMNS, self._cells[account_id])
            )
            line = Strip([Segment(text, style)], self._width)
            self._lines.set((account_id, style), line)
        return line
