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
        # (what to show, a shorter form or None, how much it matters: 0 most) in the order shown.
        parts: list[tuple[str, str | None, int]] = [(link, None, 0)]
        if status.last_sync_at is not None:
            synced = instant(status.last_sync_at.astimezone(self.agent_zone))[-5:]
            parts.append((t("status.last_sync", time=synced), None, 5))
        parts.append((t("status.pending", count=status.pending), None, 2))
        if status.oldest_pending_at is not None:
            minutes = int((status.now - status.oldest_pending_at).total_seconds() // 60)
            parts.append((t("status.oldest", age=f"{minutes} min"), None, 4))
        agent_now = instant(status.now.astimezone(self.agent_zone))
        parts.append((t("status.agent_time", time=agent_now), t("status.agent_time", time=agent_now[-5:]), 1))
        if self.debtor_zone is not None:
            parts.append((t("status.debtor_time", time=instant(status.now.astimezone(self.debtor_zone))[-5:]), None, 3))
        self.set_class(status.pending > 0, "-pending")
        self.set_class(status.mode != "demo" and not status.online, "-offline")
        self.update(fitted(parts, self.size.width - 2), layout=False)  # one line: no layout pass for the screen

    def on_resize(self) -> None:
        self.watch_status(self.status)


def fitted(parts: list[tuple[str, str | None, int]], width: int) -> str:
    """The parts on one line of `width`: spaced out when they fit, then closer, then in their short
    forms without the ones that matter least; a part is never cut in the middle."""
    for separator in ("  ·  ", " · "):
        line = separator.join(text for text, _, _ in parts)
        if width <= 0 or len(line) <= width:
            return line
    shown = [(short or text, rank) for text, short, rank in parts]
    while len(shown) > 1 and len(" · ".join(text for text, _ in shown)) > width:
        del shown[max(range(len(shown)), key=lambda i: shown[i][1])]
    return " · ".join(text for text, _ in shown)
