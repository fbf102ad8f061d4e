"""The status line every screen shows: where the workstation stands with the server and its queue."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from textual.reactive import reactive
from textual.widgets import Static

from cobro_tui.i18n import instant, t
from cobro_tui.services.status import SYNC_REASONS, WorkstationStatus


class StatusBar(Static):
    """Connection state, pending items and the age of the oldest; fed by its parent."""

    status: reactive[WorkstationStatus | None] = reactive(None)
    # The zone of the debtor on screen, when there is one: their time is shown beside the agent's.
    debtor_zone: reactive[ZoneInfo | None] = reactive(None)

    def __init__(self, agent_zone: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.agent_zone = ZoneInfo(agent_zone)

    def watch_debtor_zone(self) -> None:
        self.watch_status(self.status)

    def watch_status(self, status: WorkstationStatus | None) -> None:
        if status is None:
            self.update("", layout=False)
            return
        if status.mode == "demo":
            link = t("status.demo")
        elif status.online:
            link = t("status.online")
        else:
            # Why, in words, and what to do: the session, the server, the version, the disk.
            link = t(f"status.why_{status.failure}") if status.failure in SYNC_REASONS else t("status.offline")
        parts = [link]
        if status.last_sync_at is not None:
            parts.append(t("status.last_sync", time=instant(status.last_sync_at.astimezone(self.agent_zone))[-5:]))
        parts.append(t("status.pending", count=status.pending))
        if status.oldest_pending_at is not None:
            minutes = int((status.now - status.oldest_pending_at).total_seconds() // 60)
            parts.append(t("status.oldest", age=f"{minutes} min"))
        parts.append(t("status.agent_time", time=instant(status.now.astimezone(self.agent_zone))))
        if self.debtor_zone is not None:
            parts.append(t("status.debtor_time", time=instant(status.now.astimezone(self.debtor_zone))[-5:]))
        self.set_class(status.pending > 0, "-pending")
        self.set_class(status.mode != "demo" and not status.online, "-offline")
        self.update("  ·  ".join(parts), layout=False)  # one line: no layout pass for the screen
