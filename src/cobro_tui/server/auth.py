"""Who is calling: people sign in with a password (Argon2id at OWASP's parameters, a lockout after
too many wrong ones, throttling per address) and get an opaque session token; machines (the
institution's feeds) present an integration key a manager made. Both are stored as hashes only."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from cobro_tui.api.models import PASSWORD_MIN
from cobro_tui.api.text import without_controls
from cobro_tui.domain.records import instant_text
from cobro_tui.server.schema import integration_keys, login_throttle, teams, tokens, users
from cobro_tui.server.security import record_security_event
from cobro_tui.settings import ServerSettings

# OWASP's Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 lane (about 25 ms here).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # hashes made before issue #14: still verified, re-hashed at sign-in
INTEGRATION_PREFIX = "cbi_"
INTEGRATION_SCOPES = ("payments", "portfolio", "export")
ROLES = ("agent", "supervisor", "manager", "auditor")  # a person's; `integration` is a machine credential's


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str
    team: str
    scopes: tuple[str, ...] = ()  # an integration credential's feeds


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


_DUMMY = hash_password("not a password anyone has")  # unknown users cost the same time


def _verify(password: str, stored: str) -> tuple[bool, bool]:
    """Whether the password matches, and whether its hash should be made again at today's parameters."""
    if stored.startswith("scrypt$"):
        try:
            _, salt, digest = stored.split("$")
            actual = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
        except ValueError:
            return False, False
        return hmac.compare_digest(actual.hex(), digest), True
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, _HASHER.check_needs_rehash(stored)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


PASSWORD_PROBLEMS = {
    "short": f"a password has at least {PASSWORD_MIN} characters",
    "is_username": "the password cannot be the user's name",
}


def password_problem(username: str, password: str) -> str | None:
    """What is wrong with a password a person chose: a key of PASSWORD_PROBLEMS (None: nothing)."""
    if len(password) < PASSWORD_MIN:
        return "short"
    if password.casefold() == username.casefold():
        return "is_username"
    return None


def ensure_team(conn: Connection, team: str, now: datetime | None = None, by: str | None = None) -> None:
    """The team's row, made when it is not there yet."""
    if conn.execute(select(teams.c.name).where(teams.c.name == team)).first() is None:
        conn.execute(insert(teams).values(name=team, created_at=instant_text(now) if now else None, created_by=by))


def add_user(
    conn: Connection,
    username: str,
    password: str,
    role: str,
    team: str = "norte",
    password_hash: str | None = None,
    *,
    must_change: bool = False,
    now: datetime | None = None,
) -> None:
    """A user of `team` (its row made if needed); `must_change`: the password is a one-time one."""
    ensure_team(conn, team, now)
    conn.execute(
        insert(users).values(
            username=username,
            password_hash=password_hash or hash_password(password),
            role=role,
            team=team,
            must_change_password=must_change,
            created_at=instant_text(now) if now else None,
        )
    )


def one_time_password() -> str:
    """A password for a person's first sign-in (or after a reset), to be changed then: 96 bits."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class SignIn:
    """What a sign-in came to: a user, or the code and message of its refusal."""

    user: User | None = None
    code: str = ""
    message: str = ""
    retry_after_s: int | None = None


def _throttled(conn: Connection, source: str | None, now: datetime, config: ServerSettings) -> int | None:
    """Seconds the address must wait, when it failed too often in the current window."""
    if source is None:
        return None
    row = conn.execute(select(login_throttle).where(login_throttle.c.source == source)).first()
    if row is None or row.failures < config.source_failures:
        return None
    ends = datetime.fromisoformat(row.window_start) + timedelta(minutes=config.source_window_minutes)
    return max(1, int((ends - now).total_seconds())) if ends > now else None


def _count_source_failure(conn: Connection, source: str | None, now: datetime, config: ServerSettings) -> None:
    if source is None:
        return
    row = conn.execute(select(login_throttle).where(login_throttle.c.source == source)).first()
    if row is None:
        conn.execute(insert(login_throttle).values(source=source, window_start=instant_text(now), failures=1))
    elif datetime.fromisoformat(row.window_start) + timedelta(minutes=config.source_window_minutes) <= now:
        conn.execute(
            update(login_throttle)
            .where(login_throttle.c.source == source)
            .values(window_start=instant_text(now), failures=1)
        )
    else:
        conn.execute(update(login_throttle).where(login_throttle.c.source == source).values(failures=row.failures + 1))


def sign_in(
    conn: Connection,
    username: str,
    password: str,
    now: datetime,
    source: str | None,
    config: ServerSettings,
    changing: bool = False,
) -> SignIn:
    """Check a password, counting failures per user (lockout) and per address (throttle); write what
    happened (the caller commits, whatever the outcome). A one-time password signs in only to be
    changed (`changing`); otherwise it is answered PASSWORD_CHANGE_REQUIRED."""
    wait = _throttled(conn, source, now, config)
    if wait is not None:
        record_security_event(conn, now, "LOGIN_THROTTLED", without_controls(username), source, None)
        return SignIn(
            code="TOO_MANY_ATTEMPTS",
            message="too many failed sign-ins from this address; wait and try again",
            retry_after_s=wait,
        )
    row = conn.execute(select(users).where(users.c.username == username)).first()
    ok, stale = _verify(password, row.password_hash if row is not None else _DUMMY)
    if row is None or not ok:
        _count_source_failure(conn, source, now, config)
        record_security_event(conn, now, "LOGIN_FAILED", without_controls(username), source, None)
        if row is not None:
            failures = row.failed_logins + 1
            values: dict[str, object] = {"failed_logins": failures}
            if failures >= config.lockout_failures and not _locked(row, now):
                values["locked_until"] = instant_text(now + timedelta(minutes=config.lockout_minutes))
                record_security_event(
                    conn,
                    now,
                    "LOCKED_OUT",
                    row.username,
                    source,
                    row.username,
                    {"failures": failures, "minutes": config.lockout_minutes},
                )
            conn.execute(update(users).where(users.c.username == row.username).values(**values))
        return SignIn(code="BAD_CREDENTIALS", message="wrong user or password")
    # The password is right: only now may the account's state be told (whoever knows the password).
    if row.disabled_at is not None:
        return SignIn(code="USER_DISABLED", message="this user is disabled; ask a manager")
    if _locked(row, now):
        return SignIn(
            code="LOCKED_OUT",
            message=f"too many wrong passwords: locked until {row.locked_until} (UTC), or until a manager unlocks it",
        )
    values = {"failed_logins": 0, "locked_until": None}
    if stale:
        values["password_hash"] = hash_password(password)
    if row.must_change_password and not changing:
        conn.execute(update(users).where(users.c.username == row.username).values(**values))
        return SignIn(
            code="PASSWORD_CHANGE_REQUIRED",
            message="this password was for one sign-in only: choose a new one (cobro-tui login asks for it)",
        )
    values["last_login_at"] = instant_text(now)
    conn.execute(update(users).where(users.c.username == row.username).values(**values))
    return SignIn(User(row.username, row.role, row.team))


def change_password(conn: Connection, username: str, password: str, now: datetime) -> None:
    """A new password the person chose (checked by the caller): the one-time flag cleared, every
    other session of theirs ended."""
    conn.execute(
        update(users)
        .where(users.c.username == username)
        .values(password_hash=hash_password(password), must_change_password=False, last_login_at=instant_text(now))
    )
    end_sessions(conn, username)


def _locked(row: object, now: datetime) -> bool:
    until = getattr(row, "locked_until", None)
    return until is not None and datetime.fromisoformat(until) > now


def issue_token(
    conn: Connection, user: User, now: datetime, config: ServerSettings, source: str | None = None
) -> tuple[str, datetime]:
    """A new opaque token (256 bits); beyond `sessions_per_user`, the user's oldest sessions end here."""
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=config.session_hours)
    conn.execute(delete(tokens).where(tokens.c.expires_at < instant_text(now)))
    held = (
        conn.execute(
            select(tokens.c.token_hash)
            .where(tokens.c.username == user.username)
            .order_by(tokens.c.created_at.desc(), tokens.c.expires_at.desc())
        )
        .scalars()
        .all()
    )
    ending = held[config.sessions_per_user - 1 :]
    if ending:
        conn.execute(delete(tokens).where(tokens.c.token_hash.in_(ending)))
    conn.execute(
        insert(tokens).values(
            token_hash=_token_hash(token),
            username=user.username,
            expires_at=instant_text(expires),
            created_at=instant_text(now),
            source=source,
        )
    )
    return token, expires


def revoke_token(conn: Connection, token: str) -> bool:
    return bool(conn.execute(delete(tokens).where(tokens.c.token_hash == _token_hash(token))).rowcount)


def end_sessions(conn: Connection, username: str) -> int:
    """Every session of a user, ended now (disabling, a password reset)."""
    return int(conn.execute(delete(tokens).where(tokens.c.username == username)).rowcount or 0)


def user_for_token(conn: Connection, token: str, now: datetime) -> User | None:
    if token.startswith(INTEGRATION_PREFIX):
        return _integration(conn, token, now)
    row = conn.execute(
        select(users.c.username, users.c.role, users.c.team, users.c.disabled_at, tokens.c.expires_at)
        .join(tokens, tokens.c.username == users.c.username)
        .where(tokens.c.token_hash == _token_hash(token))
    ).first()
    if row is None or row.disabled_at is not None or datetime.fromisoformat(row.expires_at) <= now:
        return None
    return User(row.username, row.role, row.team)


def new_integration_key(
    conn: Connection, name: str, scopes: tuple[str, ...], created_by: str, now: datetime
) -> tuple[str, str]:
    """A machine credential: its id, and the key to hand over (shown once; only its hash is kept)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        insert(integration_keys).values(
            id=key_id,
            name=name,
            scopes=" ".join(scopes),
            secret_hash=_token_hash(secret),
            created_by=created_by,
            created_at=instant_text(now),
        )
    )
    return key_id, f"{INTEGRATION_PREFIX}{key_id}_{secret}"


def _integration(conn: Connection, token: str, now: datetime) -> User | None:
    key_id, _, secret = token.removeprefix(INTEGRATION_PREFIX).partition("_")
    row = conn.execute(select(integration_keys).where(integration_keys.c.id == key_id)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _token_hash(secret)):
        return None
    return User(f"integration:{row.name}", "integration", "", tuple(row.scopes.split()))
