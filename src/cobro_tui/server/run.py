"""Running the reference backend: `cobro-tui serve`, and in a thread for the demo and the tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from cobro_tui import logs
from cobro_tui.clock import Clock
from cobro_tui.errors import UserFacingError
from cobro_tui.files import private_dir
from cobro_tui.i18n import t
from cobro_tui.policy import load_policy
from cobro_tui.server.app import create_app
from cobro_tui.server.db import migrate, server_engine, server_lock
from cobro_tui.server.deps import Gate
from cobro_tui.server.seed import ensure_demo_users, load_demo_portfolio
from cobro_tui.settings import ServerSettings


def default_db_url(data_dir: Path) -> str:
    private_dir(data_dir)
    return f"sqlite:///{data_dir / 'server.db'}"


def prepare(
    db_url: str,
    clock: Clock,
    demo_accounts: int | None = None,
    seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> Engine:
    """A migrated server database, with the demo users and portfolio when asked.

    Under one lock across processes: two servers started at once on one database (or the workers'
    parent and a second `serve`) migrate and seed one after the other; the second finds the work done."""
    engine = server_engine(db_url)
    try:
        with server_lock(engine, "prepare"):
            migrate(engine)
            if demo_accounts:
                ensure_demo_users(engine)
                load_demo_portfolio(engine, demo_accounts, seed, clock.now(), load_policy().buckets, progress=progress)
    except OperationalError as exc:
        raise UserFacingError(
            f"The server database cannot be opened ({exc.orig}); check --db and that it is running."
        ) from None
    return engine


@dataclass(frozen=True, slots=True)
class Tls:
    """The server's certificate (PEM, with its chain) and private key for https."""

    cert: Path
    key: Path

    def uvicorn_options(self) -> dict[str, Any]:
        return {"ssl_certfile": str(self.cert), "ssl_keyfile": str(self.key)}


def tls_files(cert: Path | None, key: Path | None) -> Tls | None:
    """--tls-cert and --tls-key, both or neither, checked before anything starts: each file must be
    readable and the key must be the certificate's (a clear message otherwise)."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UserFacingError(t("cli.tls_both"))
    for what, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            raise UserFacingError(t("cli.tls_missing", option=what, path=path))
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise UserFacingError(t("cli.tls_unusable", cert=cert, keyfile=key, error=exc)) from None
    return Tls(cert, key)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerThread:
    """uvicorn serving the app in a background thread of this process, on loopback."""

    engine: Engine
    clock: Clock
    host: str = "127.0.0.1"
    port: int = 0
    settings: ServerSettings | None = None
    tls: Tls | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port(self.host)
        self.app = create_app(self.engine, self.clock, self.settings)
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            **(self.tls.uvicorn_options() if self.tls else {}),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="cobro-server", daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self, timeout: float = 15) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.app.state.gate.watch.draining.set()  # waiting pulls answer now
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# The database URL the workers of `serve --workers N` open (set by the parent, read in each worker).
WORKER_DB = "COBRO_SERVE_DB"
WORKER_PING_S = 30


def _drain_on_signals(draining: threading.Event) -> None:
    """SIGINT and SIGTERM (uvicorn's own handlers stop the server) also set `draining` first: the
    pulls waiting for changes answer at once, so the graceful stop does not wait out their 25 s."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)

        def handler(number: int, frame: FrameType | None, previous: Any = previous) -> None:
            draining.set()
            if callable(previous):
                previous(number, frame)

        signal.signal(sig, handler)


def served_app(engine: Engine, clock: Clock, settings: ServerSettings | None) -> FastAPI:
    """The app as `serve` runs it: it drains on the stop signals (installed at startup, after uvicorn's)."""
    app = create_app(engine, clock, settings)
    gate: Gate = app.state.gate

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _drain_on_signals(gate.watch.draining)
        yield

    app.router.lifespan_context = lifespan
    return app


def worker_app() -> FastAPI:
    """One worker of `serve --workers N` (a uvicorn factory, run in each worker process): the parent
    has migrated and seeded the database already."""
    from cobro_tui.clock import clock_for
    from cobro_tui.settings import load_settings

    settings = load_settings()
    clock = clock_for(settings.now)
    logs.start_server_log(clock)
    return served_app(server_engine(os.environ[WORKER_DB]), clock, settings.server)


def serve(
    host: str,
    port: int,
    db_url: str,
    clock: Clock,
    demo_accounts: int | None,
    seed: int,
    settings: ServerSettings | None = None,
    tls: Tls | None = None,
    workers: int = 1,
) -> None:
    """`cobro-tui serve`: http, or https with `tls` (behind a TLS proxy, run it on loopback and let
    the proxy speak https; see the README's "Transport security"). With `workers` above 1 (PostgreSQL
    only), that many processes share the port; the database is migrated and seeded here first, once."""
    logs.start_server_log(clock)  # JSON lines on stderr, uvicorn's own lines included
    if workers > 1 and db_url.startswith("sqlite"):
        raise UserFacingError(t("floor.sqlite_workers", workers=workers))
    engine = prepare(db_url, clock, demo_accounts, seed)
    logs.get("server").info(
        "serving on %s:%d (%s, %d workers)", host, port, engine.dialect.name, workers, extra={"event": "start"}
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "log_config": None,  # keep the handlers logs.start_server_log set
        "access_log": False,
        "timeout_graceful_shutdown": (settings or ServerSettings()).shutdown_grace_seconds,
        **(tls.uvicorn_options() if tls else {}),
    }
    if workers == 1:
        uvicorn.run(served_app(engine, clock, settings), **options)
        return
    engine.dispose()  # the workers open their own connections
    os.environ[WORKER_DB] = db_url
    # A worker busy at the floor's peak answers its parent's ping late; 30 s before it counts as hung
    # (uvicorn's 5 s restarted busy workers mid-request on a loaded machine).
    uvicorn.run(
        "cobro_tui.server.run:worker_app",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_PING_S,
        **options,
    )
