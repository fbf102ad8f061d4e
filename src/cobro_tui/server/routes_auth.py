"""Sign-in, sign-out, a person's own password, and the machine credentials a manager looks after
(the people: routes_people.py).

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from sqlalchemy import select, update

from cobro_tui import logs
from cobro_tui.api.models import (
    Integration,
    IntegrationRequest,
    LoginRequest,
    LoginResponse,
    PasswordChange,
    Problem,
)
from cobro_tui.domain.records import instant_text
from cobro_tui.server import auth
from cobro_tui.server.db import write_tx
from cobro_tui.server.deps import PROBLEMS, ApiProblem, GateDep, current_user, problems, role, source_of
from cobro_tui.server.schema import integration_keys
from cobro_tui.server.security import record_security_event

manager = role("manager", code="MANAGERS_ONLY", message="only a manager looks after users and credentials")

log = logs.get("server.auth")
router = APIRouter()


@router.post(
    "/v1/auth/login",
    response_model=LoginResponse,
    responses={**PROBLEMS, 429: {"model": Problem, "description": "too many failed sign-ins from this address"}},
)
def login(body: LoginRequest, request: Request, gate: GateDep) -> LoginResponse:
    """A password for a session token. Wrong user and wrong password get the same answer; the
    user is locked out after `server.lockout_failures` wrong ones in a row."""
    now, source = gate.clock.now(), source_of(request)
    token, expires = "", None
    with write_tx(gate.engine) as conn:
        result = auth.sign_in(conn, body.username, body.password, now, source, gate.config)
        if result.user is not None:
            token, expires = auth.issue_token(conn, result.user, now, gate.config, source)
    return _session(request, result, token, expires)


def _session(request: Request, result: auth.SignIn, token: str, expires: datetime | None) -> LoginResponse:
    """The answer to a sign-in: the session, or its refusal (the failure was counted, and committed)."""
    if result.user is None or expires is None:
        # The name typed is not logged: it may be anything (a password, a customer's name).
        log.warning("sign-in refused: %s", result.code, extra={"event": "sign_in", "reason": result.code})
        if result.retry_after_s is not None:
            raise ApiProblem(429, result.code, result.message, headers={"Retry-After": str(result.retry_after_s)})
        raise ApiProblem(401 if result.code == "BAD_CREDENTIALS" else 403, result.code, result.message)
    request.state.user = result.user.username
    log.info("signed in (%s)", result.user.role, extra={"event": "sign_in", "user": result.user.username})
    return LoginResponse(
        token=token,
        username=result.user.username,
        role=result.user.role,
        expires_at=expires,
    )


@router.post(
    "/v1/auth/password",
    response_model=LoginResponse,
    responses={
        **PROBLEMS,
        429: {"model": Problem, "description": "too many failed sign-ins from this address"},
    },
)
def change_password(body: PasswordChange, request: Request, gate: GateDep) -> LoginResponse:
    """A person's new password, given with the one they have (a one-time password included: this is
    how it is changed at the first sign-in). At least 12 characters, not the user's name, not the old
    one. Every other session of theirs ends; the answer is a new session."""
    now, source = gate.clock.now(), source_of(request)
    token, expires = "", None
    with write_tx(gate.engine) as conn:
        result = auth.sign_in(conn, body.username, body.password, now, source, gate.config, changing=True)
        if result.user is not None:
            weak = auth.password_problem(result.user.username, body.new_password)
            if weak is not None:
                raise ApiProblem(422, "WEAK_PASSWORD", auth.PASSWORD_PROBLEMS[weak], {"problem": weak})
            if body.new_password == body.password:
                raise ApiProblem(422, "WEAK_PASSWORD", "the new password must differ from the one it replaces")
            auth.change_password(conn, result.user.username, body.new_password, now)
            record_security_event(conn, now, "PASSWORD_CHANGED", result.user.username, source, result.user.username)
            token, expires = auth.issue_token(conn, result.user, now, gate.config, source)
    return _session(request, result, token, expires)


@router.post("/v1/auth/logout", status_code=204, responses=PROBLEMS)
def logout(
    user: Annotated[auth.User, Depends(current_user)],
    gate: GateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """The session ends now, on the server: the token is no longer accepted anywhere."""
    if user.role == "integration":
        raise ApiProblem(403, "INTEGRATION_KEY", "an integration credential is revoked by a manager, not signed out")
    with write_tx(gate.engine) as conn:
        auth.revoke_token(conn, (authorization or "")[7:].strip())
    return Response(status_code=204)


def _integration(row: object, key: str | None = None) -> Integration:
    data = dict(row._mapping)  # type: ignore[attr-defined]
    return Integration(
        id=data["id"],
        name=data["name"],
        scopes=data["scopes"].split(),
        created_by=data["created_by"],
        created_at=data["created_at"],
        revoked_at=data["revoked_at"],
        key=key,
    )


@router.post("/v1/admin/integrations", response_model=Integration, status_code=201, responses=PROBLEMS)
def integration_add(
    body: IntegrationRequest, request: Request, user: Annotated[auth.User, Depends(manager)], gate: GateDep
) -> Integration:
    """A machine credential for the named feeds; the key is in this answer only."""
    now = gate.clock.now()
    with write_tx(gate.engine) as conn:
        key_id, key = auth.new_integration_key(conn, body.name, tuple(sorted(set(body.scopes))), user.username, now)
        record_security_event(
            conn,
            now,
            "INTEGRATION_CREATED",
            user.username,
            source_of(request),
            key_id,
            {"name": body.name, "scopes": sorted(set(body.scopes))},
        )
        row = conn.execute(select(integration_keys).where(integration_keys.c.id == key_id)).one()
    return _integration(row, key)


@router.get("/v1/admin/integrations", response_model=list[Integration], responses=PROBLEMS)
def integration_list(user: Annotated[auth.User, Depends(manager)], gate: GateDep) -> list[Integration]:
    with gate.engine.connect() as conn:
        return [_integration(r) for r in conn.execute(select(integration_keys).order_by(integration_keys.c.created_at))]


@router.delete("/v1/admin/integrations/{key_id}", response_model=Integration, responses=problems(404))
def integration_revoke(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{1,16}$")],
    request: Request,
    user: Annotated[auth.User, Depends(manager)],
    gate: GateDep,
) -> Integration:
    """The credential stops working now (revoking twice changes nothing)."""
    now = gate.clock.now()
    with write_tx(gate.engine) as conn:
        row = conn.execute(select(integration_keys).where(integration_keys.c.id == key_id)).first()
        if row is None:
            raise ApiProblem(404, "UNKNOWN_INTEGRATION", f"no integration credential {key_id}")
        if row.revoked_at is None:
            conn.execute(
                update(integration_keys).where(integration_keys.c.id == key_id).values(revoked_at=instant_text(now))
            )
            record_security_event(conn, now, "INTEGRATION_REVOKED", user.username, source_of(request), key_id)
        row = conn.execute(select(integration_keys).where(integration_keys.c.id == key_id)).one()
    return _integration(row)
