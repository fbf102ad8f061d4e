"""Users, password hashes (scrypt) and bearer tokens (stored hashed, never in clear)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from cobro_tui.server.schema import tokens, users

TOKEN_HOURS = 12
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str
    team: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    actual = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(actual.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(conn: Connection, username: str, password: str, role: str, team: str = "norte") -> None:
    conn.execute(insert(users).values(username=username, password_hash=hash_password(password), role=role, team=team))


def authenticate(conn: Connection, username: str, password: str) -> User | None:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    # Hash anyway when the user is unknown, so timing does not tell which usernames exist.
    stored = row.password_hash if row is not None else "scrypt$00$00"
    if not check_password(password, stored) or row is None:
        return None
    return User(row.username, row.role, row.team)


def issue_token(conn: Connection, user: User, now: datetime) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=TOKEN_HOURS)
    conn.execute(delete(tokens).where(tokens.c.expires_at < now.isoformat()))
    conn.execute(insert(tokens).values(token_hash=_token_hash(token), username=user.username, expires_at=expires.isoformat()))
    return token, expires


def user_for_token(conn: Connection, token: str, now: datetime) -> User | None:
    row = conn.execute(
        select(users.c.username, users.c.role, users.c.team, tokens.c.expires_at)
        .join(tokens, tokens.c.username == users.c.username)
        .where(tokens.c.token_hash == _token_hash(token))
    ).first()
    if row is None or datetime.fromisoformat(row.expires_at) <= now:
        return None
    return User(row.username, row.role, row.team)
