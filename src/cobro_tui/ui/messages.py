"""App-wide messages the screens listen to."""

from __future__ import annotations

from textual.message import Message

from cobro_tui.services.sync import SyncReport


class SyncFinished(Message):
    """A sync round ended (well or not); screens refresh what it may have changed."""

    def __init__(self, report: SyncReport) -> None:
        super().__init__()
        self.report = report

    @property
    def moved(self) -> bool:
        """Whether the round brought or sent anything (most rounds, every few seconds, do not)."""
        r = self.report
        return bool(r.pushed or r.pulled or r.snapshot_entities or r.revoked)


class OpenAccount(Message):
    """Open an account's screen (posted to the app, which owns the screen stack)."""

    def __init__(self, account_id: str) -> None:
        super().__init__()
        self.account_id = account_id


class NextAccountWanted(Message):
    """Open the next best account; `skip` leaves out the ones just seen."""

    def __init__(self, skip: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.skip = skip
