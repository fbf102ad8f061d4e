"""Running the reference backend: `cobro-tui serve`, and in a thread for the demo and the tests."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
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
        config = uvicorn.Config(
            create_app(self.engine, self.clock, self.settings),
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
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    host: str,
    port: int,
    db_url: str,
    clock: Clock,
    demo_accounts: int | None,
    seed: int,
    settings: ServerSettings | None = None,
    tls: Tls | None = None,
) -> None:
    """`cobro-tui serve`: http, or https with `tls` (behind a TLS proxy, run it on loopback and let
    the proxy speak https; see the README's "Transport security")."""
    logs.start_server_log(clock)  # JSON lines on stderr, uvicorn's own lines included
    engine = prepare(db_url, clock, demo_accounts, seed)
    logs.get("server").info("serving on %s:%d (%s)", host, port, engine.dialect.name, extra={"event": "start"})
    uvicorn.run(
        create_app(engine, clock, settings),
        host=host,
        port=port,
        log_level="info",
        log_config=None,  # keep the handlers logs.start_server_log set
        access_log=False,
        **(tls.uvicorn_options() if tls else {}),
    )
