"""Applying the cache migrations (Alembic) at start and by `cobro-tui migrate`.

A start whose cache is already at the newest revision reads that with one query and never loads
Alembic (about 0.15 s of imports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from cobro_tui.resources import shipped_dir

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(shipped_dir("migrations")))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def newest_file_revision() -> str:
    """The newest revision by its file name (revisions are numbered, linear): no Alembic needed."""
    return max(path.name.split("_", 1)[0] for path in (shipped_dir("migrations") / "versions").glob("[0-9]*_*.py"))


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _stored_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except OperationalError:  # a new file: no alembic_version table yet
        return None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the cache to `revision`; returns (revision before, revision after)."""
    if revision == "head":
        stored = _stored_revision(engine)
        if stored is not None and stored == newest_file_revision():
            return stored, stored
    from alembic import command

    before = current_revision(engine)
    target = head_revision() if revision == "head" else revision
    if before != target:
        config = alembic_config()
        with engine.connect().execution_options(write=True) as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()
    return before, current_revision(engine)
