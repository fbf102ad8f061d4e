"""The one place that builds the engine, the credential store and the services, then the app."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from cobro_tui.clock import Clock, clock_for
from cobro_tui.credentials import KeyringKeyStore, KeyStore, MemoryKeyStore, MissingCacheKey
from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import set_language, t
from cobro_tui.policy import Policy, load_policy
from cobro_tui.services.contacts import ContactService
from cobro_tui.services.queue import QueueService
from cobro_tui.services.status import StatusService
from cobro_tui.services.workstation import Workstation
from cobro_tui.settings import Settings
from cobro_tui.store.device import ensure_device, read_device
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade

if TYPE_CHECKING:
    from cobro_tui.demo.portfolio import PortfolioSpec
    from cobro_tui.store.portfolio import LoadReport
    from cobro_tui.ui.app import CobroApp

CACHE_NAME = "cache.db"


class NoCache(UserFacingError):
    """No cache to open yet."""


def cache_path(settings: Settings) -> Path:
    return settings.resolved_data_dir() / CACHE_NAME


def open_cache(path: Path, keys: KeyStore, *, create: bool, migrate: bool = True) -> Engine:
    """Open (and migrate) the cache at `path` with its key, creating both when `create`."""
    exists = path.exists()
    if not exists and not create:
        raise NoCache(t("cli.no_cache", path=path))
    key = keys.cache_key(path, create=not exists)
    if key is None:
        raise MissingCacheKey(
            f"The cache {path} exists but its key is not in the keyring (another user or machine, or the "
            "keyring was reset). Nothing was changed. Move the file aside and sync again to rebuild it; keep "
            "the moved file until its pending items are confirmed on the server."
        )
    engine = CacheFile(path, key).open()
    if migrate:
        upgrade(engine)
    return engine


def build_workstation(engine: Engine, settings: Settings, clock: Clock, policy: Policy, agent: str, mode: str) -> Workstation:
    device = ensure_device(engine, agent)
    return Workstation(
        agent=agent,
        clock=clock,
        policy=policy,
        queue=QueueService(engine, agent, settings.ui.page_size),
        contacts=ContactService(engine, clock, policy, device),
        status=StatusService(engine, clock, mode),
    )


def build_app(settings: Settings, clock: Clock, workstation: Workstation) -> CobroApp:
    """The Textual app on the given services (tests call this with their own parts)."""
    set_language(settings.lang)
    from cobro_tui.ui.app import CobroApp

    return CobroApp(settings=settings, workstation=workstation)


def generate_demo_cache(
    path: Path,
    keys: KeyStore,
    spec: PortfolioSpec,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Engine, LoadReport]:
    """A fresh cache at `path` filled with the generated portfolio of `spec`."""
    from cobro_tui.store.portfolio import load_generated

    engine = open_cache(path, keys, create=True)
    key = keys.cache_key(path, create=False)
    assert key is not None
    report = load_generated(CacheFile(path, key), spec, workers=workers, progress=progress)
    return engine, report


def _print_progress(done: int, total: int) -> None:
    # One line that rewrites itself; only when a person watches a terminal.
    if sys.stdout.isatty():
        print(f"\r  {done:,} / {total:,}", end="" if done < total else "\n", flush=True)


def run_demo(settings: Settings, accounts: int, seed: int, say: Callable[[str], None] = print) -> int:
    """Generate a demo portfolio into a private, temporary cache and open the workstation on it.

    The cache key lives only in this process, so no desktop keyring is needed, and the cache is
    removed on exit.
    """
    from cobro_tui.demo.portfolio import PortfolioSpec

    set_language(settings.lang)
    clock = clock_for(settings.now)
    policy = load_policy()
    agent = settings.demo.agent
    with tempfile.TemporaryDirectory(prefix="cobro-demo-") as folder:
        say(t("cli.demo_generating", accounts=accounts, seed=seed))
        started = time.perf_counter()
        spec = PortfolioSpec(accounts, seed, clock.now(), policy.buckets, agents=(agent,))
        engine, report = generate_demo_cache(Path(folder) / CACHE_NAME, MemoryKeyStore(), spec, progress=_print_progress)
        say(t("cli.demo_loaded", seconds=time.perf_counter() - started, customers=report.customers, accounts=report.accounts))
        try:
            app = build_app(settings, clock, build_workstation(engine, settings, clock, policy, agent, "demo"))
            app.run()
        finally:
            engine.dispose()
    return 0


def run_workstation(settings: Settings) -> int:
    """The workstation on this user's cache (the server connection comes with sync)."""
    clock = clock_for(settings.now)
    policy = load_policy()
    set_language(settings.lang)
    engine = open_cache(cache_path(settings), KeyringKeyStore(), create=False)
    try:
        with engine.connect() as conn:
            device = read_device(conn)
        if device is None:
            raise NoCache(t("cli.no_cache", path=cache_path(settings)))
        app = build_app(settings, clock, build_workstation(engine, settings, clock, policy, device.agent_id, "live"))
        app.run()
    finally:
        engine.dispose()
    return 0
