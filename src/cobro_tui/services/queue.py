"""The agent's work queue, page by page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from cobro_tui.domain.queue import QueueKey, QueuePage
from cobro_tui.store.queue import queue_page


@dataclass(frozen=True, slots=True)
class QueueService:
    engine: Engine
    agent: str
    page_size: int = 200

    def page(self, after: QueueKey | None = None, limit: int | None = None) -> QueuePage:
        """The next page of the queue after `after`, from the top when None."""
        return queue_page(self.engine, self.agent, after, limit or self.page_size)
