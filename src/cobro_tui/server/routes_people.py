"""The people a manager looks after: users (add, disable, enable, unlock, reset a password, change
their role or team) and teams (add, rename, list). Every change is a security event; the last
enabled manager can be neither disabled nor demoted.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import Connection, func, select, update

from cobro_tui.api.models import (
    NewUser,
    RoleChange,
    TeamChange,
    TeamInfo,
    TeamName,
    TeamRequest,
    UserState,
    UserWithPassword,
)
from cobro_tui.domain.records import instant_text
from cobro_tui.server import auth
from cobro_tui.server.db import write_tx
from cobro_tui.server.deps import PROBLEMS, ApiProblem, Gate, GateDep, problems, role, source_of
from cobro_tui.server.schema import teams, users
from cobro_tui.server.security import record_security_event

UserName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
TeamPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
manager = role("manager", code="MANAGERS_ONLY", message="only a manager looks after users and teams")
Manager = Annotated[auth.User, Depends(manager)]

router = APIRouter()


def user_state(row: Any, now_text: str) -> UserState:
    locked = row.locked_until if row.locked_until and row.locked_until > now_text else None
    return UserState(
        username=row.username,
        role=row.role,
        team=row.team,
        state="disabled" if row.disabled_at is not None else ("locked" if locked else "enabled"),
        disabled=row.disabled_at is not None,
        locked_until=locked,
        failed_logins=row.failed_logins,
        must_change_password=bool(row.must_change_password),
        last_login_at=row.last_login_at,
        created_at=row.created_at,
    )


def _one(conn: Connection, gate: Gate, username: str) -> UserState:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise ApiProblem(404, "UNKNOWN_USER", f"no user {username}")
    return user_state(row, instant_text(gate.clock.now()))


def _locked_row(conn: Connection, username: str) -> Any:
    """The user's row, locked until the transaction ends (PostgreSQL; SQLite's writer holds the file)."""
    row = conn.execute(select(users).where(users.c.username == username).with_for_update()).first()
    if row is None:
        raise ApiProblem(404, "UNKNOWN_USER", f"no user {username}")
    return row


def _enabled_managers(conn: Connection) -> list[str]:
    """The enabled managers, their rows locked in name order until the transaction ends (PostgreSQL;
    SQLite's writer holds the whole file). Taken before any other row, always in this order: of two
    managers disabling or demoting each other at once, the second waits for the first, then counts
    what the first left, and neither waits on a row the other holds."""
    return list(
        conn.execute(
            select(users.c.username)
            .where(users.c.role == "manager", users.c.disabled_at.is_(None))
            .order_by(users.c.username)
            .with_for_update()
        ).scalars()
    )


def _keep_a_manager(managers: list[str], row: Any, what: str) -> None:
    """Refuse to leave the server without an enabled manager."""
    if row.role == "manager" and row.disabled_at is None and managers in ([row.username], []):
        raise ApiProblem(
            409, "LAST_MANAGER", f"{row.username} is the last enabled manager: make another manager before you {what}"
        )


def _ensure_team(conn: Connection, team: str) -> None:
    if conn.execute(select(teams.c.name).where(teams.c.name == team)).first() is None:
        raise ApiProblem(404, "UNKNOWN_TEAM", f"no team {team}; a manager adds it first (cobro-tui admin team add)")


@router.get("/v1/admin/users", response_model=list[UserState], responses=PROBLEMS)
def user_list(user: Manager, gate: GateDep) -> list[UserState]:
    """Every person who signs in: role, team, whether enabled, disabled or locked out, last sign-in."""
    now_text = instant_text(gate.clock.now())
    with gate.engine.connect() as conn:
        return [user_state(r, now_text) for r in conn.execute(select(users).order_by(users.c.username))]


@router.post("/v1/admin/users", response_model=UserWithPassword, status_code=201, responses=problems(404, 409))
def user_add(body: NewUser, request: Request, user: Manager, gate: GateDep) -> UserWithPassword:
    """A person of a team, with a one-time password (in this answer only) to change at their first sign-in."""
    now = gate.clock.now()
    password = auth.one_time_password()
    with write_tx(gate.engine) as conn:
        _ensure_team(conn, body.team)
        taken = conn.execute(select(users.c.username).where(func.lower(users.c.username) == body.username.lower()))
        if taken.first() is not None:
            raise ApiProblem(409, "USER_EXISTS", f"there is already a user {body.username}")
        auth.add_user(conn, body.username, password, body.role, body.team, must_change=True, now=now)
        record_security_event(
            conn,
            now,
            "USER_ADDED",
            user.username,
            source_of(request),
            body.username,
            {"role": body.role, "team": body.team},
        )
        return UserWithPassword(user=_one(conn, gate, body.username), password=password)


@router.post("/v1/admin/users/{username}/disable", response_model=UserState, responses=problems(404, 409))
def disable(username: UserName, request: Request, user: Manager, gate: GateDep) -> UserState:
    """The user can no longer sign in, and every session they have ends at once."""
    if username == user.username:
        raise ApiProblem(409, "SELF", "a manager cannot disable their own user; ask another manager")
    now = gate.clock.now()
    with write_tx(gate.engine) as conn:
        managers = _enabled_managers(conn)
        row = _locked_row(conn, username)
        _keep_a_manager(managers, row, "disable this one")
        if row.disabled_at is None:
            conn.execute(update(users).where(users.c.username == username).values(disabled_at=instant_text(now)))
        auth.end_sessions(conn, username)
        record_security_event(conn, now, "USER_DISABLED", user.username, source_of(request), username)
        return _one(conn, gate, username)


@router.post("/v1/admin/users/{username}/enable", response_model=UserState, responses=problems(404))
def enable(username: UserName, request: Request, user: Manager, gate: GateDep) -> UserState:
    """A disabled user may sign in again."""
    now = gate.clock.now()
    with write_tx(gate.engine) as conn:
        _locked_row(conn, username)
        conn.execute(update(users).where(users.c.username == username).values(disabled_at=None))
        record_security_event(conn, now, "USER_ENABLED", user.username, source_of(request), username)
        return _one(conn, gate, username)


@router.post("/v1/admin/users/{username}/unlock", response_model=UserState, responses=problems(404))
def unlock(username: UserName, request: Request, user: Manager, gate: GateDep) -> UserState:
    """A locked-out user may sign in again now (the manager has confirmed who they are)."""
    now = gate.clock.now()
    with write_tx(gate.engine) as conn:
        _locked_row(conn, username)
        conn.execute(update(users).where(users.c.username == username).values(locked_until=None, failed_logins=0))
        record_security_event(conn, now, "USER_UNLOCKED", user.username, source_of(request), username)
        return _one(conn, gate, username)


@router.post("/v1/admin/users/{username}/reset-password", response_model=UserWithPassword, responses=problems(404))
def reset_password(username: UserName, request: Request, user: Manager, gate: GateDep) -> UserWithPassword:
    """A new one-time password (in this answer only); the old one stops working, every session of the
    user ends, and a lockout is lifted (the manager has confirmed who they are)."""
    now = gate.clock.now()
    password = auth.one_time_password()
    with write_tx(gate.engine) as conn:
        _locked_row(conn, username)
        conn.execute(
            update(users)
            .where(users.c.username == username)
            .values(
                password_hash=auth.hash_password(password),
                must_change_password=True,
                locked_until=None,
                failed_logins=0,
            )
        )
        auth.end_sessions(conn, username)
        record_security_event(conn, now, "PASSWORD_RESET", user.username, source_of(request), username)
        return UserWithPassword(user=_one(conn, gate, username), password=password)


@router.put("/v1/admin/users/{username}/role", response_model=UserState, responses=problems(404, 409))
def set_role(username: UserName, body: RoleChange, request: Request, user: Manager, gate: GateDep) -> UserState:
    """A user's new role; their sessions end (the next one carries the new role)."""
    now = gate.clock.now()
    with write_tx(gate.engine) as conn:
        managers = _enabled_managers(conn)
        row = _locked_row(conn, username)
        if row.role != body.role:
            _keep_a_manager(managers, row, "demote this one")
            conn.execute(update(users).where(users.c.username == username).values(role=body.role))
            auth.end_sessions(conn, username)
            record_security_event(
                conn,
                now,
                "ROLE_CHANGED",
                user.username,
                source_of(request),
                username,
                {"from": row.role, "to": body.role},
            )
        return _one(conn, gate, username)


@router.put("/v1/admin/users/{username}/team", response_model=UserState, responses=problems(404))
def set_team(username: UserName, body: TeamChange, request: Request, user: Manager, gate: GateDep) -> UserState:
    """A user's new team (the accounts they hold stay theirs until a supervisor moves them)."""
    now = gate.clock.now()
    with write_tx(gate.engine) as conn:
        row = _locked_row(conn, username)
        _ensure_team(conn, body.team)
        if row.team != body.team:
            conn.execute(update(users).where(users.c.username == username).values(team=body.team))
            record_security_event(
                conn,
                now,
                "TEAM_CHANGED",
                user.username,
                source_of(request),
                username,
                {"from": row.team, "to": body.team},
            )
        return _one(conn, gate, username)


def _team_list(conn: Connection) -> list[TeamInfo]:
    counts: dict[str, Counter[str]] = {}
    for team, who, n in conn.execute(
        select(users.c.team, users.c.role, func.count()).group_by(users.c.team, users.c.role)
    ):
        counts.setdefault(team, Counter())[who] = n
    return [
        TeamInfo(
            name=row.name, members=dict(sorted(counts.get(row.name, Counter()).items())), created_at=row.created_at
        )
        for row in conn.execute(select(teams).order_by(teams.c.name))
    ]


@router.get("/v1/admin/teams", response_model=list[TeamInfo], responses=PROBLEMS)
def team_list(user: Manager, gate: GateDep) -> list[TeamInfo]:
    """Every team, with how many people of each role it has."""
    with gate.engine.connect() as conn:
        return _team_list(conn)


@router.post("/v1/admin/teams", response_model=TeamInfo, status_code=201, responses=problems(409))
def team_add(body: TeamRequest, request: Request, user: Manager, gate: GateDep) -> TeamInfo:
    now = gate.clock.now()
    with write_tx(gate.engine) as conn:
        if conn.execute(select(teams.c.name).where(func.lower(teams.c.name) == body.name.lower())).first():
            raise ApiProblem(409, "TEAM_EXISTS", f"there is already a team {body.name}")
        auth.ensure_team(conn, body.name, now, user.username)
        record_security_event(conn, now, "TEAM_ADDED", user.username, source_of(request), body.name)
        return next(t for t in _team_list(conn) if t.name == body.name)


@router.post("/v1/admin/teams/{name}/rename", response_model=TeamInfo, responses=problems(404, 409))
def team_rename(name: TeamPath, body: TeamRequest, request: Request, user: Manager, gate: GateDep) -> TeamInfo:
    """The team's new name, for the team and every member of it at once."""
    now = gate.clock.now()
    new: TeamName = body.name
    with write_tx(gate.engine) as conn:
        row = conn.execute(select(teams).where(teams.c.name == name).with_for_update()).first()
        if row is None:
            raise ApiProblem(404, "UNKNOWN_TEAM", f"no team {name}")
        clash = conn.execute(
            select(teams.c.name).where(func.lower(teams.c.name) == new.lower(), teams.c.name != name)
        ).first()
        if clash is not None:
            raise ApiProblem(409, "TEAM_EXISTS", f"there is already a team {clash.name}")
        if new != name:
            conn.execute(update(teams).where(teams.c.name == name).values(name=new))
            conn.execute(update(users).where(users.c.team == name).values(team=new))
            record_security_event(conn, now, "TEAM_RENAMED", user.username, source_of(request), name, {"to": new})
        return next(t for t in _team_list(conn) if t.name == new)
