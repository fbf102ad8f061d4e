"""The server's database: a SQLite file by default, PostgreSQL by URL; migrated at start."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from cobro_tui.errors import UserFacingError
from cobro_tui.files import create_private
from cobro_tui.server.feed import server_epoch

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def server_engine(url: str) -> Engine:
    """An engine for `url` (sqlite:///file.db or postgresql://...), with durable SQLite settings."""
    if not url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
        raise UserFacingError(
            f"--db takes sqlite:///path/to/file.db or postgresql://user@host/db, not {url.split(':')[0]}:..."
        )
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise UserFacingError(
                "PostgreSQL needs its driver: pip install 'cobro-tui[postgres]' (or use a SQLite file with --db sqlite:///path)"
            ) from None
    if not url.startswith("sqlite"):
        return _postgres_engine(url)
    database = Path(url.removeprefix("sqlite:///"))
    if database.parent.is_dir() and not database.exists():
        create_private(
            database, tighten=False
        )  # the folder named in --db keeps its mode; 0600 before SQLite writes a byte (its -wal and -shm files follow)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "isolation_level": None},
        pool_size=8,
        max_overflow=8,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "busy_timeout=10000",
            "foreign_keys=ON",
            "cache_size=-32768",
            "mmap_size=268435456",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writers take the lock up front: seq numbers are then handed out in commit order.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


def _postgres_engine(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8, hide_parameters=True)
    writers = lock_key("writers")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writers take turns, as SQLite's BEGIN IMMEDIATE makes them: what a writer reads before it
        # writes (a debtor's contacts today, a promise's state) cannot change under it from another
        # worker, seq numbers are handed out in commit order, and no two writers wait on each other's
        # rows (no deadlocks). A transaction lock: released at commit or rollback, or if the process dies.
        if conn.get_execution_options().get("write"):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({writers})")

    return engine


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        yield conn


def migrate(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.connect().execution_options(write=True) as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
        with write_tx(engine) as conn:
            # The server's epoch and the change feed's counter exist from the start: the first
            # change may come from an import or a feed before any workstation has pulled.
            server_epoch(conn)
    except OperationalError as exc:
        raise UserFacingError(
            f"The server database cannot be opened ({exc.orig}); check --db and that it is running."
        ) from None


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock's key for a name: the same in every process (a signed 64-bit int)."""
    return int.from_bytes(hashlib.sha256(f"cobro-tui:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def server_lock(engine: Engine, name: str) -> Iterator[None]:
    """One process at a time, across every process on the same database, for the work inside (the
    migrations and the demo seed at start): a session advisory lock on PostgreSQL (released if the
    process dies), an exclusive lock on a file beside the database on SQLite."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(name)})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
                conn.commit()
        return
    database = engine.url.database
    try:
        import fcntl
    except ImportError:  # no advisory file locks here (Windows): SQLite's own locking only
        yield
        return
    if not database or database == ":memory:" or not Path(database).parent.is_dir():
        yield  # no folder to lock in: opening the database says what is wrong
        return
    path = Path(f"{database}.{name}.lock")
    create_private(path, tighten=False)  # 0600, like the database beside it
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
