"""A throwaway PostgreSQL cluster on a loopback port, for testing the server against PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _as_postgres(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root (CI runs as root): run its tools as the postgres user then.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def postgres_cluster(port: int) -> Iterator[str]:
    """initdb + pg_ctl start in a new folder; yields a postgresql:// URL; stops and removes it after."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL server tools (initdb, pg_ctl) are not installed; .ci/run installs them")
    # Outside pytest's private temp folder: the postgres user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="cobro-pg-"))
    data = folder / "pgdata"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "cobro", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(folder / "pg.log"), "start"]),
        check=True,
        capture_output=True,
    )
    try:
        url = f"postgresql://cobro@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 20
        import psycopg

        while True:
            try:
                psycopg.connect(f"host=127.0.0.1 port={port} user=cobro dbname=postgres").close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
