"""`cobro-tui doctor`: what a help desk asks first, one line each with OK, WARN or FAIL.

The credential store (keyring or sealed vault, and whether it holds the cache key), the cache's
integrity (`PRAGMA quick_check`; a damaged cache has its unsent items saved first), the server and
its version (/v1/health), this machine's clock against the server's (its Date header), the tz
database, free disk in the data folder, and the items waiting to be sent with the age of the
oldest. Exit code 0 when all is OK, 1 with a warning, 2 with a failure; `--json` for scripts.
Nothing personal is printed: paths, the server's address, counts and ages only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from cobro_tui.settings import Settings

NAME = "doctor"
OK, WARN, FAIL = "ok", "warn", "fail"
EXIT = {OK: 0, WARN: 1, FAIL: 2}

CLOCK_WARN_S = 30  # more than this off the server's clock is worth fixing
CLOCK_FAIL_S = 300  # the calling windows are judged by this machine's clock: five minutes is too much
DISK_WARN = 1 << 30  # 1 GiB
DISK_FAIL = 100 << 20  # 100 MiB: a first snapshot of 10,000 accounts needs about 42 MB
PENDING_WARN = timedelta(hours=1)
PENDING_FAIL = timedelta(hours=24)


@dataclass
class Check:
    check: str
    status: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    about = (
        "what a help desk asks first, one line each: credential store, cache integrity, server and its "
        "version, clock skew, tz database, free disk, items waiting to be sent"
    )
    parser = sub.add_parser(
        NAME,
        help=about,
        description=about + ".",
        epilog="Exit code: 0 every check OK, 1 at least one warning (WARN), 2 at least one failure (FAIL). "
        "A damaged cache has its unsent items saved to a file for `cobro-tui replay` before it is reported.",
    )
    parser.add_argument(
        "--json", action="store_true", help="the checks as JSON, for scripts (status: ok, warn or fail)"
    )


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count:,.1f} TB"


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172_800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86_400} d"


class _Run:
    """The checks in order; each one's outcome may feed the next (the cache's engine, the server's time)."""

    def __init__(self, settings: Settings) -> None:
        from cobro_tui.bootstrap import cache_path

        self.settings = settings
        self.path = cache_path(settings)
        self.store: Any = None
        self.engine: Engine | None = None
        self.server_url: str | None = None
        self.skew: float | None = None  # seconds the server's clock is ahead of this machine's
        self.server_error: str | None = None
        self.checks: list[Check] = []

    def add(self, check: str, status: str, key: str, **values: Any) -> None:
        from cobro_tui.i18n import t

        self.checks.append(Check(check, status, t(f"doctor.{key}", **values), {k: str(v) for k, v in values.items()}))

    def credentials(self) -> None:
        from cobro_tui.bootstrap import secret_store
        from cobro_tui.credentials import _backend_name, secure_backend, vault_path
        from cobro_tui.errors import UserFacingError

        try:
            self.store = secret_store(self.settings)
            self.store.check()
            key = self.store.cache_key(self.path, create=False) if self.path.exists() else b"-"
        except UserFacingError as exc:
            self.store = None
            self.add("credentials", FAIL, "store_failed", error=exc.message)
            return
        if self.store.kind == "vault":
            where = vault_path(self.settings.resolved_data_dir())
            if key is None:
                self.add("credentials", FAIL, "vault_no_key", path=where, path_cache=self.path)
            else:
                self.add("credentials", OK, "vault_ok", path=where)
            return
        backend = _backend_name(secure_backend(self.settings.credentials.trusted_keyrings))
        if key is None:
            self.add("credentials", FAIL, "keyring_no_key", backend=backend, path=self.path)
        else:
            self.add("credentials", OK, "keyring_ok", backend=backend)

    def cache(self) -> None:
        from cobro_tui.bootstrap import check_cache, open_cache
        from cobro_tui.errors import UserFacingError
        from cobro_tui.store.integrity import CacheDamaged, emptied
        from cobro_tui.store.sync_store import read_meta

        if not self.path.exists():
            self.add("cache", WARN, "no_cache", path=self.path)
            return
        if self.store is None:
            self.add("cache", FAIL, "cache_unopened", error=self.checks[-1].message)
            return
        try:
            if emptied(self.path):
                open_cache(self.path, self.store, create=False, migrate=False)  # raises, after the rescue
            self.engine = open_cache(self.path, self.store, create=False, migrate=False)
            seconds = check_cache(self.engine)
        except CacheDamaged as exc:
            self.checks.append(
                Check("cache", FAIL, exc.message, {"saved": str(exc.saved), "file": str(exc.saved_to or "")})
            )
            self._dispose()
            return
        except UserFacingError as exc:
            self.add("cache", FAIL, "cache_unopened", error=exc.message)
            self._dispose()
            return
        self.add("cache", OK, "cache_ok", size=_size(self.path.stat().st_size), ms=round(seconds * 1000))
        meta = read_meta(self.engine)
        self.server_url = meta.server_url if meta is not None else None

    def _dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def server(self) -> None:
        from cobro_tui import __version__
        from cobro_tui.bootstrap import transport_security
        from cobro_tui.clock import SystemClock
        from cobro_tui.store.integrity import device_record
        from cobro_tui.sync.client import ApiClient, SyncError

        url = self.server_url or (device_record(self.path) or {}).get("server_url") or self.settings.server_url
        if not url:
            self.add("server", WARN, "not_signed_in")
            return
        self.server_url = url
        try:
            api = ApiClient(
                url, timeout=min(self.settings.sync.timeout_seconds, 10), security=transport_security(self.settings)
            )
        except SyncError as exc:
            self.server_error = exc.message
            self.add("server", FAIL, "server_down", url=url, error=exc.message)
            return
        clock = SystemClock()  # the machine's own clock: what is skewed is the machine, not COBRO_NOW
        try:
            before = clock.now()
            started = time.perf_counter()
            body, date = api.health()
            elapsed = time.perf_counter() - started
        except SyncError as exc:
            self.server_error = exc.message
            self.add("server", FAIL, "server_down", url=url, error=exc.message)
            return
        finally:
            api.close()
        if date:
            try:
                # The Date header is cut to the second: its middle is half a second later.
                server = parsedate_to_datetime(date) + timedelta(seconds=0.5)
                self.skew = (server - (before + timedelta(seconds=elapsed / 2))).total_seconds()
            except (TypeError, ValueError):
                self.skew = None
        version = str(body.get("version", "?"))[:40] if isinstance(body, dict) else "?"
        self.add("server", OK, "server_ok", url=url, version=version, mine=__version__)

    def clock(self) -> None:
        from cobro_tui.i18n import t

        if self.server_error is not None:
            self.add("clock", WARN, "clock_not_asked")
            return
        if self.skew is None:
            if self.server_url:
                self.add("clock", WARN, "clock_unknown")
            else:
                self.add("clock", WARN, "not_signed_in")
            return
        off = abs(self.skew)
        # Positive skew: the server's clock is later, so this machine is behind.
        direction = t("doctor.clock_behind") if self.skew > 0 else t("doctor.clock_ahead")
        if off < CLOCK_WARN_S:
            self.add("clock", OK, "clock_ok", seconds=round(off))
        else:
            self.add(
                "clock", FAIL if off >= CLOCK_FAIL_S else WARN, "clock_off", seconds=round(off), direction=direction
            )
        self.checks[-1].data["skew_seconds"] = str(round(self.skew, 1))

    def tzdata(self) -> None:
        from cobro_tui.policy import tz_database_version

        version = tz_database_version()
        if version == "unknown":
            self.add("tzdata", WARN, "tzdata_unknown")
        else:
            self.add("tzdata", OK, "tzdata_ok", version=version)

    def disk(self) -> None:
        folder = self.settings.resolved_data_dir()
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        free = shutil.disk_usage(probe).free
        status = FAIL if free < DISK_FAIL else WARN if free < DISK_WARN else OK
        key = {OK: "disk_ok", WARN: "disk_low", FAIL: "disk_very_low"}[status]
        self.add("disk", status, key, free=_size(free), dir=folder)
        self.checks[-1].data["free_bytes"] = str(free)

    def pending(self) -> None:
        from cobro_tui.clock import clock_for
        from cobro_tui.store.sync_store import pending_summary

        if self.engine is None:
            if self.path.exists():
                self.add("pending", FAIL, "pending_unread")
            else:
                self.add("pending", OK, "pending_none")
            return
        count, oldest = pending_summary(self.engine)
        if not count or oldest is None:
            self.add("pending", OK, "pending_none")
            self.checks[-1].data["count"] = "0"
            return
        age = clock_for(self.settings.now).now() - datetime.fromisoformat(oldest)
        status = FAIL if age >= PENDING_FAIL else WARN if age >= PENDING_WARN else OK
        self.add("pending", status, "pending_ok" if status == OK else "pending_old", count=count, age=_age(age))
        self.checks[-1].data["oldest_age_seconds"] = str(max(0, int(age.total_seconds())))


def diagnose(settings: Settings) -> list[Check]:
    """Every check, in the order a help desk reads them."""
    run = _Run(settings)
    try:
        run.credentials()
        run.cache()
        run.server()
        run.clock()
        run.tzdata()
        run.disk()
        run.pending()
    finally:
        run._dispose()
    return run.checks


def result_of(checks: list[Check]) -> str:
    statuses = {c.status for c in checks}
    return FAIL if FAIL in statuses else WARN if WARN in statuses else OK


def run(args: argparse.Namespace) -> int:
    from cobro_tui.domain.text import shown
    from cobro_tui.i18n import set_language, t
    from cobro_tui.settings import load_settings

    settings = load_settings()
    set_language(settings.lang)
    checks = diagnose(settings)
    result = result_of(checks)
    if args.json:
        out = {"result": result, "exit_code": EXIT[result], "checks": [asdict(c) for c in checks]}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return EXIT[result]
    labels = {c.check: t(f"doctor.label_{c.check}") for c in checks}
    width = max(len(label) for label in labels.values())
    for found in checks:
        word = t(f"doctor.{found.status}")
        print(shown(f"{word:<6} {labels[found.check]:<{width}}  {found.message}"))
    print(t("doctor.result", status=t(f"doctor.{result}")), file=sys.stdout)
    return EXIT[result]
