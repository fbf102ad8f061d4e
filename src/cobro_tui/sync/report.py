"""What a sync round reports, and how long to wait after failures: light enough to import at start
(the engine, with its HTTP client and wire models, loads only when the workstation syncs)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["SyncReport", "backoff"]


@dataclass
class SyncReport:
    pushed: int = 0
    applied: int = 0
    warned: int = 0
    rejected: int = 0
    held: int = 0
    decided: int = 0  # held items a supervisor decided since the last round
    pulled: int = 0
    snapshot_entities: int = 0
    revoked: int = 0
    error: str | None = None
    reason: str | None = None  # the kind of failure, in one word (SyncError.reason, or "disk_full")
    auth_failed: bool = False  # the server refused the token: the person must sign in again
    retry_after: float | None = None
    finished_at: datetime | None = None
    notes: list[str] = field(default_factory=list)
    # What change pages touched, for whatever the workstation derives from it (the queue scores).
    touched_accounts: set[str] = field(default_factory=set)
    touched_customers: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.error is None


def backoff(failures: int, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: a random wait in [0, min(cap, base * 2^failures)]."""
    return (rng or random).uniform(0, min(cap, base * 2 ** max(0, failures)))
