"""The agent's work queue: the first screen of the workstation."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from cobro_tui.domain.queue import QueueFilter, QueueKey, QueuePage
from cobro_tui.i18n import language, number, t
from cobro_tui.services.status import WorkstationStatus
from cobro_tui.services.sync import LocalItem
from cobro_tui.services.workstation import Workstation
from cobro_tui.ui.messages import NextAccountWanted, OpenAccount, SyncFinished
from cobro_tui.ui.screens.base import CobroScreen
from cobro_tui.ui.screens.filter_form import FilterForm
from cobro_tui.ui.widgets.account_panels import priority_line
from cobro_tui.ui.widgets.key_bar import KeyBar
from cobro_tui.ui.widgets.local_items import LocalItems
from cobro_tui.ui.widgets.queue_table import QueueTable
from cobro_tui.ui.widgets.status_bar import StatusBar


class ScoresChanged(Message):
    """The queue's scores changed without a sync (start of the screen, a new day)."""


class QueueScreen(CobroScreen):
    BINDINGS = [
        Binding("f5", "next_account", "keys.next", id="queue.next"),
        Binding("r", "why", "keys.why", id="queue.why"),
        Binding("slash", "filter", "keys.filter", id="queue.filter"),
    ]

    # Rows left below the cursor when the next page is fetched: the agent never waits at the end.
    PREFETCH_ROWS = 40

    class PageLoaded(Message):
        def __init__(self, page: QueuePage, status: WorkstationStatus, items: list[LocalItem]) -> None:
            super().__init__()
            self.page = page
            self.status = status
            self.items = items

    class Counted(Message):
        """The total of a filtered list, counted after its first page was shown."""

        def __init__(self, chosen: QueueFilter | None, total: int) -> None:
            super().__init__()
            self.chosen = chosen
            self.total = total

    class Refreshed(Message):
        """After a sync; not a PageLoaded (Textual would hand it to that handler too)."""

        def __init__(self, page: QueuePage | None, status: WorkstationStatus, items: list[LocalItem]) -> None:
            super().__init__()
            self.page = page
            self.status = status
            self.items = items

    def __init__(self, workstation: Workstation, agent_zone: str) -> None:
        super().__init__()
        self.workstation = workstation
        self.agent_zone = agent_zone
        self.next_key: QueueKey | None = None
        self.total = 0
        self.chosen: QueueFilter | None = None
        self.checked_at = workstation.clock.now()

    def compose(self) -> ComposeResult:
        yield Static(t("queue.loading"), id="queue-heading")
        yield QueueTable(ZoneInfo(self.agent_zone), self.workstation.clock.now, id="queue-table")
        yield LocalItems(id="local-items", classes="-empty")
        yield StatusBar(self.agent_zone, id="status-bar")
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.load_page(None, score_first=True)
        # A new day changes which promises are due and who was worked today: score again then.
        self.set_interval(60, self.rescore_if_new_day)

    @work(thread=True, exclusive=True, group="queue-score", exit_on_error=False)
    def rescore_if_new_day(self) -> None:
        """Every minute: a new day scores everything again; callbacks that came due move up."""
        queue, now = self.workstation.queue, self.workstation.clock.now()
        changed = queue.ensure_today() or queue.rescore_callbacks_due(self.checked_at)
        self.checked_at = now
        if changed:
            self.post_message(ScoresChanged())

    @on(ScoresChanged)
    def scores_changed(self) -> None:
        self.refresh_loaded(self.query_one(QueueTable).row_count)

    @work(thread=True, exclusive=True, group="queue-page", exit_on_error=False)
    def load_page(self, after: QueueKey | None, score_first: bool = False) -> None:
        if score_first:
            # Scores made while no screen was open may be stale (a new day, a headless sync): the
            # first page waits for them rather than reshuffling under the agent's eyes. Usually
            # they are current and this costs one small query.
            self.workstation.queue.ensure_current()
        # A filtered list shows its first page at once; its total (a pass over every match) follows.
        filtered = self.chosen is not None and self.chosen.active
        page = self.workstation.queue.page(after, chosen=self.chosen, count=not filtered)
        self.post_message(self.PageLoaded(page, self.workstation.status.snapshot(), self.workstation.recent_items()))
        if filtered and after is None:
            self.post_message(self.Counted(self.chosen, self.workstation.queue.count(self.chosen)))

    @work(thread=True, exclusive=True, group="queue-refresh", exit_on_error=False)
    def refresh_loaded(self, rows: int | None) -> None:
        """After a sync: status and local items, and (when rows is given) the loaded rows read again
        for a keyed update of the table."""
        queue = self.workstation.queue
        # At least a page: a sync may bring the first accounts into an empty table.
        page = None if rows is None else queue.page(None, limit=max(rows, queue.page_size), chosen=self.chosen)
        self.post_message(self.Refreshed(page, self.workstation.status.snapshot(), self.workstation.recent_items()))

    @on(SyncFinished)
    def after_sync(self, message: SyncFinished) -> None:
        # A round that moved nothing (most of them, every few seconds) leaves the table alone.
        self.refresh_loaded(self.query_one(QueueTable).row_count if message.moved else None)

    @on(Refreshed)
    def show_refreshed(self, message: Refreshed) -> None:
        if message.page is not None:
            self.query_one(QueueTable).replace_entries(message.page.entries)
            self.total = message.page.total
            self.next_key = message.page.next_key if len(message.page.entries) else None
            self._show_heading()
        self.query_one(StatusBar).status = message.status
        self.query_one(LocalItems).show(message.items)

    @on(Counted)
    def show_total(self, message: Counted) -> None:
        if message.chosen == self.chosen:
            self.total = message.total
            self._show_heading()

    @on(PageLoaded)
    def show_page(self, message: PageLoaded) -> None:
        table = self.query_one(QueueTable)
        table.append_entries(message.page.entries)
        self.next_key = message.page.next_key
        if message.page.total >= 0:
            self.total = message.page.total
        elif not table.row_count:
            self.total = 0
        self._show_heading()
        self.query_one(StatusBar).status = message.status
        self.query_one(LocalItems).show(message.items)
        table.focus()

    def _show_heading(self) -> None:
        heading = self.query_one("#queue-heading", Static)
        shown = self.query_one(QueueTable).row_count
        if self.total == 0 and not shown:
            text = t("queue.empty", agent=self.workstation.agent)
        elif self.total < shown:  # a filter's total is still being counted
            text = t("queue.heading_counting", agent=self.workstation.agent, shown=number(shown))
        else:
            text = t("queue.heading", agent=self.workstation.agent, shown=number(shown), total=number(self.total))
        if self.chosen is not None:
            text += " · " + t("filter.shown", what=self._filter_words(self.chosen))
        heading.update(text)

    def _filter_words(self, chosen: QueueFilter) -> str:
        words = []
        if chosen.bucket is not None:
            words.append(self.workstation.policy.buckets.by_code(chosen.bucket).label(language()))
        if chosen.product is not None:
            words.append(t(f"product.{chosen.product.value}"))
        if chosen.segment is not None:
            words.append(f"{t('filter.segment')} {chosen.segment}")
        if chosen.promise is not None:
            words.append(t(f"filter.promise_{chosen.promise.value}"))
        if chosen.callable_now:
            words.append(t("filter.callable_now").lower())
        return ", ".join(words)

    @on(LocalItems.Acknowledged)
    def acknowledged(self, message: LocalItems.Acknowledged) -> None:
        self.acknowledge(message.mutation_id)

    @work(thread=True, exclusive=True, group="queue-ack", exit_on_error=False)
    def acknowledge(self, mutation_id: str) -> None:
        self.workstation.acknowledge(mutation_id)
        self.post_message(self.Refreshed(None, self.workstation.status.snapshot(), self.workstation.recent_items()))

    @on(QueueTable.AccountChosen)
    def open_account(self, message: QueueTable.AccountChosen) -> None:
        self.app.post_message(OpenAccount(message.account_id))

    def action_filter(self) -> None:
        self.app.push_screen(FilterForm(self.workstation.policy, self.chosen), self._filtered)

    def _filtered(self, chosen: QueueFilter | None) -> None:
        if chosen is None:
            return
        self.chosen = chosen if chosen.active else None
        # Another filter is another list: start it from the top.
        self.query_one(QueueTable).clear()
        self.next_key, self.total = None, -1
        self.load_page(None)

    def action_why(self) -> None:
        """Say why the highlighted account stands where it does."""
        self.explain(self.query_one(QueueTable).cursor_key)

    @work(thread=True, exclusive=True, group="queue-why", exit_on_error=False)
    def explain(self, account_id: str | None) -> None:
        if account_id is not None:
            line = priority_line(self.workstation.queue.reasons(account_id))
            self.app.call_from_thread(self.notify, line, timeout=8)

    def action_next_account(self) -> None:
        self.app.post_message(NextAccountWanted())

    @on(QueueTable.RowHighlighted)
    def prefetch(self, event: QueueTable.RowHighlighted) -> None:
        if self.next_key is not None and event.cursor_row >= event.table.row_count - self.PREFETCH_ROWS:
            after, self.next_key = self.next_key, None  # one fetch per page
            self.load_page(after)
