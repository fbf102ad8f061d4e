"""The reference backend as a FastAPI application: /v1, JSON, bearer tokens, roles checked here.

The routes are in one router per area (routes_*.py); what they share, in deps.py. The app's own parts
(engine, clock, settings) are in `app.state.gate`, so that many apps live in one process apart.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from cobro_tui import __version__
from cobro_tui.api.text import MAX_DEPTH, without_controls
from cobro_tui.clock import Clock
from cobro_tui.server import (
    openapi,
    routes_approvals,
    routes_auth,
    routes_evidence,
    routes_export,
    routes_feeds,
    routes_health,
    routes_kpi,
    routes_people,
    routes_portfolio,
    routes_pull,
    routes_push,
    routes_supervision,
)
from cobro_tui.server.deps import ApiProblem, BodyLimit, Gate, problem_response
from cobro_tui.server.request_log import RequestLog
from cobro_tui.settings import ServerSettings

# The largest body a workstation sends is a push of 200 commands, each with at most a 64 KiB
# snapshot of what the agent saw: some 13 MiB. Anything larger is refused before it is read whole.
MAX_BODY_BYTES = 16 * 2**20

# In the order of the published document's paths (docs/openapi.json keeps it as it always was).
ROUTERS = (
    routes_auth.router,
    routes_people.router,
    routes_evidence.router,
    routes_push.router,
    routes_approvals.router,
    routes_feeds.router,
    routes_supervision.router,
    routes_kpi.router,
    routes_pull.router,
    routes_export.router,
    routes_portfolio.router,
    routes_health.router,
)


async def _api_problem(_: Request, exc: ApiProblem) -> JSONResponse:
    return problem_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid"}
    where = ".".join(str(p) for p in first["loc"])
    return problem_response(422, "MALFORMED_REQUEST", without_controls(f"{where}: {first['msg']}")[:500])


async def _too_deep(_: Request, exc: RecursionError) -> JSONResponse:
    # A JSON body nested past what the parser can walk: a bad body like any other.
    return problem_response(422, "MALFORMED_REQUEST", f"the body nests deeper than {MAX_DEPTH} levels")


async def _busy(_: Request, exc: Exception) -> JSONResponse:
    # No database connection came free in time (every one busy: the floor is at its peak), or the
    # database did not answer: the client tries again shortly; nothing of the request was kept.
    what = "the server is busy" if isinstance(exc, PoolTimeout) else "the database did not answer"
    return problem_response(503, "SERVER_BUSY", f"{what}; try again shortly", headers={"Retry-After": "2"})


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    # FastAPI's own refusals (a body that is not JSON, an unknown path or method) as Problems too;
    # a body that cannot be read is a bad body like any other: 422.
    status = 422 if exc.status_code == 400 else exc.status_code
    code = {422: "MALFORMED_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "HTTP_ERROR")
    return problem_response(status, code, str(exc.detail)[:200], headers=getattr(exc, "headers", None))


def create_app(engine: Engine, clock: Clock, config: ServerSettings | None = None) -> FastAPI:
    """The API on a migrated database."""
    app = FastAPI(
        title="cobro-tui reference backend",
        version=__version__,
        description="CSP/1: the sync contract of the cobro-tui workstation (docs/architecture.md §4). Every "
        "error is a Problem body; a request that does not fit its schema is answered 422.",
    )
    app.state.gate = Gate(engine, clock, config or ServerSettings())
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(RequestLog)  # outermost: every answer is logged, a refused body's too
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    app.exception_handler(ApiProblem)(_api_problem)
    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(RecursionError)(_too_deep)
    app.exception_handler(StarletteHTTPException)(_http)
    app.exception_handler(PoolTimeout)(_busy)
    app.exception_handler(OperationalError)(_busy)
    for router in ROUTERS:
        app.include_router(router)
    return app
