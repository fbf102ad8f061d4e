"""Files the workstation and the server write: only their owner may read them.

Every folder is created 0700 (and tightened when it exists), every file 0600 from its first byte
(never written open and tightened later). Agreement documents and CSV exports carry personal data
and are removed at start once they are older than `[files] keep_days`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import IO

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# The folders under the data folder whose files expire: agreement documents, the supervisors' CSV exports.
EXPIRING = ("agreements", "kpi")


def private_dir(folder: Path, tighten: bool = True) -> Path:
    """`folder` (and any missing parents) created 0700; an existing one is tightened to 0700 unless
    `tighten` is False (a folder someone named, such as COBRO_LOG_DIR=/var/log, keeps its mode)."""
    existed = folder.is_dir()
    folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if tighten or not existed:
        with suppress(OSError):  # a folder this user does not own: the files inside are still 0600
            folder.chmod(PRIVATE_DIR)
    return folder


@contextmanager
def private_file(path: Path, mode: str = "w", newline: str | None = None, tighten: bool = True) -> Iterator[IO[str]]:
    """A text file open for writing ("w") or appending ("a"), 0600 from creation, in a 0700 folder
    (an existing folder is tightened unless `tighten` is False)."""
    private_dir(path.parent, tighten)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    descriptor = os.open(path, flags, PRIVATE_FILE)
    with suppress(OSError):
        os.fchmod(descriptor, PRIVATE_FILE)  # a file that existed keeps its mode otherwise
    with os.fdopen(descriptor, mode, encoding="utf-8", newline=newline) as handle:
        yield handle


def create_private(path: Path, tighten: bool = True) -> Path:
    """An empty file at `path` made 0600 before anything else opens it (a database's first byte)."""
    private_dir(path.parent, tighten)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    path.chmod(PRIVATE_FILE)
    return path


def write_private(path: Path, text: str) -> Path:
    with private_file(path) as handle:
        handle.write(text)
    return path


def write_private_bytes(path: Path, data: bytes) -> Path:
    """`data` written atomically: a 0600 temporary file beside `path`, synced, then renamed over it."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def remove_expired(data_dir: Path, keep_days: int, now: datetime) -> int:
    """Remove agreement documents and exports older than `keep_days` at `now` (the one clock's),
    by modification time; the count."""
    limit = now.timestamp() - keep_days * 86_400
    removed = 0
    for name in EXPIRING:
        folder = data_dir / name
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except OSError:
                continue  # gone meanwhile, or not ours: the next start tries again
    return removed
