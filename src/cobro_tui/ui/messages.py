"""App-wide messages the screens listen to."""

from __future__ import annotations

from textual.message import Message

from cobro_tui.services.sync import SyncReport


class SyncFinished(Message):
    """A sync round ended (well or not); screens refresh what it may have changed."""

    def __init__(self, report: SyncReport) -> None:
        super().__init__()
        self.report = report
