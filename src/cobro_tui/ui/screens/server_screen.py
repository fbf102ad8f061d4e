"""What the supervisor's screens share: their figures are read from the server in a worker, and a
failure is said in the screen's heading; ctrl+r reads again, escape goes back."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from textual import on
from textual.message import Message
from textual.widgets import Static

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import instant
from cobro_tui.ui.screens.base import CobroScreen


class ServerScreen(CobroScreen):
    HEADING = ""  # the selector of the Static that says what failed

    class Fetched(Message):
        def __init__(self, data: Any, error: str | None = None) -> None:
            super().__init__()
            self.data = data
            self.error = error

    def fetch(self) -> Any:
        """Read the screen's figures (in a worker thread); UserFacingError says what went wrong."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        raise NotImplementedError

    def load(self) -> None:
        self.run_worker(self._fetch, thread=True, exclusive=True, group=type(self).__name__, exit_on_error=False)

    def _fetch(self) -> None:
        try:
            self.post_message(self.Fetched(self.fetch()))
        except UserFacingError as exc:
            self.post_message(self.Fetched(None, exc.message))

    @on(Fetched)
    def _fetched(self, message: Fetched) -> None:
        if message.error is not None:
            self.query_one(self.HEADING, Static).update(message.error)
        else:
            self.show(message.data)

    def local(self, when: datetime | None) -> str:
        """An instant from the server, on the floor's clock (ui.agent_zone); a dash for none."""
        if when is None:
            return "—"
        return instant(when.astimezone(ZoneInfo(self.app.settings.ui.agent_zone)))  # type: ignore[attr-defined]

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()
