"""Sync as the workstation uses it: one round at a time, and the outbox items the agent follows."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from cobro_tui.sync.engine import SyncEngine, SyncReport, backoff

__all__ = ["LocalItem", "SyncReport", "SyncService", "recent_items"]


@dataclass(frozen=True, slots=True)
class LocalItem:
    """One thing the agent recorded, as it stands with the server."""

    mutation_id: str
    name: str
    account_id: str | None
    state: str  # pending, inflight, applied, applied_with_warnings, rejected, deferred
    occurred_at: datetime
    reason: str | None


@dataclass
class SyncService:
    engine: SyncEngine
    interval_seconds: float
    failures: int = 0
    _one_at_a_time: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def round(self) -> SyncReport:
        """One round; rounds never overlap (a timer and a local write may ask at the same moment)."""
        with self._one_at_a_time:
            report = self.engine.run_round()
        self.failures = 0 if report.ok else self.failures + 1
        return report

    def next_delay(self, report: SyncReport) -> float:
        """When to try again: the interval after success, backoff with jitter (or Retry-After) after failure."""
        if report.ok:
            return self.interval_seconds
        if report.retry_after is not None:
            return report.retry_after
        return max(1.0, backoff(self.failures))


def recent_items(engine: Engine, limit: int = 8) -> list[LocalItem]:
    """The latest outbox items, newest first, with the server's reason when it refused one."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT mutation_id, name, account_id, state, occurred_at_client, verdict_json FROM outbox "
            "WHERE acknowledged_by_agent = 0 ORDER BY client_seq DESC LIMIT ?", (limit,)
        ).all()
    items = []
    for row in rows:
        verdict = json.loads(row[5]) if row[5] else {}
        reason = (verdict.get("reason") or {}).get("message") or "; ".join(w["message"] for w in verdict.get("warnings", [])) or None
        items.append(LocalItem(row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4]), reason))
    return items
