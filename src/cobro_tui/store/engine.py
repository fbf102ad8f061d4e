"""Opening the encrypted cache: SQLCipher with a raw key, WAL, synchronous=FULL, BEGIN IMMEDIATE."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import QueuePool
from sqlcipher3 import dbapi2 as sqlcipher

from cobro_tui.errors import UserFacingError
from cobro_tui.files import create_private

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


def _connector(path: Path, key: bytes):  # type: ignore[no-untyped-def]
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
        except sqlcipher.DatabaseError:
            conn.close()
            raise CacheUnreadable(
                f"The cache {path} cannot be opened with the key in the keyring (wrong key, or not a "
                "cobro-tui cache). Nothing was changed. Move the file aside and sync again to rebuild it; "
                "keep the moved file until its pending items are confirmed on the server."
            ) from None
        for pragma in PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        return conn

    return connect


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
    if not path.exists():
        create_private(path)  # 0600 from the first byte; SQLite gives its -wal and -shm files the same mode
    connect = _connector(path, key)
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

    with suppress(OSError):
        path.chmod(0o600)
    return engine


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE): everything inside commits together or not at all."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        yield conn
