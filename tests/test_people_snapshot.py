"""The supervisor's team screen with each agent's state (enabled, disabled, locked out) and when the
server last saw them, at 120x40 with the clock fixed: the same every run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sync_support import auth_headers, running_server
from ui_support import supervisor_app, wait_for

from cobro_tui.settings import ServerSettings


@pytest.fixture
def people_server(tmp_path: Path) -> Iterator[str]:
    settings = ServerSettings(lockout_failures=3)
    with running_server(tmp_path, accounts=60, seed=3, settings=settings) as (_, thread):
        url = thread.url
        auth_headers(url, "agente01")  # seen when they signed in
        httpx.post(f"{url}/v1/admin/users/agente02/disable", headers=auth_headers(url, "gerente01")).raise_for_status()
        for _ in range(3):  # locked out by wrong passwords
            httpx.post(f"{url}/v1/auth/login", json={"username": "agente03", "password": "wrong"})
        yield url


async def _open_team(pilot) -> None:
    from cobro_tui.ui.screens.team import TeamScreen

    await pilot.pause(0.2)
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TeamScreen) and pilot.app.screen.view is not None)
    await pilot.pause()


def test_team_screen_with_each_agents_state_and_when_last_seen(snap_compare, tmp_path: Path, people_server) -> None:
    assert snap_compare(supervisor_app(people_server, tmp_path), terminal_size=(120, 40), run_before=_open_team)


def test_team_screen_english(snap_compare, tmp_path: Path, people_server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBRO_LANG", "en")
    assert snap_compare(supervisor_app(people_server, tmp_path), terminal_size=(120, 40), run_before=_open_team)
