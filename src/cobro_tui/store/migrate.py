"""Applying the cache migrations (Alembic) at start and by `cobro-tui migrate`."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from cobro_tui.resources import shipped_dir


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(shipped_dir("migrations")))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the cache to `revision`; returns (revision before, revision after)."""
    before = current_revision(engine)
    target = head_revision() if revision == "head" else revision
    if before != target:
        config = alembic_config()
        with engine.connect().execution_options(write=True) as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()
    return before, current_revision(engine)
