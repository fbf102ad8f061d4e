"""The cache schema comes from Alembic migrations, and they agree with the models."""

from __future__ import annotations

import secrets
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import cobro_tui.store.tables  # noqa: F401
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import current_revision, head_revision, upgrade


def test_models_and_migrations_give_the_same_schema(cache_file: CacheFile) -> None:
    engine = cache_file.open()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_a_new_cache_is_at_the_head_revision(cache_file: CacheFile) -> None:
    engine = cache_file.open()
    assert current_revision(engine) == head_revision()
    assert upgrade(engine) == (head_revision(), head_revision())  # nothing to do twice
    engine.dispose()


def test_upgrading_a_cache_from_an_older_revision_keeps_its_data(tmp_path: Path) -> None:
    engine = CacheFile(tmp_path / "old.db", secrets.token_bytes(32)).open()
    assert upgrade(engine, "0001") == (None, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO customer (id, full_name, rfc, curp, birth_date, sync_state, server_version) "
            "VALUES ('c1', 'Ana Ibarra Ochoa', 'IAOA850101AB1', 'IAOA850101MDFBCN09', '1985-01-01', 'synced', 3)"
        )
        conn.exec_driver_sql("INSERT INTO audit_event (seq, body, hash) VALUES (1, '{}', 'h1')")
        # Before 0002 the audit log was not guarded; afterwards it is.
        conn.exec_driver_sql("UPDATE audit_event SET body = '{\"x\":1}' WHERE seq = 1")
    assert upgrade(engine) == ("0001", head_revision())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT full_name, server_version FROM customer").one() == ("Ana Ibarra Ochoa", 3)
        assert conn.exec_driver_sql("SELECT body FROM audit_event").scalar_one() == '{"x":1}'
        indexes = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_account_queue" in indexes
    engine.dispose()


def test_the_newest_migration_file_is_alembics_head() -> None:
    from cobro_tui.store.migrate import newest_file_revision

    assert newest_file_revision() == head_revision()  # what a start checks without loading Alembic
