"""Whether the cache can still be trusted, and what to do when it cannot.

SQLite says a database is damaged (SQLITE_CORRUPT, SQLITE_NOTADB) or full (SQLITE_FULL) by error
code; an engine from `store.engine` turns those into `CacheDamaged` and `DiskFull`, which say what
to do in the person's words. A damaged cache is checked with `PRAGMA quick_check` (about 0.13 s on
10,000 accounts), its unsent outbox items are read from a copy, as many as can still be read, and
written to a file `cobro-tui replay` pushes again (see `store.rescue`).

A cache truncated to 0 bytes would open as a new, empty and intact one: the file `cache.db.device`
beside it, written when the device was tied to a server, says a cache with a sync record was there.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import t

SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_NOTADB = 26
DEVICE_SUFFIX = ".device"  # cache.db.device: this cache had a device signed in to a server
UNSENT = ("pending", "inflight")
EXIT_DAMAGED = 65  # sysexits EX_DATAERR: the cache is damaged (its unsent items were saved first)
EXIT_DISK_FULL = 74  # sysexits EX_IOERR: nothing could be written


class DiskFull(UserFacingError):
    """The cache (or a file beside it) could not grow: nothing of the action was saved."""

    exit_code = EXIT_DISK_FULL

    def __init__(self, folder: Path) -> None:
        super().__init__(t("doctor.disk_full", dir=folder))
        self.folder = folder


class CacheDamaged(UserFacingError):
    """The cache is damaged; its unsent items were written to `saved_to` first (when any could be read)."""

    exit_code = EXIT_DAMAGED

    def __init__(self, message: str, path: Path, saved: int, saved_to: Path | None, reason: str) -> None:
        super().__init__(message)
        self.path, self.saved, self.saved_to, self.reason = path, saved, saved_to, reason


def sqlite_code(exc: BaseException) -> int | None:
    """The primary SQLite result code under `exc` (a SQLAlchemy error wraps the driver's), if any."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        code = getattr(seen, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code & 0xFF
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def no_room(folder: Path) -> bool:
    """Less than a megabyte free where `folder` is."""
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def is_disk_full(exc: BaseException, folder: Path | None = None) -> bool:
    """`exc` says the disk is full: SQLITE_FULL, ENOSPC, or (on a real disk with no room, where
    SQLite cannot even make its shared-memory file) a disk I/O error where `folder` has no room."""
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    code = sqlite_code(exc)
    if code == SQLITE_FULL or "database or disk is full" in str(exc):
        return True
    return code == SQLITE_IOERR and folder is not None and no_room(folder)


def is_damage(exc: BaseException) -> bool:
    return sqlite_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB)


# -- the device record beside the cache ---------------------------------------------------------


def device_record_path(cache: Path) -> Path:
    return cache.with_name(cache.name + DEVICE_SUFFIX)


def note_device(cache: Path, device_id: str, agent: str, server_url: str | None, role: str = "agent") -> None:
    """Remember, beside the cache, that it holds this device's sync record (no personal data: the
    device, the staff user, their role and the server). `cobro-tui sync` rebuilds a cache moved
    aside from it."""
    from cobro_tui.files import write_private_bytes

    record = {"device_id": device_id, "agent": agent, "server_url": server_url, "role": role}
    path = device_record_path(cache)
    with suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")) == record:
            return
    with suppress(OSError):  # a full disk: the record is written at the next start
        write_private_bytes(path, json.dumps(record).encode())


def device_record(cache: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(device_record_path(cache).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and isinstance(found.get("device_id"), str) else None


def emptied(cache: Path) -> bool:
    """A cache of 0 bytes where one with a sync record was: it would open as a new, empty one."""
    try:
        return cache.stat().st_size == 0 and device_record(cache) is not None
    except OSError:
        return False


# -- the check ----------------------------------------------------------------------------------


def quick_check(conn: Any) -> list[str]:
    """The problems `PRAGMA quick_check` finds (none: intact); a DB-API or SQLAlchemy connection.
    SQLCipher checks each page's HMAC as it reads it, so a flipped byte anywhere is found too."""
    rows = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check").all()]
    return [] if rows == ["ok"] else rows


# -- salvage: the unsent items, read from a copy of the damaged file ----------------------------


@dataclass
class Salvage:
    """What could be read of a damaged cache: its device and its unsent outbox items."""

    device_id: str | None = None
    device_epoch: int | None = None
    agent: str | None = None
    server_url: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0  # items known to exist that could not be read


_ITEM_COLUMNS = (
    "mutation_id, client_seq, name, args_json, account_id, occurred_at_client, observed_cursor, base_version, state"
)


@contextmanager
def _copy_of(cache: Path) -> Iterator[Path]:
    """A copy of the cache and its write-ahead log, padded with (sparse) zeros: SQLite refuses a file
    shorter than its header says, and a cut file still holds readable pages. The original is untouched."""
    folder = cache.parent / f".{cache.name}.salvage-{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    copy = folder / cache.name
    try:
        shutil.copyfile(cache, copy)
        wal = cache.with_name(cache.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        size = copy.stat().st_size
        if size:
            os.truncate(copy, size * 4 + (1 << 20))
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _raw(copy: Path, key: bytes) -> Any:
    from sqlcipher3 import dbapi2 as sqlcipher

    conn = sqlcipher.connect(str(copy), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


def _item(row: tuple[Any, ...]) -> dict[str, Any] | None:
    mutation_id, seq, name, args, account, occurred, cursor, base, state = row
    if state not in UNSENT:
        return None
    return {
        "mutation_id": mutation_id,
        "client_seq": seq,
        "name": name,
        "args_json": args,
        "account_id": account,
        "occurred_at_client": occurred,
        "observed_cursor": cursor,
        "base_version": base,
    }


def salvage(cache: Path, key: bytes) -> Salvage:
    """Every unsent outbox item of the damaged cache that can still be read, oldest first.

    The whole table is read at once when it can be; else row by row through the state index, else
    by row id, so that one damaged page loses only the items on it."""
    from sqlcipher3 import dbapi2 as sqlcipher

    found = Salvage()
    record = device_record(cache) or {}
    found.device_id, found.agent, found.server_url = (
        record.get("device_id"),
        record.get("agent"),
        record.get("server_url"),
    )
    try:
        size = cache.stat().st_size
    except OSError:
        return found
    if size == 0:
        return found
    try:
        with _copy_of(cache) as copy, closing(_raw(copy, key)) as conn:
            _read_meta(conn, found)
            found.items, found.unreadable = _read_items(conn, sqlcipher.DatabaseError)
    except (OSError, sqlcipher.DatabaseError):
        pass  # nothing more can be read (or no room for the copy): what was found stands
    found.items.sort(key=lambda item: item["client_seq"])
    return found


def _read_meta(conn: Any, found: Salvage) -> None:
    from sqlcipher3 import dbapi2 as sqlcipher

    with suppress(sqlcipher.DatabaseError):
        row = conn.execute(
            "SELECT device_id, device_epoch, agent_id, server_url FROM sync_meta WHERE id = 1"
        ).fetchone()
        if row is not None:
            found.device_id, found.device_epoch, found.agent = row[0], int(row[1]), row[2]
            found.server_url = row[3] or found.server_url


def _read_items(conn: Any, damaged: type[Exception]) -> tuple[list[dict[str, Any]], int]:
    try:
        rows = conn.execute(f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE state IN ('pending', 'inflight')").fetchall()
        return [item for row in rows if (item := _item(row)) is not None], 0
    except damaged:
        pass
    try:
        ids = [r[0] for r in conn.execute("SELECT rowid FROM outbox INDEXED BY ix_outbox_state").fetchall()]
    except damaged:
        try:
            last = int(conn.execute("SELECT max(rowid) FROM outbox").fetchone()[0] or 0)
        except damaged:
            last = 100_000
        ids = list(range(1, last + 1))
    items, unreadable = [], 0
    for rowid in ids:
        try:
            row = conn.execute(f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE rowid = ?", (rowid,)).fetchone()
        except damaged:
            unreadable += 1
            continue
        if row is not None and (item := _item(row)) is not None:
            items.append(item)
    return items, unreadable
