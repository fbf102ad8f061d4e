"""Sessions a bank's security review accepts (issue #14): a lockout after too many wrong passwords,
throttling per address, logout and disabling that end tokens on the server, a token lifetime, hashes
at today's parameters, and machine credentials made and revoked by a manager."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sync_support import NOW, auth_headers, integration_headers, running_server

from cobro_tui.server.auth import _SCRYPT
from cobro_tui.server.db import write_tx
from cobro_tui.server.schema import security_events, users
from cobro_tui.settings import ServerSettings


@dataclass
class MovingClock:
    """The server's clock, moved by the test (lockouts and tokens end with time)."""

    instant: datetime = NOW

    def now(self) -> datetime:
        return self.instant


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
def server(tmp_path: Path, clock: MovingClock) -> Iterator:
    settings = ServerSettings(
        lockout_failures=10, lockout_minutes=30, source_failures=40, session_hours=8, sessions_per_user=2
    )
    with running_server(tmp_path, accounts=20, seed=5, clock=clock, settings=settings) as running:
        yield running


def _login(url: str, user: str, password: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/auth/login", json={"username": user, "password": password})


def test_ten_wrong_passwords_lock_the_user_until_time_or_a_manager_unlocks(server, clock: MovingClock) -> None:
    url = server[1].url
    for _ in range(9):
        assert _login(url, "agente01", "wrong").status_code == 401
    assert _login(url, "agente01", "demo").status_code == 200  # a right one in time resets the count
    answers = [_login(url, "agente01", "wrong") for _ in range(10)]
    assert {a.json()["code"] for a in answers} == {"BAD_CREDENTIALS"}  # the same answer, locked or not
    locked = _login(url, "agente01", "demo")
    assert locked.status_code == 403 and locked.json()["code"] == "LOCKED_OUT"  # told only with the right password
    assert _login(url, "agente02", "demo").status_code == 200  # the lockout is the user's, not the floor's
    manager = auth_headers(url, "gerente01")
    listed = {u["username"]: u for u in httpx.get(f"{url}/v1/admin/users", headers=manager).json()}
    assert listed["agente01"]["locked_until"] is not None and listed["agente01"]["failed_logins"] == 10
    assert (
        httpx.post(f"{url}/v1/admin/users/agente01/unlock", headers=auth_headers(url, "supervisor01")).status_code
        == 403
    )
    assert httpx.post(f"{url}/v1/admin/users/agente01/unlock", headers=manager).json()["locked_until"] is None
    assert _login(url, "agente01", "demo").status_code == 200
    for _ in range(10):
        _login(url, "agente01", "wrong")
    assert _login(url, "agente01", "demo").status_code == 403
    clock.instant += timedelta(minutes=31)  # or by time
    assert _login(url, "agente01", "demo").status_code == 200
    with server[0].connect() as conn:
        codes = [r.code for r in conn.execute(select(security_events).where(security_events.c.actor == "agente01"))]
    assert codes.count("LOCKED_OUT") == 2 and "LOGIN_FAILED" in codes


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(server) -> None:
    url = server[1].url
    unknown, wrong = _login(url, "nadie", "demo"), _login(url, "agente03", "nope")
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())


def test_an_address_that_fails_too_often_waits(server) -> None:
    url = server[1].url
    for n in range(40):
        assert _login(url, f"probe{n}", "guess").status_code == 401
    throttled = _login(url, "agente04", "demo")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert throttled.json()["code"] == "TOO_MANY_ATTEMPTS"


def test_logout_ends_the_session_on_the_server(server) -> None:
    url = server[1].url
    headers = auth_headers(url, "agente01")
    assert httpx.get(f"{url}/v1/changes", headers=headers).status_code == 200
    assert httpx.post(f"{url}/v1/auth/logout", headers=headers).status_code == 204
    assert httpx.get(f"{url}/v1/changes", headers=headers).status_code == 401
    assert httpx.post(f"{url}/v1/auth/logout", headers=headers).status_code == 401


def test_disabling_a_user_ends_every_session_at_once(server) -> None:
    url = server[1].url
    first, second = auth_headers(url, "agente05"), auth_headers(url, "agente05")
    manager = auth_headers(url, "gerente01")
    assert httpx.post(f"{url}/v1/admin/users/agente05/disable", headers=manager).json()["disabled"] is True
    for headers in (first, second):
        assert httpx.get(f"{url}/v1/changes", headers=headers).status_code == 401
    refused = _login(url, "agente05", "demo")
    assert refused.status_code == 403 and refused.json()["code"] == "USER_DISABLED"
    assert httpx.post(f"{url}/v1/admin/users/gerente01/disable", headers=manager).json()["code"] == "SELF"
    assert httpx.post(f"{url}/v1/admin/users/nadie/disable", headers=manager).status_code == 404
    httpx.post(f"{url}/v1/admin/users/agente05/enable", headers=manager).raise_for_status()
    assert _login(url, "agente05", "demo").status_code == 200


def test_a_token_lives_the_configured_hours_and_a_user_holds_so_many_sessions(server, clock: MovingClock) -> None:
    url = server[1].url
    answer = _login(url, "agente06", "demo").json()
    assert datetime.fromisoformat(answer["expires_at"]) == NOW + timedelta(hours=8)
    oldest = {"Authorization": f"Bearer {answer['token']}"}
    clock.instant += timedelta(minutes=1)
    second = auth_headers(url, "agente06")
    clock.instant += timedelta(minutes=1)
    third = auth_headers(url, "agente06")  # sessions_per_user=2: the oldest ends
    assert httpx.get(f"{url}/v1/changes", headers=oldest).status_code == 401
    assert httpx.get(f"{url}/v1/changes", headers=second).status_code == 200
    clock.instant = NOW + timedelta(hours=8, minutes=1)
    assert httpx.get(f"{url}/v1/changes", headers=third).status_code == 200
    clock.instant += timedelta(minutes=1)
    assert httpx.get(f"{url}/v1/changes", headers=third).status_code == 401


def test_an_older_password_hash_is_made_again_at_todays_parameters(server) -> None:
    import hashlib

    engine, thread = server
    salt = b"0123456789abcdef"
    legacy = f"scrypt${salt.hex()}${hashlib.scrypt(b'demo', salt=salt, **_SCRYPT).hex()}"
    with write_tx(engine) as conn:
        conn.execute(update(users).where(users.c.username == "agente07").values(password_hash=legacy))
    assert _login(thread.url, "agente07", "demo").status_code == 200
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == "agente07")).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert _login(thread.url, "agente07", "demo").status_code == 200


def test_integration_credentials_are_a_managers_to_make_and_revoke(server) -> None:
    url = server[1].url
    body = {"name": "core-pagos", "scopes": ["payments"]}
    for person in ("agente01", "supervisor01", "auditor01"):
        assert (
            httpx.post(f"{url}/v1/admin/integrations", json=body, headers=auth_headers(url, person)).status_code == 403
        )
    manager = auth_headers(url, "gerente01")
    bad = httpx.post(f"{url}/v1/admin/integrations", json={"name": "x", "scopes": ["everything"]}, headers=manager)
    assert bad.status_code == 422
    feed = integration_headers(url)
    listed = httpx.get(f"{url}/v1/admin/integrations", headers=manager).json()
    assert [i["scopes"] for i in listed] == [["payments"]] and all(i["key"] is None for i in listed)
    # A machine is no person: it syncs nothing, reviews nothing, and signs out of nothing.
    for method, path in (("GET", "/v1/changes"), ("GET", "/v1/approvals"), ("POST", "/v1/auth/logout")):
        assert httpx.request(method, f"{url}{path}", headers=feed).status_code == 403
    revoked = httpx.delete(f"{url}/v1/admin/integrations/{listed[0]['id']}", headers=manager).json()
    assert revoked["revoked_at"] is not None
    payment = {
        "id": "p1",
        "account_id": "a",
        "amount_centavos": 100,
        "paid_on": NOW.date().isoformat(),
        "channel": "spei",
        "reference": "R",
    }
    assert httpx.post(f"{url}/v1/payments", json=payment, headers=feed).status_code == 401
    forged = {"Authorization": f"Bearer cbi_{listed[0]['id']}_guess"}
    assert httpx.post(f"{url}/v1/payments", json=payment, headers=forged).status_code == 401


def test_two_servers_in_one_process_keep_their_own_sessions_clock_and_settings(tmp_path: Path) -> None:
    """Each app reads its database, clock and settings from its own state: nothing of one reaches the other."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    later = MovingClock(NOW + timedelta(days=1))
    eight, two = ServerSettings(session_hours=8), ServerSettings(session_hours=2)
    with (
        running_server(tmp_path / "a", accounts=5, seed=1, settings=eight) as (_, a),
        running_server(tmp_path / "b", accounts=5, seed=2, clock=later, settings=two) as (_, b),
    ):
        on_a, on_b = _login(a.url, "agente01", "demo").json(), _login(b.url, "agente01", "demo").json()
        assert datetime.fromisoformat(on_a["expires_at"]) == NOW + timedelta(hours=8)
        assert datetime.fromisoformat(on_b["expires_at"]) == later.instant + timedelta(hours=2)
        token_of_a = {"Authorization": f"Bearer {on_a['token']}"}
        assert httpx.get(f"{a.url}/v1/changes", headers=token_of_a).status_code == 200
        refused = httpx.get(f"{b.url}/v1/changes", headers=token_of_a)
        assert (refused.status_code, refused.json()["code"]) == (401, "TOKEN_INVALID")
