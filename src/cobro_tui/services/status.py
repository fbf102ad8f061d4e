"""What the status bar shows: connection, pending items and the age of the oldest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from cobro_tui.clock import Clock
from cobro_tui.store.sync_store import last_sync, pending_summary

# Why sync is failing, in one word each (sync.client.SyncError.reason): the status bar says it in words.
SYNC_REASONS = (
    "unreachable",
    "busy",
    "session",
    "certificate",
    "version",
    "disk_full",
    "damaged",
    "refused",
    "reset",
    "error",
)


@dataclass(slots=True)
class SyncHealth:
    """How the last round of this run went, kept in memory: a full disk cannot be written down."""

    reason: str | None = None  # None: the last round went through (or none ran yet)


@dataclass(frozen=True, slots=True)
class WorkstationStatus:
    now: datetime
    mode: str  # "demo" (local only) or "live"
    online: bool
    pending: int
    oldest_pending_at: datetime | None
    last_sync_at: datetime | None = None
    last_error: str | None = None
    failure: str | None = None  # why the last round failed (SYNC_REASONS), when it did


@dataclass(frozen=True, slots=True)
class StatusService:
    engine: Engine
    clock: Clock
    mode: str
    health: SyncHealth = field(default_factory=SyncHealth)

    def snapshot(self) -> WorkstationStatus:
        count, oldest = pending_summary(self.engine)
        synced = last_sync(self.engine)
        return WorkstationStatus(
            now=self.clock.now(),
            mode=self.mode,
            online=synced.at is not None and synced.error is None and self.health.reason is None,
            pending=count,
            oldest_pending_at=datetime.fromisoformat(oldest) if oldest else None,
            last_sync_at=synced.at,
            last_error=synced.error,
            failure=self.health.reason or ("error" if synced.error is not None else None),
        )
