"""What the supervisor's screens share: their figures are read from the server in a worker, and a
failure is said in the screen's heading; ctrl+r reads again, escape goes back, `c` writes the
screen's tables as CSV into `<data>/kpi/`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from textual import on, work
from textual.message import Message
from textual.widgets import Static

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import instant, t
from cobro_tui.services.approvals import Table, write_tables
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

    def tables(self) -> dict[str, Table]:
        """The screen's tables as `c` writes them (file name -> header and rows); none until loaded."""
        return {}

    def action_export(self) -> None:
        tables = self.tables()
        if tables:
            self._export(tables)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, tables: dict[str, Table]) -> None:
        folder = self.app.settings.resolved_data_dir() / "kpi"  # type: ignore[attr-defined]
        try:
            written = write_tables(folder, tables)
        except UserFacingError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error")
            return
        self.app.call_from_thread(
            self.notify,
            t("dashboard.exported", paths=", ".join(p.name for p in written), folder=str(folder)),
            timeout=8,
        )

    def action_next_team(self) -> None:
        """Another team on this screen (managers: each team, then all of them)."""
        if self.app.next_team():  # type: ignore[attr-defined]
            self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_team":
            return len(getattr(self.app, "teams", [])) > 1  # shown to those who review more than one team
        return True

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()
