"""What the status bar shows: connection, pending items and the age of the oldest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from cobro_tui.clock import Clock
from cobro_tui.store.sync_store import last_sync, pending_summary


@dataclass(frozen=True, slots=True)
class WorkstationStatus:
    now: datetime
    mode: str  # "demo" (local only) or "live"
    online: bool
    pending: int
    oldest_pending_at: datetime | None
    last_sync_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class StatusService:
    engine: Engine
    clock: Clock
    mode: str

    def snapshot(self) -> WorkstationStatus:
        count, oldest = pending_summary(self.engine)
        synced = last_sync(self.engine)
        return WorkstationStatus(
            now=self.clock.now(),
            mode=self.mode,
            online=synced.at is not None and synced.error is None,
            pending=count,
            oldest_pending_at=datetime.fromisoformat(oldest) if oldest else None,
            last_sync_at=synced.at,
            last_error=synced.error,
        )
