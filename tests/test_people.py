"""People through the API (issue #16): a manager adds users with one-time passwords and looks after
users and teams; every other role is refused; hostile names are refused clearly, never with a 500;
the last enabled manager stays, also against two managers acting at once (SQLite and PostgreSQL);
an auditor reads the evidence and is refused every write."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sync_support import NOW, auth_headers, integration_headers, running_server

from cobro_tui.clock import FixedClock
from cobro_tui.server import routes_people
from cobro_tui.server.app import create_app
from cobro_tui.server.run import ServerThread, free_port, prepare
from cobro_tui.server.schema import metadata, security_events, users
from cobro_tui.settings import ServerSettings

GOOD = "una-frase-larga-y-propia"
WHEN = "2026-11-22T16:30:00Z"  # NOW, as the API writes an instant


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple]:
    with running_server(tmp_path, accounts=20, seed=5, settings=ServerSettings(lockout_failures=3)) as running:
        yield running


def _manager(url: str) -> dict[str, str]:
    return auth_headers(url, "gerente01")


def _login(url: str, user: str, password: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/auth/login", json={"username": user, "password": password})


def _add(url: str, headers: dict[str, str], username: str, role: str = "agent", team: str = "norte") -> httpx.Response:
    return httpx.post(f"{url}/v1/admin/users", json={"username": username, "role": role, "team": team}, headers=headers)


def _person(url: str, manager: dict[str, str], username: str, role: str = "agent", team: str = "norte") -> str:
    """A new user who has changed their one-time password to GOOD; a bearer header of theirs."""
    made = _add(url, manager, username, role, team)
    assert made.status_code == 201, made.text
    changed = httpx.post(
        f"{url}/v1/auth/password",
        json={"username": username, "password": made.json()["password"], "new_password": GOOD},
    )
    assert changed.status_code == 200, changed.text
    return changed.json()["token"]


def _events(engine, code: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(security_events).where(security_events.c.code == code)).all()


def test_the_migrations_give_the_schema_the_server_code_uses(server) -> None:
    engine, _ = server
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_a_new_user_signs_in_once_with_the_one_time_password_and_chooses_their_own(server) -> None:
    engine, thread = server
    url, manager = thread.url, _manager(thread.url)
    team = httpx.post(f"{url}/v1/admin/teams", json={"name": "sur"}, headers=manager)
    assert team.status_code == 201 and team.json() == {"name": "sur", "members": {}, "created_at": WHEN}
    made = _add(url, manager, "ana.martinez", "agent", "sur")
    assert made.status_code == 201, made.text
    once = made.json()["password"]
    assert len(once) >= 12 and made.json()["user"] == {
        "username": "ana.martinez",
        "role": "agent",
        "team": "sur",
        "state": "enabled",
        "disabled": False,
        "locked_until": None,
        "failed_logins": 0,
        "must_change_password": True,
        "last_login_at": None,
        "created_at": WHEN,
    }
    with engine.connect() as conn:  # kept as a hash only, as every password
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == "ana.martinez")).scalar_one()
    assert once not in stored and stored.startswith("$argon2id$")
    refused = _login(url, "ana.martinez", once)
    assert refused.status_code == 403 and refused.json()["code"] == "PASSWORD_CHANGE_REQUIRED"
    change = f"{url}/v1/auth/password"
    for weak, problem in (("corta", "at least 12"), ("ANA.MARTINEZ", "user's name"), (once, "differ")):
        answer = httpx.post(change, json={"username": "ana.martinez", "password": once, "new_password": weak})
        assert answer.status_code == 422 and answer.json()["code"] == "WEAK_PASSWORD", weak
        assert problem in answer.json()["message"]
    wrong = httpx.post(change, json={"username": "ana.martinez", "password": "not-it", "new_password": GOOD})
    assert wrong.status_code == 401 and wrong.json()["code"] == "BAD_CREDENTIALS"
    changed = httpx.post(change, json={"username": "ana.martinez", "password": once, "new_password": GOOD})
    assert changed.status_code == 200 and changed.json()["role"] == "agent"
    assert _login(url, "ana.martinez", once).status_code == 401  # the one-time password is gone
    assert _login(url, "ana.martinez", GOOD).status_code == 200
    listed = {u["username"]: u for u in httpx.get(f"{url}/v1/admin/users", headers=manager).json()}
    assert listed["ana.martinez"]["must_change_password"] is False and listed["ana.martinez"]["last_login_at"] == WHEN
    teams = {t["name"]: t["members"] for t in httpx.get(f"{url}/v1/admin/teams", headers=manager).json()}
    assert teams["sur"] == {"agent": 1} and teams["norte"]["agent"] == 10
    assert [e.subject for e in _events(engine, "USER_ADDED")] == ["ana.martinez"]
    assert [e.subject for e in _events(engine, "PASSWORD_CHANGED")] == ["ana.martinez"]


def test_duplicates_are_409_and_unknown_users_and_teams_404(server) -> None:
    _, thread = server
    url, manager = thread.url, _manager(thread.url)
    for taken in ("agente01", "AGENTE01"):
        answer = _add(url, manager, taken)
        assert answer.status_code == 409 and answer.json()["code"] == "USER_EXISTS", taken
    answer = _add(url, manager, "nuevo", team="nowhere")
    assert answer.status_code == 404 and answer.json()["code"] == "UNKNOWN_TEAM"
    for verb, path, body in (
        ("POST", "disable", None),
        ("POST", "enable", None),
        ("POST", "unlock", None),
        ("POST", "reset-password", None),
        ("PUT", "role", {"role": "agent"}),
        ("PUT", "team", {"team": "norte"}),
    ):
        answer = httpx.request(verb, f"{url}/v1/admin/users/nadie/{path}", json=body, headers=manager)
        assert answer.status_code == 404 and answer.json()["code"] == "UNKNOWN_USER", path
    moved = httpx.put(f"{url}/v1/admin/users/agente01/team", json={"team": "nowhere"}, headers=manager)
    assert moved.status_code == 404 and moved.json()["code"] == "UNKNOWN_TEAM"
    assert httpx.post(f"{url}/v1/admin/teams", json={"name": "Norte"}, headers=manager).json()["code"] == "TEAM_EXISTS"
    assert httpx.post(f"{url}/v1/admin/teams", json={"name": "oeste"}, headers=manager).status_code == 201
    rename = f"{url}/v1/admin/teams/oeste/rename"
    answer = httpx.post(rename, json={"name": "norte"}, headers=manager)
    assert answer.status_code == 409 and answer.json()["code"] == "TEAM_EXISTS"
    answer = httpx.post(f"{url}/v1/admin/teams/nowhere/rename", json={"name": "x"}, headers=manager)
    assert answer.status_code == 404 and answer.json()["code"] == "UNKNOWN_TEAM"


HOSTILE = [
    "",
    " ",
    "\x1b[31mrojo",
    "ana\nsur",
    "ana\x00",
    "\u202eevil",
    "ñandú",
    "a/b",
    "..",
    "-lead",
    "x" * 65,
    "x" * 100_000,
]


def test_hostile_user_and_team_names_get_a_clear_422_never_a_500(server) -> None:
    _, thread = server
    url, manager = thread.url, _manager(thread.url)
    answers = []
    for name in HOSTILE:
        answers.append(_add(url, manager, name))
        answers.append(_add(url, manager, "bien", team=name[:100_000]))
        answers.append(httpx.post(f"{url}/v1/admin/teams", json={"name": name}, headers=manager))
        answers.append(httpx.post(f"{url}/v1/admin/teams/norte/rename", json={"name": name}, headers=manager))
        answers.append(httpx.put(f"{url}/v1/admin/users/agente01/team", json={"team": name}, headers=manager))
        answers.append(httpx.put(f"{url}/v1/admin/users/agente01/role", json={"role": name}, headers=manager))
        # A password change answers a name it does not know as a sign-in does (401), a body that is not one 422.
        for body in ({"username": name, "password": "x", "new_password": GOOD}, {"username": "agente01"}):
            answer = httpx.post(f"{url}/v1/auth/password", json=body)
            assert answer.status_code in (401, 422) and "\x1b" not in answer.text, answer.text[:200]
    for answer in answers:
        assert answer.status_code == 422, (answer.request.url, answer.text[:200])
        problem = answer.json()
        assert problem["code"] == "MALFORMED_REQUEST" and len(problem["message"]) <= 500
        assert not re.search(r"[\x00-\x1f\x7f\u202e]", problem["message"])
    for name in HOSTILE[1:-1]:  # in the path: refused, or no such route; never reaching a user
        for verb, tail in (("POST", "disable"), ("POST", "reset-password"), ("PUT", "role")):
            answer = httpx.request(
                verb, f"{url}/v1/admin/users/{quote(name, safe='')}/{tail}", json={"role": "agent"}, headers=manager
            )
            assert answer.status_code in (404, 405, 422), (name, tail, answer.text[:200])
        answer = httpx.post(f"{url}/v1/admin/teams/{quote(name, safe='')}/rename", json={"name": "ok"}, headers=manager)
        assert answer.status_code in (404, 405, 422), (name, answer.text[:200])
    assert httpx.get(f"{url}/v1/admin/users/{'x' * 60_000}/disable", headers=manager).status_code < 500
    integration = httpx.post(
        f"{url}/v1/admin/users", json={"username": "bot", "role": "integration", "team": "norte"}, headers=manager
    )
    assert integration.status_code == 422  # a machine gets an integration credential, not a password


def _people_routes() -> list[tuple[str, str]]:
    return sorted(
        (method, re.sub(r"\{[^}]+\}", "x", getattr(route, "path", "")))
        for route in routes_people.router.routes
        for method in getattr(route, "methods", ())
    )


def test_only_a_manager_looks_after_people(server) -> None:
    _, thread = server
    url = thread.url
    routes = _people_routes()
    assert len(routes) == 11
    attackers = {
        "agent": auth_headers(url, "agente01"),
        "supervisor": auth_headers(url, "supervisor01"),
        "auditor": auth_headers(url, "auditor01"),
        "integration": integration_headers(url, ("payments", "portfolio", "export")),
    }
    bodies = {"username": "intruso", "role": "manager", "team": "norte", "name": "intrusos"}
    for method, path in routes:
        path = path.replace("/x", "/agente02" if "users" in path else "/norte")
        assert httpx.request(method, f"{url}{path}", json=bodies).status_code == 401, path
        for who, headers in attackers.items():
            answer = httpx.request(method, f"{url}{path}", json=bodies, headers=headers)
            assert answer.status_code == 403 and answer.json()["code"] == "MANAGERS_ONLY", (who, method, path)
    # Nothing an attacker sent changed anyone.
    listed = {u["username"]: u for u in httpx.get(f"{url}/v1/admin/users", headers=_manager(url)).json()}
    assert (
        "intruso" not in listed and listed["agente02"]["state"] == "enabled" and listed["agente02"]["role"] == "agent"
    )
    assert _login(url, "agente02", "demo").status_code == 200


def test_disabling_ends_the_sessions_and_every_change_is_a_security_event(server) -> None:
    engine, thread = server
    url, manager = thread.url, _manager(thread.url)
    agent = auth_headers(url, "agente03")
    assert httpx.get(f"{url}/v1/snapshot", headers=agent).status_code == 200
    disabled = httpx.post(f"{url}/v1/admin/users/agente03/disable", headers=manager).json()
    assert disabled["state"] == "disabled" and disabled["disabled"] is True
    assert httpx.get(f"{url}/v1/snapshot", headers=agent).status_code == 401  # that session ended
    assert _login(url, "agente03", "demo").json()["code"] == "USER_DISABLED"
    assert httpx.post(f"{url}/v1/admin/users/agente03/enable", headers=manager).json()["state"] == "enabled"
    # Locked out by wrong passwords, unlocked by the manager.
    for _ in range(3):
        _login(url, "agente04", "wrong")
    assert httpx.get(f"{url}/v1/admin/users", headers=manager).json()[3]["state"] == "locked"
    assert httpx.post(f"{url}/v1/admin/users/agente04/unlock", headers=manager).json()["state"] == "enabled"
    # A reset: a new one-time password, the old one and every session gone.
    agent = auth_headers(url, "agente05")
    reset = httpx.post(f"{url}/v1/admin/users/agente05/reset-password", headers=manager).json()
    assert reset["user"]["must_change_password"] is True
    assert httpx.get(f"{url}/v1/snapshot", headers=agent).status_code == 401
    assert _login(url, "agente05", "demo").status_code == 401
    assert _login(url, "agente05", reset["password"]).json()["code"] == "PASSWORD_CHANGE_REQUIRED"
    # Role and team: sessions end at a new role; both are audited with what they were.
    agent = auth_headers(url, "agente06")
    promoted = httpx.put(f"{url}/v1/admin/users/agente06/role", json={"role": "supervisor"}, headers=manager)
    assert promoted.json()["role"] == "supervisor"
    assert httpx.get(f"{url}/v1/snapshot", headers=agent).status_code == 401
    assert _login(url, "agente06", "demo").json()["role"] == "supervisor"
    httpx.post(f"{url}/v1/admin/teams", json={"name": "sur"}, headers=manager).raise_for_status()
    moved = httpx.put(f"{url}/v1/admin/users/agente07/team", json={"team": "sur"}, headers=manager)
    assert moved.json()["team"] == "sur"
    south = httpx.get(f"{url}/v1/team", params={"team": "sur"}, headers=manager).json()
    assert [a["agent"] for a in south["agents"]] == ["agente07"]
    renamed = httpx.post(f"{url}/v1/admin/teams/sur/rename", json={"name": "sur-2"}, headers=manager)
    assert renamed.json() == {"name": "sur-2", "members": {"agent": 1}, "created_at": WHEN}
    listed = {u["username"]: u for u in httpx.get(f"{url}/v1/admin/users", headers=manager).json()}
    assert listed["agente07"]["team"] == "sur-2"
    found = {
        code: [(e.actor, e.subject, e.details) for e in _events(engine, code)]
        for code in ("USER_DISABLED", "USER_ENABLED", "USER_UNLOCKED", "PASSWORD_RESET", "ROLE_CHANGED", "TEAM_CHANGED")
    }
    assert found["USER_DISABLED"] == [("gerente01", "agente03", None)]
    assert found["ROLE_CHANGED"] == [("gerente01", "agente06", '{"from":"agent","to":"supervisor"}')]
    assert found["TEAM_CHANGED"] == [("gerente01", "agente07", '{"from":"norte","to":"sur"}')]
    assert all(found.values())
    assert [(e.subject, e.details) for e in _events(engine, "TEAM_RENAMED")] == [("sur", '{"to":"sur-2"}')]
    # The auditor reads these events (evidence) like every reviewer.
    read = httpx.get(f"{url}/v1/security-events", headers=auth_headers(url, "auditor01"))
    assert read.status_code == 200 and "ROLE_CHANGED" in {e["code"] for e in read.json()}


def test_the_team_screen_data_says_each_agents_state_and_when_the_server_last_saw_them(server) -> None:
    _, thread = server
    url, manager = thread.url, _manager(thread.url)
    auth_headers(url, "agente01")
    httpx.post(f"{url}/v1/admin/users/agente02/disable", headers=manager).raise_for_status()
    for _ in range(3):
        _login(url, "agente03", "wrong")
    agents = {a["agent"]: a for a in httpx.get(f"{url}/v1/team", headers=manager).json()["agents"]}
    assert agents["agente01"]["state"] == "enabled" and agents["agente01"]["seen_at"] == WHEN
    assert agents["agente02"]["state"] == "disabled" and agents["agente03"]["state"] == "locked"
    assert agents["agente04"]["seen_at"] is None


def test_the_last_enabled_manager_is_neither_disabled_nor_demoted(server) -> None:
    _, thread = server
    url, manager = thread.url, _manager(thread.url)
    demoted = httpx.put(f"{url}/v1/admin/users/gerente01/role", json={"role": "supervisor"}, headers=manager)
    assert demoted.status_code == 409 and demoted.json()["code"] == "LAST_MANAGER"
    assert httpx.post(f"{url}/v1/admin/users/gerente01/disable", headers=manager).json()["code"] == "SELF"
    second = {"Authorization": f"Bearer {_person(url, manager, 'gerente02', 'manager')}"}
    gone = httpx.post(f"{url}/v1/admin/users/gerente01/disable", headers=second)
    assert gone.status_code == 200 and gone.json()["state"] == "disabled"
    answer = httpx.put(f"{url}/v1/admin/users/gerente02/role", json={"role": "agent"}, headers=second)
    assert answer.status_code == 409 and answer.json()["code"] == "LAST_MANAGER"
    # A disabled manager does not count: enabling gerente01 again makes demoting gerente02 possible.
    httpx.post(f"{url}/v1/admin/users/gerente01/enable", headers=second).raise_for_status()
    assert httpx.put(f"{url}/v1/admin/users/gerente02/role", json={"role": "agent"}, headers=second).status_code == 200


def _race(url: str, sessions: dict[str, dict[str, str]], tail: str, body: dict | None) -> dict[str, httpx.Response]:
    """gerente01 and gerente02 each send the same change about the other, released at one barrier."""
    barrier, answers = threading.Barrier(2), {}

    def attempt(actor: str, target: str) -> None:
        barrier.wait()
        answers[actor] = httpx.request(
            "POST" if body is None else "PUT",
            f"{url}/v1/admin/users/{target}/{tail}",
            json=body,
            headers=sessions[actor],
        )

    threads = [
        threading.Thread(target=attempt, args=("gerente01", "gerente02")),
        threading.Thread(target=attempt, args=("gerente02", "gerente01")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _two_managers_at_once(url: str, rounds: int) -> None:
    """gerente01 and gerente02 each disable (or demote) the other at the same instant, `rounds` times:
    one wins, the other is refused (LAST_MANAGER, or its session ended first), one manager is left."""
    first = _manager(url)
    second = {"Authorization": f"Bearer {_person(url, first, 'gerente02', 'manager')}"}
    sessions = {"gerente01": first, "gerente02": second}
    for turn in range(rounds):
        answers = _race(url, sessions, *(("disable", None) if turn % 2 == 0 else ("role", {"role": "agent"})))
        statuses = sorted(a.status_code for a in answers.values())
        assert statuses[0] == 200 and statuses[1] in (401, 409), [a.text for a in answers.values()]
        winner = next(actor for actor, a in answers.items() if a.status_code == 200)
        loser = "gerente02" if winner == "gerente01" else "gerente01"
        listed = {u["username"]: u for u in httpx.get(f"{url}/v1/admin/users", headers=sessions[winner]).json()}
        enabled = [n for n, u in listed.items() if u["role"] == "manager" and u["state"] == "enabled"]
        assert enabled == [winner]
        # The loser comes back as an enabled manager for the next round.
        back = sessions[winner]
        httpx.post(f"{url}/v1/admin/users/{loser}/enable", headers=back).raise_for_status()
        httpx.put(f"{url}/v1/admin/users/{loser}/role", json={"role": "manager"}, headers=back).raise_for_status()
        password = "demo" if loser == "gerente01" else GOOD
        sessions[loser] = auth_headers(url, loser, password)


def test_two_managers_disabling_each_other_at_once_leave_one_on_sqlite(server) -> None:
    _two_managers_at_once(server[1].url, rounds=4)


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("initdb") is None and not os.environ.get("CI"),
    reason="needs PostgreSQL's server tools (initdb, pg_ctl); .ci/run installs them, so CI always runs this",
)
def test_two_managers_disabling_each_other_at_once_leave_one_on_postgresql() -> None:
    from support.postgres import postgres_cluster

    with postgres_cluster(free_port()) as db_url:
        engine = prepare(db_url, FixedClock(NOW), demo_accounts=10, seed=5)
        try:
            with ServerThread(engine, FixedClock(NOW)) as thread:
                _two_managers_at_once(thread.url, rounds=6)
        finally:
            engine.dispose()


def test_an_auditor_reads_the_evidence_and_is_refused_every_write(server) -> None:
    """Every non-GET route of the app, found from app.routes (a new one is covered the day it is added)."""
    from test_roles import _allowed_roles, _api_routes

    engine, thread = server
    url = thread.url
    app = create_app(engine, FixedClock(NOW))
    writes = sorted(
        (method, re.sub(r"\{[^}]+\}", "x", route.path), _allowed_roles(route.dependant))
        for route in _api_routes(app)
        for method in route.methods or ()
        if method not in ("GET", "HEAD")
    )
    no_token = {path for _, path, roles in writes if roles is None}
    assert no_token == {"/v1/auth/login", "/v1/auth/password"}  # the auditor's token means nothing there
    auditor = auth_headers(url, "auditor01")
    refused = 0
    for method, path, roles in writes:
        if roles is None or path == "/v1/auth/logout":
            continue
        answer = httpx.request(method, f"{url}{path}", json={}, headers=auditor)
        assert answer.status_code == 403, (method, path, answer.text)
        refused += 1
    assert refused == len(writes) - 3 and refused >= 20
    # Reads of the evidence: the security events, the workstations' audit chains, the exceptions.
    for path in ("/v1/security-events", "/v1/audit/devices"):
        assert httpx.get(f"{url}{path}", headers=auditor).status_code == 200, path
    assert httpx.post(f"{url}/v1/auth/logout", headers=auditor).status_code == 204
