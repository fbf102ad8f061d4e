"""Pushing again the unsent items saved from a damaged cache (`cobro-tui replay FILE`).

Each item goes as its own device would have sent it: the same device, the same mutation id (the
server's idempotency key) and the same client_seq, through the normal push. An item the server has
already received gets its stored verdict back and nothing is applied twice, however often the file
is replayed. Where the file has a hole in the numbering (an item on a damaged page), the device
continues in a new epoch after it, as a cache restored from a copy does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cobro_tui.clock import Clock
from cobro_tui.store.rescue import UnsentItem
from cobro_tui.store.types import instant_text
from cobro_tui.sync.client import ApiClient, Refused, RetryLater, SyncError
from cobro_tui.sync.engine import PUSH_BATCH, SCHEMA_VERSION

MAX_PAUSES = 10  # the server asked to wait (busy) this many times in a row: give up, replay again later


@dataclass
class ReplayReport:
    sent: int = 0
    applied: int = 0
    warned: int = 0
    rejected: int = 0
    held: int = 0
    replayed: int = 0  # already received before: the stored verdict came back, nothing applied again
    refusals: list[tuple[str, str, str]] = field(default_factory=list)  # (name, mutation id, reason)

    def count(self, verdict: dict[str, Any], item: UnsentItem) -> None:
        self.sent += 1
        if verdict.get("replayed"):
            self.replayed += 1
            return
        status = verdict.get("status")
        self.applied += status == "applied"
        self.warned += status == "applied_with_warnings"
        self.held += status == "deferred"
        if status == "rejected":
            self.rejected += 1
            reason = verdict.get("reason") or {}
            text = (reason.get("message") or reason.get("code") or "") if isinstance(reason, dict) else str(reason)
            self.refusals.append((item.name, item.mutation_id, str(text)[:200]))


def replay(api: ApiClient, items: list[UnsentItem], key: bytes, clock: Clock) -> ReplayReport:
    """Push every item of `items` (opened with `key`), device by device in client_seq order."""
    report = ReplayReport()
    devices: dict[tuple[str, int], list[UnsentItem]] = {}
    for item in sorted(items, key=lambda i: (i.device_id, i.device_epoch, i.client_seq)):
        devices.setdefault((item.device_id, item.device_epoch), []).append(item)
    for (device_id, epoch), waiting in devices.items():
        _replay_device(api, device_id, epoch, waiting, key, clock, report)
    return report


def _replay_device(
    api: ApiClient,
    device_id: str,
    epoch: int,
    waiting: list[UnsentItem],
    key: bytes,
    clock: Clock,
    report: ReplayReport,
) -> None:
    api.register(device_id, epoch, SCHEMA_VERSION, waiting[0].client_seq - 1)
    pauses = 0
    epochs_left = len(waiting) + 1  # at most one new epoch per hole in the numbering
    while waiting:
        batch = waiting[:PUSH_BATCH]
        body = {
            "device_id": device_id,
            "device_epoch": epoch,
            "client_time": instant_text(clock.now()),
            "mutations": [
                {
                    "mutation_id": item.mutation_id,
                    "client_seq": item.client_seq,
                    "name": item.name,
                    "args": item.args(key),
                    "occurred_at_client": item.occurred_at_client,
                    "observed_cursor": item.observed_cursor,
                    "base_version": item.base_version,
                }
                for item in batch
            ],
        }
        try:
            answer = api.push(body)
        except Refused as refused:
            if refused.code not in ("SEQ_GAP", "SEQ_REGRESSION") or epochs_left <= 0:
                raise
            waiting = _answered(waiting, refused.details.get("results") or [], report)
            if waiting:
                # The numbering has a hole here (or was used again): continue after it in a new epoch.
                epoch, epochs_left = epoch + 1, epochs_left - 1
                api.register(device_id, epoch, SCHEMA_VERSION, waiting[0].client_seq - 1)
            continue
        results = answer.get("results") or []
        if not results and not answer.get("halted"):
            raise SyncError("the server answered none of the items")
        waiting = _answered(waiting, results, report)
        if answer.get("halted"):
            pauses += 1
            if pauses > MAX_PAUSES:
                raise RetryLater("the server stayed busy", float(answer["halted"].get("retry_after_s", 2)))
            time.sleep(min(5.0, float(answer["halted"].get("retry_after_s", 2))))
        else:
            pauses = 0


def _answered(waiting: list[UnsentItem], results: list[dict[str, Any]], report: ReplayReport) -> list[UnsentItem]:
    by_id = {r.get("mutation_id"): r for r in results if isinstance(r, dict)}
    left = []
    for item in waiting:
        verdict = by_id.get(item.mutation_id)
        if verdict is None:
            left.append(item)
        else:
            report.count(verdict, item)
    return left
