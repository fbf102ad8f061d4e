"""A benchmark workstation: an encrypted cache, a device and a sync engine against `url`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine

from cobro_tui.clock import Clock, FixedClock
from cobro_tui.domain.models import Channel
from cobro_tui.policy import load_policy
from cobro_tui.services.contacts import ContactService
from cobro_tui.store.device import ensure_device
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.sync.client import ApiClient
from cobro_tui.sync.engine import SyncEngine

CLOCK = FixedClock(datetime(2026, 11, 22, 16, 30, tzinfo=UTC))


@dataclass
class BenchStation:
    agent: str
    cache: Engine
    sync: SyncEngine
    contacts: ContactService
    clock: Clock
    accounts: list[tuple[str, str]]

    def log_contacts(self, count: int) -> None:
        for n in range(count):
            account_id, customer_id = self.accounts[n % len(self.accounts)]
            self.contacts.log(
                account_id=account_id,
                customer_id=customer_id,
                channel=Channel.VOICE,
                result_code="NC",
                started_at=self.clock.now() - timedelta(minutes=1),
            )


def bench_station(
    folder: Path,
    name: str,
    url: str,
    agent: str,
    hooks: dict[str, list] | None = None,  # type: ignore[type-arg]
    first_round: bool = True,
    accounts: int = 500,
) -> BenchStation:
    """A workstation signed in as `agent`; synced once unless `first_round` is False."""
    cache = CacheFile(folder / f"{name}.db", secrets.token_bytes(32)).open()
    upgrade(cache)
    device = ensure_device(cache, agent)
    token = ApiClient(url).login(agent, "demo")["token"]
    api = ApiClient(url, token, device.device_id, 60)
    if hooks:
        api.http.event_hooks = hooks
    sync = SyncEngine(cache, api, CLOCK)
    if first_round and not (report := sync.run_round()).ok:
        raise SystemExit(report.error)
    with cache.connect() as conn:
        held = [
            tuple(r)
            for r in conn.exec_driver_sql("SELECT id, customer_id FROM account ORDER BY id LIMIT ?", (accounts,))
        ]
    return BenchStation(agent, cache, sync, ContactService(cache, CLOCK, load_policy(), device), CLOCK, held)  # type: ignore[arg-type]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


__all__ = ["BenchStation", "bench_station", "httpx", "percentile"]
