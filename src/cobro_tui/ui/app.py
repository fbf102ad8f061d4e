"""The workstation app: global keys, theme, and the first screen."""

from __future__ import annotations

import gc
import threading
import time

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.timer import Timer
from textual.worker import Worker

from cobro_tui.i18n import t
from cobro_tui.services.session import SessionGuard
from cobro_tui.services.sync import SyncReport
from cobro_tui.services.workstation import Workstation
from cobro_tui.settings import Settings
from cobro_tui.ui.commands import AccountSearch
from cobro_tui.ui.lock import SessionLock
from cobro_tui.ui.messages import NextAccountWanted, OpenAccount, SyncFinished
from cobro_tui.ui.screen_keys import HELP
from cobro_tui.ui.screens.account import AccountScreen
from cobro_tui.ui.screens.queue import QueueScreen
from cobro_tui.ui.themes import THEMES


class CobroApp(SessionLock):
    CSS_PATH = "styles/app.tcss"
    TITLE = "cobro-tui"
    # Below 100 columns the account screen stacks its two columns.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "app.quit", id="app.quit", priority=True),
        HELP,
        Binding("ctrl+r", "sync_now", "keys.sync", id="app.sync"),
    ]

    COMMANDS = App.COMMANDS | {AccountSearch}

    def __init__(self, settings: Settings, workstation: Workstation, session: SessionGuard | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.workstation = workstation
        self._session = session
        self.animation_level = settings.ui.animation
        self._next_sync: Timer | None = None
        self._ui_thread = threading.get_ident()
        self._account_screen: AccountScreen | None = None
        self._last_input = self._last_full_pass = time.monotonic()
        self._thresholds = gc.get_threshold()
        self._damage_said = False

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        if self.settings.ui.theme in self.available_themes:
            self.theme = self.settings.ui.theme
        else:
            self.notify(
                t("app.unknown_theme", theme=self.settings.ui.theme, themes=", ".join(sorted(self.available_themes))),
                severity="warning",
            )
        self.push_screen(QueueScreen(self.workstation, self.settings.ui.agent_zone))
        self.start_idle_lock(self._session)
        if self.workstation.sync is not None:
            if self.workstation.sync.transport_warning:
                self.notify(self.workstation.sync.transport_warning, severity="warning", timeout=30)
            self.workstation.after_write(self.request_sync)
            self.run_sync()
        # Once started, the objects of the start (modules, styles, the first screens) live as long
        # as the app: kept out of the collector's full passes, which otherwise pause a key now and
        # then for 50-100 ms on a loaded machine.
        self.set_timer(1, self._prepare_account_screen)
        self.set_timer(1, self._prepare_writes)
        self.set_timer(2, self._freeze_start)

    def _prepare_account_screen(self) -> None:
        """Make the account screen while the agent reads the queue: composing and styling it costs
        100-170 ms once, which the first f5 would otherwise wait for. A timer may fire while the app
        shuts down, its screens already gone: then there is nothing to prepare."""
        if not self.is_running or not self.screen_stack:
            return
        if self._account_screen is None and isinstance(self.screen, QueueScreen):
            self._account_screen = AccountScreen(self.workstation, None, self.settings.ui.agent_zone)
            self.install_screen(self._account_screen, "account")
            self.push_screen("account")
            self.pop_screen()

    @work(thread=True, exclusive=True, group="prepare-writes", exit_on_error=False)
    def _prepare_writes(self) -> None:
        """The first contact of the day would otherwise wait 0.1-0.4 s for the table definitions."""
        self.workstation.prepare_writes()

    # The collector's full passes take 13-27 ms once the screens are alive; left to themselves they
    # land on a key press every few seconds (f5 went from 35 to 55-60 ms). After the start they run
    # only while the agent is not typing, and at least once a minute.
    QUIET_SECONDS = 1.0
    FULL_PASS_AT_LEAST_EVERY = 60.0

    def _freeze_start(self) -> None:
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, 1_000_000)  # no automatic full pass
        self._last_full_pass = time.monotonic()
        self.set_interval(5, self._full_pass_when_quiet)

    def _full_pass_when_quiet(self) -> None:
        now = time.monotonic()
        if now - self._last_input > self.QUIET_SECONDS or now - self._last_full_pass > self.FULL_PASS_AT_LEAST_EVERY:
            gc.collect()
            self._last_full_pass = now

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def on_unmount(self) -> None:
        gc.set_threshold(*self._thresholds)  # the process may go on (tests, an embedding tool)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Without a server (a local demo cache) there is nothing to sync: the key is not offered.
        if action == "sync_now":
            return self.workstation.sync is not None
        return True

    def action_sync_now(self) -> None:
        """A round now, whatever the timer says (offline in the demo without a server: nothing to do)."""
        if self.workstation.sync is not None:
            self.run_sync()

    @on(OpenAccount)
    def open_account(self, message: OpenAccount) -> None:
        self.load_account(message.account_id, ())

    @on(NextAccountWanted)
    def next_account(self, message: NextAccountWanted) -> None:
        self.load_account(None, message.skip)

    @work(thread=True, exclusive=True, group="open-account", exit_on_error=False)
    def load_account(self, account_id: str | None, skip: tuple[str, ...]) -> None:
        """Find (for f5) and read the account in one worker, so the screen shows it whole at once."""
        if account_id is None:
            account_id = self.workstation.accounts.next_best(skip)
            if account_id is None:
                self.call_from_thread(self.notify, t("account.no_next"))
                return
        self.post_message(AccountScreen.read(self.workstation, account_id))

    @on(AccountScreen.Loaded)
    @on(AccountScreen.Failed)
    def show_account(self, message: AccountScreen.Loaded | AccountScreen.Failed) -> None:
        if isinstance(message, AccountScreen.Failed):
            self.notify(message.message, severity="error")
            return
        # One account screen, made once and kept: each account is filled into it before it shows.
        screen = self._account_screen
        if screen is None:
            screen = self._account_screen = AccountScreen(
                self.workstation, message.view.file.account.id, self.settings.ui.agent_zone, message
            )
            self.install_screen(screen, "account")
        else:
            screen.show_loaded(message)
        if self.screen is not screen:
            self.push_screen("account")

    def request_sync(self) -> None:
        """Sync soon: called after a local write, from any thread."""
        if self.workstation.sync is None:
            return
        if threading.get_ident() == self._ui_thread:
            self.run_sync()
        else:
            self.call_from_thread(self.run_sync)

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def run_sync(self) -> None:
        """One round in a thread; the next is scheduled when this one ends (never stacked)."""
        assert self.workstation.sync is not None
        report = self.workstation.sync_round()
        self.call_from_thread(self._sync_done, report)

    def after_worker_failure(self, worker: Worker[object]) -> None:
        # A round that raised never reached _sync_done: the next one is scheduled here instead.
        if worker.group == "sync" and self.workstation.sync is not None:
            if self._next_sync is not None:
                self._next_sync.stop()
            self._next_sync = self.set_timer(self.workstation.sync.interval_seconds, self.run_sync)

    def _sync_done(self, report: SyncReport) -> None:
        assert self.workstation.sync is not None
        self.screen.post_message(SyncFinished(report))
        if report.reason == "damaged" and not self._damage_said:
            # The cache is damaged: its unsent items were saved to a file; the words say what to do.
            self._damage_said = True
            self.notify(report.error or "", severity="error", timeout=600)
        if self._next_sync is not None:
            self._next_sync.stop()
        if report.auth_failed and self.session is not None:
            # Nothing more is shown until the person signs in again; sync resumes then.
            self._next_sync = None
            self.session_refused(then=self.run_sync)
            return
        self._next_sync = self.set_timer(self.workstation.sync.next_delay(report), self.run_sync)
