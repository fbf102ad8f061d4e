"""Roles enforced by the server (issue #7): an agent's token is refused every supervisor endpoint and
other agents' accounts; a supervisor reviews only their own team; a manager reviews every team."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import fastapi.routing
import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from sync_support import NOW, auth_headers, make_station, running_server

from cobro_tui.clock import FixedClock
from cobro_tui.policy import Policy
from cobro_tui.server.app import create_app
from cobro_tui.server.auth import add_user
from cobro_tui.server.db import write_tx
from cobro_tui.server.schema import entities, users
from cobro_tui.sync.client import ApiClient


@pytest.fixture
def server(tmp_path: Path) -> Iterator:
    with running_server(tmp_path, accounts=40, seed=21) as (engine, thread):
        with write_tx(
            engine
        ) as conn:  # a second team: one agent and its supervisor (the demo's manager, gerente01, reviews both)
            add_user(conn, "agente_sur", "demo", "agent", team="sur")
            add_user(conn, "supervisor_sur", "demo", "supervisor", team="sur")
        yield engine, thread


def _api_routes(app) -> list[APIRoute]:
    """Every path operation of the app, through its included routers (FastAPI 0.137 and later keep
    them as a tree in `app.routes`; before, their routes were copied there)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = [c.original_route for c in contexts(app.routes)] if contexts else app.routes
    return [route for route in routes if isinstance(route, APIRoute)]


def _allowed_roles(dependant) -> tuple[str, ...] | None:
    """The roles the route's guard lets through (None: no guard)."""
    for d in dependant.dependencies:
        found = getattr(d.call, "allowed_roles", None) or _allowed_roles(d)
        if found:
            return found
    return None


def _supervisor_routes(engine) -> list[tuple[str, str]]:
    app = create_app(engine, FixedClock(NOW))
    found = [
        (method, re.sub(r"\{[^}]+\}", "x", route.path))
        for route in _api_routes(app)
        if _allowed_roles(route.dependant) == ("supervisor", "manager")
        for method in route.methods or ()
    ]
    return sorted(found)


def test_an_agents_token_is_refused_every_supervisor_endpoint(server) -> None:
    engine, thread = server
    routes = _supervisor_routes(engine)
    # Every review surface is behind the supervisor check (a new endpoint is covered by being found here).
    assert {path for _, path in routes} >= {
        "/v1/approvals",
        "/v1/approvals/x",
        "/v1/compliance-exceptions",
        "/v1/compliance-exceptions/x",
        "/v1/accounts/x/assignment",
        "/v1/team",
        "/v1/team/agents/x/accounts",
        "/v1/workstations",
        "/v1/kpi",
        "/v1/kpi/portfolio",
    }
    agent = auth_headers(thread.url, "agente01")
    params = {"since": (NOW - timedelta(days=1)).isoformat()}
    for method, path in routes:
        answer = httpx.request(method, f"{thread.url}{path}", params=params, json={}, headers=agent)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["code"] == "SUPERVISORS_ONLY"
        assert httpx.request(method, f"{thread.url}{path}", params=params, json={}).status_code == 401


def test_an_agent_cannot_read_or_work_another_agents_accounts(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    engine, thread = server
    station = make_station(tmp_path, "one", thread.url, "agente01", clock, policy)
    assert station.round().ok
    with engine.connect() as conn:
        theirs = set(
            conn.execute(
                select(entities.c.id).where(entities.c.kind == "account", entities.c.agent == "agente02")
            ).scalars()
        )
    assert theirs and not theirs & {a for a, _ in station.accounts()}  # nothing of agente02's reached agente01's cache
    token = ApiClient(thread.url).login("agente01", "demo")["token"]
    api = ApiClient(thread.url, token, station.device.device_id)
    pages = [api.snapshot_text(None, 20000), json.dumps(api.changes(None, 1000))]
    assert all(account in pages[0] for account, _ in station.accounts())  # their own are there...
    assert not [account for account in theirs for page in pages if account in page]  # ...not one id of another's
    assert (
        httpx.get(
            f"{thread.url}/v1/accounts/{sorted(theirs)[0]}/assignment", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 403
    )


def test_a_supervisor_reviews_only_their_team_and_a_manager_every_team(server) -> None:
    engine, thread = server
    with write_tx(engine) as conn:  # one account of team norte moves to the south agent
        moved = (
            conn.execute(
                select(entities.c.id)
                .where(entities.c.kind == "account", entities.c.agent == "agente03")
                .order_by(entities.c.id)
            )
            .scalars()
            .first()
        )
        conn.execute(entities.update().where(entities.c.account_id == moved).values(agent="agente_sur"))
        assert conn.execute(select(users.c.team).where(users.c.username == "supervisor01")).scalar() == "norte"
    north, south, manager = (auth_headers(thread.url, u) for u in ("supervisor01", "supervisor_sur", "gerente01"))
    url = thread.url
    assert [a["agent"] for a in httpx.get(f"{url}/v1/team", headers=south).json()["agents"]] == ["agente_sur"]
    assert "agente_sur" not in [a["agent"] for a in httpx.get(f"{url}/v1/team", headers=north).json()["agents"]]
    refused = httpx.get(f"{url}/v1/team", params={"team": "norte"}, headers=south)
    assert refused.status_code == 403 and refused.json()["code"] == "OTHER_TEAM"
    since = {"since": (NOW - timedelta(days=7)).isoformat()}
    assert httpx.get(f"{url}/v1/kpi", params={**since, "team": "sur"}, headers=north).status_code == 403
    assert httpx.get(f"{url}/v1/kpi", params=since, headers=south).json()["agents"] == ["agente_sur"]
    assert httpx.get(f"{url}/v1/kpi/portfolio", params={**since, "team": "norte"}, headers=south).status_code == 403
    everyone = httpx.get(f"{url}/v1/kpi", params=since, headers=manager).json()["agents"]
    assert "agente_sur" in everyone and "agente01" in everyone
    assert httpx.get(f"{url}/v1/kpi", params={**since, "team": "sur"}, headers=manager).json()["agents"] == [
        "agente_sur"
    ]
    # Accounts: the south supervisor reads the south account, not the north ones, and cannot move either way.
    where = f"{url}/v1/accounts/{moved}/assignment"
    etag = httpx.get(where, headers=south).headers["ETag"]
    assert httpx.get(where, headers=north).status_code == 403
    north_account = httpx.get(f"{url}/v1/team/agents/agente01/accounts", headers=north).json()["accounts"][0][
        "account_id"
    ]
    assert httpx.get(f"{url}/v1/accounts/{north_account}/assignment", headers=south).status_code == 403
    assert httpx.get(f"{url}/v1/team/agents/agente01/accounts", headers=south).status_code == 403
    taken = httpx.put(where, json={"agent": "agente01"}, headers={**south, "If-Match": etag})
    assert taken.status_code == 403 and taken.json()["code"] == "OTHER_TEAM"
    given = httpx.put(where, json={"agent": "agente01"}, headers={**manager, "If-Match": etag})
    assert given.status_code == 200 and given.json()["agent"] == "agente01"


async def test_a_manager_moves_the_team_screens_through_every_team_and_a_supervisor_cannot(
    tmp_path: Path,
    server,
) -> None:
    from textual.widgets import DataTable, Static
    from ui_support import supervisor_app, wait_for

    from cobro_tui.ui.screens.dashboard import DashboardScreen
    from cobro_tui.ui.screens.team import TeamScreen

    _, thread = server
    url = thread.url
    assert httpx.get(f"{url}/v1/teams", headers=auth_headers(url, "supervisor01")).json() == ["norte"]
    assert httpx.get(f"{url}/v1/teams", headers=auth_headers(url, "gerente01")).json() == ["norte", "sur"]
    app = supervisor_app(url, tmp_path, "gerente01")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.teams == ["norte", "sur"])
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.view is not None)
        screen = app.screen
        heading = screen.query_one("#team-heading", Static)
        assert screen.query_one(DataTable).row_count == 11 and "todos" in str(heading.render())  # every team's agents
        assert "g Otro equipo" in str(screen.query_one("#key-bar", Static).render())
        await pilot.press("g")
        await wait_for(pilot, lambda: "equipo norte" in str(heading.render()))
        assert screen.query_one(DataTable).row_count == 10
        await pilot.press("g")
        await wait_for(pilot, lambda: "equipo sur" in str(heading.render()))
        assert [r.value for r in screen.query_one(DataTable).rows] == ["agente_sur"]
        await pilot.press("escape", "k")  # the dashboard keeps the team chosen
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.kpi is not None)
        assert app.screen.kpi["agents"] == ["agente_sur"] and app.screen.kpi["team"] == "sur"
        assert "equipo sur" in str(app.screen.query_one("#dashboard-kpi", Static).render())
        await pilot.press("g")  # back to every team
        await wait_for(pilot, lambda: app.screen.kpi["team"] is None and len(app.screen.kpi["agents"]) == 11)
    app = supervisor_app(url, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.teams == ["norte"])
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.view is not None)
        assert "equipo norte" in str(app.screen.query_one("#team-heading", Static).render())
        assert "Otro equipo" not in str(app.screen.query_one("#key-bar", Static).render())  # one team: no key to move
        await pilot.press("g")
        await pilot.pause(0.2)
        assert app.team is None and app.screen.query_one(DataTable).row_count == 10


def test_many_accounts_move_in_one_request_and_only_the_supervisors_own(server) -> None:
    _engine, thread = server
    url = thread.url
    north, south = auth_headers(url, "supervisor01"), auth_headers(url, "supervisor_sur")
    listed = httpx.get(f"{url}/v1/team/agents/agente01/accounts", headers=north).json()["accounts"]
    book = [{"account_id": a["account_id"], "version": a["version"]} for a in listed]
    stale = {**book[0], "version": book[0]["version"] - 1}
    body = {"agent": "agente02", "accounts": [stale, *book[1:], {"account_id": "no-such-account", "version": 1}]}
    # Another team's supervisor moves none of it, and learns that they are not theirs.
    theirs = httpx.post(f"{url}/v1/assignments", json={**body, "agent": "agente_sur"}, headers=south).json()
    assert theirs["moved"] == [] and len(theirs["other_team"]) == len(book) and theirs["unknown"] == ["no-such-account"]
    refused = httpx.post(f"{url}/v1/assignments", json=body, headers=south)
    assert refused.status_code == 403 and refused.json()["code"] == "OTHER_TEAM"  # agente02 is not of team sur
    found = httpx.post(f"{url}/v1/assignments", json=body, headers=north).json()
    assert found["moved"] == [a["account_id"] for a in book[1:]] and found["unknown"] == ["no-such-account"]
    assert found["stale"] == [{"account_id": book[0]["account_id"], "current_version": book[0]["version"]}]
    after = httpx.get(f"{url}/v1/team/agents/agente01/accounts", headers=north).json()["accounts"]
    assert [a["account_id"] for a in after] == [book[0]["account_id"]]  # the stale one stayed
    assert (
        httpx.post(f"{url}/v1/assignments", json={"agent": "agente02", "accounts": []}, headers=north).status_code
        == 422
    )


def test_every_route_refuses_every_role_its_guard_does_not_name(server) -> None:
    """Found from the app's routes, so a new endpoint is covered the day it is added: each role's valid
    token is refused (403) wherever the route's guard does not let that role through, and no token
    gets 401; only the health checks (the workstation's, liveness and readiness), the sign-in and a
    password change (with the old password) take no token at all."""
    from sync_support import integration_headers

    engine, thread = server
    app = create_app(engine, FixedClock(NOW))
    routes = [
        (method, re.sub(r"\{[^}]+\}", "x", route.path), _allowed_roles(route.dependant))
        for route in _api_routes(app)
        for method in route.methods or ()
    ]
    assert {path for _, path, roles in routes if roles is None} == {
        "/v1/health",
        "/v1/health/live",
        "/v1/health/ready",
        "/v1/auth/login",
        "/v1/auth/password",
    }
    tokens = {
        role: auth_headers(thread.url, user)
        for role, user in (
            ("agent", "agente01"),
            ("supervisor", "supervisor01"),
            ("manager", "gerente01"),
            ("auditor", "auditor01"),
        )
    }
    tokens["integration"] = integration_headers(thread.url, ("payments", "portfolio", "export"))
    params = {"since": (NOW - timedelta(days=1)).isoformat()}
    checked = 0
    for method, path, roles in routes:
        if roles is None:
            continue
        assert httpx.request(method, f"{thread.url}{path}", params=params, json={}).status_code == 401, (method, path)
        for role, headers in tokens.items():
            if role in roles:
                continue
            answer = httpx.request(method, f"{thread.url}{path}", params=params, json={}, headers=headers)
            assert answer.status_code == 403, (method, path, role, answer.text)
            checked += 1
    assert checked > 90  # (method, route, role) refusals
