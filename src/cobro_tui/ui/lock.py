"""The idle lock and the new sign-in: a screen over every other one that shows no personal data.

After `[ui] idle_lock_minutes` without a key or a click, or when the server refuses the session's
token, the app covers whatever is on screen with `LockScreen`: only the user's own name and a
password field. The password opens it (offline too, for the idle lock); five wrong ones sign the
user out and end the app. Nothing recorded is lost: the outbox is untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from cobro_tui.i18n import t
from cobro_tui.services.session import Attempt, SessionGuard
from cobro_tui.ui.failures import WorkerFailures
from cobro_tui.ui.screens.base import CobroModal

IDLE = "idle"
EXPIRED = "expired"


class LockScreen(CobroModal[bool]):
    """Dismissed with True once the password opened it; the app ends when the user is signed out."""

    BINDINGS: ClassVar[list[BindingType]] = []

    class Answered(Message):
        def __init__(self, attempt: Attempt) -> None:
            super().__init__()
            self.attempt = attempt

    def __init__(self, guard: SessionGuard, mode: str) -> None:
        super().__init__(id="lock")
        self.guard = guard
        self.mode = mode

    def compose(self) -> ComposeResult:
        with Vertical(id="lock-box", classes="form"):
            yield Static(t(f"lock.title_{self.mode}", user=self.guard.user), classes="form-title", id="lock-title")
            yield Static(
                t(f"lock.context_{self.mode}", minutes=self.guard.idle_minutes),
                classes="form-context",
                id="lock-context",
            )
            yield Input(password=True, placeholder=t("lock.password"), id="lock-password")
            yield Static("", id="lock-message", classes="form-check")

    def become(self, mode: str) -> None:
        """The same lock, now asking for a new sign-in (the server refused the token meanwhile)."""
        self.mode = mode
        self.query_one("#lock-title", Static).update(t(f"lock.title_{mode}", user=self.guard.user))
        self.query_one("#lock-context", Static).update(t(f"lock.context_{mode}", minutes=self.guard.idle_minutes))

    @on(Input.Submitted, "#lock-password")
    def _submitted(self, event: Input.Submitted) -> None:
        field = self.query_one("#lock-password", Input)
        field.disabled = True
        self.query_one("#lock-message", Static).update(t("lock.checking"))
        self._check(event.value)

    @work(thread=True, exclusive=True, group="lock", exit_on_error=False)
    def _check(self, password: str) -> None:
        check = self.guard.unlock if self.mode == IDLE else self.guard.sign_in_again
        self.post_message(self.Answered(check(password)))

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        attempt = message.attempt
        if attempt.ok:
            self.dismiss(True)
            return
        if attempt.signed_out:
            self.app.exit(return_code=5, message=attempt.message)
            return
        field = self.query_one("#lock-password", Input)
        field.value = ""
        field.disabled = False
        field.focus()
        self.query_one("#lock-message", Static).update(attempt.message)


class SessionLock(WorkerFailures):
    """Both apps: the idle lock, and the sign-in screen when the server refuses the token."""

    session: SessionGuard | None = None
    locked: bool = False
    # The clock of idleness (tests move it); time.monotonic, never the business clock.
    idle_clock: Callable[[], float] = staticmethod(time.monotonic)
    IDLE_CHECK_SECONDS = 5.0
    _last_activity: float = 0.0
    _after_unlock: list[Callable[[], Any]]

    def start_idle_lock(self, session: SessionGuard | None) -> None:
        self.session = session
        self._after_unlock = []
        self._last_activity = self.idle_clock()
        if session is not None:
            self.set_interval(self.IDLE_CHECK_SECONDS, self.check_idle)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._last_activity = self.idle_clock()
        await super().on_event(event)

    def check_idle(self) -> None:
        if self.session is None or self.locked:
            return
        if self.idle_clock() - self._last_activity >= self.session.idle_minutes * 60:
            self.lock(IDLE)

    def lock(self, mode: str, then: Callable[[], Any] | None = None) -> None:
        """Cover every screen; `then` runs once the password opened it."""
        if then is not None:
            self._after_unlock.append(then)
        if self.session is None or self.locked:
            return
        self.locked = True
        self.clear_notifications()  # a toast may name a customer
        for screen in self.screen_stack:  # personal data revealed before the lock is masked again
            hide = getattr(screen, "hide_personal_data", None)
            if hide is not None:
                hide()
        self.push_screen(LockScreen(self.session, mode), callback=self._unlocked)

    def _unlocked(self, _opened: bool | None) -> None:
        self.locked = False
        self._last_activity = self.idle_clock()
        waiting, self._after_unlock = self._after_unlock, []
        for then in waiting:
            then()

    def session_refused(self, then: Callable[[], Any] | None = None) -> None:
        """The server refused the token: forget it here and ask the person to sign in again."""
        if self.session is None:
            return
        self.session.expired()
        if then is not None:
            self._after_unlock.append(then)
        for screen in self.screen_stack:
            if isinstance(screen, LockScreen):
                screen.become(EXPIRED)  # the idle lock now asks for the sign-in, which also unlocks it
                return
        self.lock(EXPIRED)

    def action_command_palette(self) -> None:
        if not self.locked:  # the palette searches accounts: nothing of them while locked
            super().action_command_palette()
