"""Opening the encrypted cache: SQLCipher with a raw key, WAL, synchronous=FULL, BEGIN IMMEDIATE."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, ExceptionContext, create_engine, event
from sqlalchemy.pool import QueuePool
from sqlcipher3 import dbapi2 as sqlcipher

from cobro_tui.errors import UserFacingError
from cobro_tui.files import create_private
from cobro_tui.store.integrity import (
    SQLITE_CORRUPT,
    CacheDamaged,
    DiskFull,
    emptied,
    is_damage,
    is_disk_full,
    quick_check,
    sqlite_code,
)

PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=FULL",
    "foreign_keys=ON",
    "busy_timeout=5000",
    "temp_store=MEMORY",
    "cache_size=-65536",
)
KEY_BYTES = 32


class CacheUnreadable(UserFacingError):
    """The cache file exists but this key does not open it (wrong key, or not a cache)."""


def _connector(path: Path, key: bytes, guard: CacheGuard | None = None):  # type: ignore[no-untyped-def]
    if len(key) != KEY_BYTES:
        raise ValueError("the cache key must be 32 random bytes")
    hex_key = key.hex()

    def connect() -> sqlcipher.Connection:
        conn = sqlcipher.connect(str(path), check_same_thread=False, isolation_level=None)
        # SQLCipher logs to stderr by default, which would garble the terminal screen.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{hex_key}'\"")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError as exc:
            conn.close()
            # SQLITE_NOTADB: a wrong key reads exactly like a spoilt first page. SQLITE_CORRUPT: the
            # key opened it but the file is cut or spoilt further in; the guard saves what it can.
            if sqlite_code(exc) == SQLITE_CORRUPT and guard is not None:
                raise guard.found_damage("open") from None
            if is_disk_full(exc, path.parent):  # no room even for SQLite's shared-memory file
                raise DiskFull(path.parent) from None
            raise CacheUnreadable(
                f"The cache {path} cannot be opened with the key in the keyring (wrong key, or not a "
                "cobro-tui cache). Nothing was changed. Move the file aside and sync again to rebuild it; "
                "keep the moved file until its pending items are confirmed on the server."
            ) from None
        for pragma in PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        return conn

    return connect


class CacheGuard:
    """One cache's watch: a damaged file found (by the start's check or by the first SQLITE_CORRUPT
    of any statement) has its unsent items saved before the person is told, and from then on every
    write is refused with the same words, so nothing new lands in a file that is to be moved aside.
    A full disk (SQLITE_FULL) is said as such. Writes wait for the start's check."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key
        self._lock = threading.Lock()
        self._checked = threading.Event()
        self._checked.set()
        self.damage: CacheDamaged | None = None

    def found_damage(self, reason: str) -> CacheDamaged:
        """Save the unsent items (once) and the words that say what to do."""
        from cobro_tui.store.rescue import rescue_damaged

        with self._lock:
            if self.damage is None:
                self.damage = rescue_damaged(self.path, self._key, reason)
            return self.damage

    def check(self, engine: Engine) -> float:
        """`PRAGMA quick_check` now; raises CacheDamaged (after the rescue) when it finds anything.
        Returns the seconds it took."""
        import time

        started = time.perf_counter()
        try:
            with engine.connect() as conn:
                problems = quick_check(conn)
        except CacheDamaged:
            raise
        finally:
            self._checked.set()
        if problems:
            raise self.found_damage("quick_check")
        return time.perf_counter() - started

    def check_in_background(self, engine: Engine) -> threading.Thread:
        """The start's check in a thread, so that the queue shows at once; writes wait for it."""
        self._checked.clear()

        def run() -> None:
            with suppress(CacheDamaged, DiskFull):  # kept in self.damage; said by the next write
                self.check(engine)

        thread = threading.Thread(target=run, name="cache-check", daemon=True)
        thread.start()
        return thread

    def before_write(self) -> None:
        self._checked.wait(timeout=120)
        if self.damage is not None:
            raise self.damage

    def on_error(self, context: ExceptionContext) -> None:
        error = context.original_exception
        if is_disk_full(error, self.path.parent):
            raise DiskFull(self.path.parent) from None
        if is_damage(error):
            raise self.found_damage("sqlite") from None


_GUARDS: weakref.WeakKeyDictionary[Engine, CacheGuard] = weakref.WeakKeyDictionary()


def guard_of(engine: Engine) -> CacheGuard | None:
    """The guard of a cache engine made by `open_engine` (None for any other engine)."""
    return _GUARDS.get(engine)


@dataclass(frozen=True, slots=True)
class CacheFile:
    """Where a cache lives and the key that opens it (kept in memory only, never logged)."""

    path: Path
    key: bytes = field(repr=False)

    def open(self) -> Engine:
        return open_engine(self.path, self.key)


def open_engine(path: Path, key: bytes) -> Engine:
    """An engine on the encrypted cache at `path` (created if absent) with the durability settings.

    Transactions begin with BEGIN IMMEDIATE when the connection runs with the execution option
    `write=True` (see `write_connection`), so a writer never deadlocks halfway through.
    """
    guard = CacheGuard(path, key)
    if emptied(path):
        raise guard.found_damage("emptied")  # it would open as a new, empty cache that looks intact
    if not path.exists():
        create_private(path)  # 0600 from the first byte; SQLite gives its -wal and -shm files the same mode
    connect = _connector(path, key, guard)
    connect().close()  # fail here, with a clear message, rather than on first use
    # module=: SQLAlchemy then knows the driver's exception classes and wraps them as usual.
    engine = create_engine(
        "sqlite://",
        module=sqlcipher,
        creator=connect,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
        hide_parameters=True,  # errors and logs never carry the personal data bound to a statement
    )

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    # Every error of every statement passes here: damage and a full disk are said in words.
    event.listen(engine, "handle_error", guard.on_error)
    _GUARDS[engine] = guard
    with suppress(OSError):
        path.chmod(0o600)
    return engine


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE): everything inside commits together or not at all.
    None starts on a cache found damaged (see CacheGuard)."""
    guard = _GUARDS.get(engine)
    if guard is not None:
        guard.before_write()
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        yield conn
