"""Files the workstation and the server write are their owner's alone, and personal documents expire
(issue #14, item 11)."""

from __future__ import annotations

import os
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

from cobro_tui.files import private_file, remove_expired, write_private
from cobro_tui.server.db import server_engine
from cobro_tui.services.approvals import write_tables


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_0600_in_0700_folders_from_the_first_byte_even_under_a_loose_umask(tmp_path: Path) -> None:
    previous = os.umask(0o000)
    try:
        document = write_private(tmp_path / "data" / "agreements" / "convenio-1.txt", "Ana López · $1,234.00")
        loose = tmp_path / "data" / "kpi"
        loose.mkdir(mode=0o777)
        (written,) = write_tables(loose, {"team": (["agent", "contacts"], [["agente01", "3"]])})
        old = tmp_path / "data" / "old.log"
        old.write_text("x")
        old.chmod(0o644)
        with private_file(old, "a") as handle:
            handle.write("more")
    finally:
        os.umask(previous)
    assert mode(document) == 0o600 and mode(document.parent) == 0o700
    assert mode(written) == 0o600 and mode(loose) == 0o700  # an existing folder is tightened
    assert mode(old) == 0o600 and old.read_text() == "xmore"


def test_the_server_database_is_created_0600(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        engine = server_engine(f"sqlite:///{tmp_path / 'server.db'}")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x)")
        engine.dispose()
    finally:
        os.umask(previous)
    assert mode(tmp_path / "server.db") == 0o600


def test_agreements_and_exports_older_than_the_setting_are_removed_at_start(tmp_path: Path) -> None:
    now = time.time()
    kept = write_private(tmp_path / "agreements" / "convenio-new.txt", "nuevo")
    gone = write_private(tmp_path / "agreements" / "convenio-old.html", "viejo")
    export = write_private(tmp_path / "kpi" / "team.csv", "agent")
    cache = write_private(tmp_path / "cache.db", "not expiring")
    for path in (gone, export, cache):
        os.utime(path, (now - 31 * 86_400, now - 31 * 86_400))
    assert remove_expired(tmp_path, keep_days=30, now=datetime.fromtimestamp(now, UTC)) == 2
    assert kept.exists() and cache.exists() and not gone.exists() and not export.exists()


def test_the_workstation_removes_expired_documents_when_it_starts(tmp_path: Path, monkeypatch) -> None:
    import pytest

    from cobro_tui.bootstrap import NoCache, run_workstation
    from cobro_tui.settings import load_settings

    monkeypatch.setenv("COBRO_FILES__KEEP_DAYS", "7")
    monkeypatch.setenv("COBRO_NOW", "2026-11-22T10:30:00-06:00")  # the clock decides, not the machine's
    settings = load_settings()
    old = write_private(settings.resolved_data_dir() / "agreements" / "convenio-x.txt", "Ana")
    recent = write_private(settings.resolved_data_dir() / "agreements" / "convenio-y.txt", "Luis")
    fixed = datetime.fromisoformat("2026-11-22T10:30:00-06:00").timestamp()
    os.utime(old, (fixed - 8 * 86_400,) * 2)
    os.utime(recent, (fixed - 6 * 86_400,) * 2)
    with pytest.raises(NoCache):
        run_workstation(settings)  # no cache yet: it stops there, after the clean-up
    assert not old.exists() and recent.exists()
