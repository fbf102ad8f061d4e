"""Sync as the workstation uses it: one round at a time, and the outbox items the agent follows."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from cobro_tui.services.status import SyncHealth
from cobro_tui.store.outbox import NEEDS_ATTENTION, item_rows
from cobro_tui.sync.report import SyncReport, backoff

if TYPE_CHECKING:
    from cobro_tui.sync.engine import SyncEngine

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

    @property
    def needs_attention(self) -> bool:
        return self.state in NEEDS_ATTENTION


@dataclass
class SyncService:
    engine: SyncEngine
    interval_seconds: float
    failures: int = 0
    health: SyncHealth = field(default_factory=SyncHealth)  # the status bar's (StatusService.health)
    _one_at_a_time: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def transport_warning(self) -> str | None:
        """What to tell the person at every start about the connection (plain http allowed by a setting)."""
        return self.engine.api.insecure_warning

    def round(self) -> SyncReport:
        """One round; rounds never overlap (a timer and a local write may ask at the same moment)."""
        with self._one_at_a_time:
            report = self.engine.run_round()
        self.failures = 0 if report.ok else self.failures + 1
        self.health.reason = None if report.ok else (report.reason or "error")
        return report

    def next_delay(self, report: SyncReport) -> float:
        """When to try again: the interval after success, backoff with jitter (or Retry-After) after failure."""
        if report.ok:
            return self.interval_seconds
        if report.retry_after is not None:
            return report.retry_after
        return max(1.0, backoff(self.failures))


def recent_items(engine: Engine, limit: int = 8) -> list[LocalItem]:
    """What the agent follows: refusals and warnings until acknowledged, then the latest other
    items, newest first, with the server's reason when it gave one."""
    items = []
    for mutation_id, name, account_id, state, occurred_at, verdict_json in item_rows(engine, limit):
        verdict = json.loads(verdict_json) if verdict_json else {}
        reason = (
            (verdict.get("reason") or {}).get("message")
            or "; ".join(w["message"] for w in verdict.get("warnings", []))
            or None
        )
        items.append(LocalItem(mutation_id, name, account_id, state, datetime.fromisoformat(occurred_at), reason))
    return items
