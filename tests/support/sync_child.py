"""Child process for kill tests: one sync round of a cache against a server, then exit."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from cobro_tui.clock import FixedClock
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.sync_store import read_meta
from cobro_tui.sync.client import ApiClient
from cobro_tui.sync.engine import SyncEngine


def main() -> None:
    cache = CacheFile(Path(os.environ["CACHE_PATH"]), bytes.fromhex(os.environ["CACHE_KEY"])).open()
    meta = read_meta(cache)
    assert meta is not None and meta.server_url
    api = ApiClient(meta.server_url, os.environ["TOKEN"], meta.device_id, 30)
    # Each written page is announced, so the parent can kill this process between two pages.
    engine = SyncEngine(
        cache,
        api,
        FixedClock(datetime(2026, 11, 22, 16, 30, tzinfo=UTC)),
        progress=lambda written: print(f"page {written}", flush=True),
    )
    engine_pages = int(os.environ.get("PAGE_LIMIT", "0"))
    if engine_pages:
        import cobro_tui.sync.engine as sync_engine

        sync_engine.SNAPSHOT_LIMIT = engine_pages
    report = engine.run_round()
    print("done" if report.ok else f"error {report.error}", flush=True)


if __name__ == "__main__":
    main()
