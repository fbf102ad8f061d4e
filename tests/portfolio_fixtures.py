"""Small generated portfolios for tests, in real encrypted caches."""

from __future__ import annotations

from conftest import NOW

from cobro_tui.demo.portfolio import PortfolioSpec
from cobro_tui.policy import Policy
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.portfolio import LoadReport, load_generated


def fill(
    cache: CacheFile,
    policy: Policy,
    accounts: int = 120,
    seed: int = 7,
    agents: tuple[str, ...] = ("agente01",),
    workers: int = 1,
) -> LoadReport:
    return load_generated(cache, PortfolioSpec(accounts, seed, NOW, policy.buckets, agents), workers=workers)
