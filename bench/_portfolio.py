"""A generated one-agent portfolio in an encrypted cache, for the workstation benchmarks."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from cobro_tui.demo.portfolio import PortfolioSpec
from cobro_tui.policy import Policy
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.store.portfolio import load_generated

NOW = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # 10:30 in Mexico City


def agent_cache(folder: str | Path, accounts: int, policy: Policy, seed: int = 7) -> tuple[Path, bytes, Engine]:
    """The cache file, its key and an open engine, holding `accounts` accounts of agente01 (not timed)."""
    path, key = Path(folder) / "cache.db", secrets.token_bytes(32)
    cache = CacheFile(path, key)
    engine = cache.open()
    upgrade(engine)
    load_generated(cache, PortfolioSpec(accounts, seed, NOW, policy.buckets, agents=("agente01",)))
    return path, key, engine
