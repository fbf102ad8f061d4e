"""Liveness and readiness, for the floor's load balancer and process supervisor (no token asked).

`/v1/health/live`: the process answers. `/v1/health/ready`: it should be sent requests: its database
answers and is migrated to this version's head, and it is not shutting down; 503 with the reason
otherwise. `/v1/health` (routes_push) stays what workstations ask first.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from cobro_tui import __version__
from cobro_tui.server.db import MIGRATIONS
from cobro_tui.server.deps import ApiProblem, Gate, GateDep, problems

router = APIRouter()


@cache
def schema_head() -> str:
    """The migration this version of the server runs at."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@router.get("/v1/health/live")
async def live() -> dict[str, str]:
    return {"status": "live", "version": __version__}


def _database_state(gate: Gate) -> str | None:
    """Why the database is not ready (None: it is)."""
    try:
        with gate.engine.connect() as conn:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        return f"the database does not answer ({type(getattr(exc, 'orig', None) or exc).__name__})"
    if found != schema_head():
        return f"the database is at migration {found}, this server needs {schema_head()}: run the server's migration"
    return None


@router.get("/v1/health/ready", responses=problems(503))
async def ready(gate: GateDep) -> dict[str, str]:
    if gate.watch.draining.is_set():
        raise ApiProblem(503, "SHUTTING_DOWN", "this server process is shutting down", headers={"Retry-After": "1"})
    reason = await run_in_threadpool(_database_state, gate)
    if reason is not None:
        raise ApiProblem(503, "NOT_READY", reason, headers={"Retry-After": "5"})
    return {"status": "ready", "version": __version__, "database": gate.engine.dialect.name}
