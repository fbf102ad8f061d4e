"""What the routers share: the errors a route answers with, the parts of the app serving the request
(engine, clock, settings: per app, from `app.state`), who the caller is (the user behind the bearer
token, their role and their team, decided here from the server's state), and the helpers of more
than one router.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cobro_tui.api.models import AuditHead, Problem
from cobro_tui.clock import Clock
from cobro_tui.server import audit, auth, kpi
from cobro_tui.server.db import write_tx
from cobro_tui.server.mutations import Limits
from cobro_tui.server.schema import sync_clients
from cobro_tui.server.watch import FeedWatch
from cobro_tui.settings import ServerSettings

# Every route may answer these, always with a Problem body (a code for programs, a sentence for people).
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no valid session or credential"},
    403: {"model": Problem, "description": "the caller's role or team may not do this"},
    422: {"model": Problem, "description": "the request does not fit its schema (the one status for a bad body)"},
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """What a route answers besides its result: PROBLEMS, and `statuses` of its own, each with a Problem body."""
    return {**PROBLEMS, **{status: {"model": Problem} for status in statuses}}


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A session token from POST /v1/auth/login, or an integration key a manager made.",
)


class ApiProblem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details or {}, headers


def problem_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(code=code, message=message, details=details or {})
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


class BodyLimit:
    """A request body above `limit` bytes is answered 413 with a Problem: by its Content-Length before
    a byte is read, or, sent in chunks, once what arrived passes the limit (pure ASGI, ahead of the routes)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def _refuse(self) -> JSONResponse:
        return problem_response(413, "BODY_TOO_LARGE", f"a request body takes at most {self.limit // 2**20} MiB")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.limit:
                await self._refuse()(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:  # chunked: read it here, up to the limit, and hand it on whole
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse()(scope, receive, send)
                return
            if not message.get("more_body"):
                break
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def source_of(request: Request) -> str | None:
    """The client's address, as this server sees the connection (behind a proxy: the proxy's, unless
    uvicorn is told to trust its forwarded headers)."""
    return request.client.host if request.client else None


@dataclass
class Gate:
    """The server's parts the routes use (one per app, in `app.state.gate`), and the team checks."""

    engine: Engine
    clock: Clock
    config: ServerSettings
    # When each agent's promises were last swept (routes_pull): per app, as every other part.
    swept_at: dict[str, float] = field(default_factory=dict)
    # The change feed watched for the pulls that wait; its `draining` is set when shutting down.
    watch: FeedWatch = field(init=False)

    def __post_init__(self) -> None:
        self.watch = FeedWatch(self.engine)

    @property
    def limits(self) -> Limits:
        return Limits(skew_s=self.config.clock_skew_seconds, horizon_days=self.config.fact_horizon_days)

    def team_scope(self, user: auth.User, team: str | None) -> str | None:
        """The team a user may review: a supervisor their own; a manager or auditor the one named (every team without one)."""
        if user.role in ("manager", "auditor"):
            return team
        if team is not None and team != user.team:
            raise ApiProblem(403, "OTHER_TEAM", f"you supervise team {user.team}; a manager reviews team {team}")
        return user.team

    def team_members(self, user: auth.User) -> set[str] | None:
        """The agents a supervisor's reviews cover (None: every agent, for a manager or an auditor)."""
        scope = self.team_scope(user, None)
        if scope is None:
            return None
        with self.engine.connect() as conn:
            return set(kpi.team_agents(conn, scope))

    def ensure_member(self, user: auth.User, agent: str | None) -> None:
        members = self.team_members(user)
        if members is not None and agent not in members:
            raise ApiProblem(403, "OTHER_TEAM", f"that belongs to an agent outside team {user.team}")


async def gate_of(request: Request) -> Gate:
    """The parts of the app serving the request (async: read without a trip to the thread pool)."""
    gate: Gate = request.app.state.gate
    return gate


# What a route declares to reach the engine, the clock and the settings of its own app.
GateDep = Annotated[Gate, Depends(gate_of)]


def current_user(
    request: Request, gate: GateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> auth.User:
    """The user behind the bearer token (401 without one, or with one that is not valid now)."""
    if credentials is None:
        raise ApiProblem(
            401,
            "UNAUTHENTICATED",
            "sign in first (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = credentials.credentials.strip()
    user = None
    if token.isascii() and len(token) <= 256:
        with gate.engine.connect() as conn:
            user = auth.user_for_token(conn, token, gate.clock.now())
    if user is None:
        raise ApiProblem(
            401,
            "TOKEN_INVALID",
            "the session expired or is not valid; sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.user = user.username  # for the request's log line (server/request_log.py)
    return user


current_user.allowed_roles = ("agent", "supervisor", "manager", "auditor", "integration")  # type: ignore[attr-defined]


def role(*roles: str, code: str, message: str) -> Callable[..., auth.User]:
    """A dependency that lets only users of `roles` through (403 `code` otherwise)."""

    def dependency(user: Annotated[auth.User, Depends(current_user)]) -> auth.User:
        if user.role not in roles:
            raise ApiProblem(403, code, message)
        return user

    dependency.allowed_roles = roles  # type: ignore[attr-defined]  # read by the tests of every route
    return dependency


def integration(scope: str) -> Callable[..., auth.User]:
    """A dependency for a machine feed: an integration credential with `scope`, never a person."""

    def dependency(user: Annotated[auth.User, Depends(current_user)]) -> auth.User:
        if user.role != "integration":
            raise ApiProblem(
                403,
                "INTEGRATION_ONLY",
                "this feed takes an integration credential, not a person's "
                "session (a manager makes one: cobro-tui admin integration add)",
            )
        if scope not in user.scopes:
            raise ApiProblem(403, "SCOPE_MISSING", f"this credential is not allowed the {scope} feed")
        return user

    dependency.allowed_roles = ("integration",)  # type: ignore[attr-defined]
    return dependency


# Who may call the sync, the reviews and the payments feed (the other guards are their router's own).
agent_user = role("agent", code="AGENTS_ONLY", message="only agents sync a portfolio to a workstation")
supervisor_user = role(
    "supervisor", "manager", code="SUPERVISORS_ONLY", message="only supervisors and managers review approvals"
)
payments_feed = integration("payments")


def device_agent(conn: Connection, device_id: str) -> str | None:
    """Whose workstation a device is (the agent who registered it)."""
    return conn.execute(select(sync_clients.c.agent).where(sync_clients.c.device_id == device_id).limit(1)).scalar()


def compare_audit_head(gate: Gate, user: auth.User, device_id: str, head: AuditHead, source: str | None) -> None:
    """A push's chain head against the chain kept for the agent's device (the push route calls it)."""
    with write_tx(gate.engine) as conn:
        if device_agent(conn, device_id) == user.username:
            audit.compare_head(conn, user.username, device_id, head, gate.clock.now(), source)
