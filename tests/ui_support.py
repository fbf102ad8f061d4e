"""Building the real app on a real generated cache, for Pilot and snapshot tests."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from conftest import NOW
from portfolio_fixtures import fill
from textual.app import App
from textual.screen import Screen

from cobro_tui.bootstrap import build_app, build_workstation
from cobro_tui.clock import FixedClock
from cobro_tui.policy import Policy
from cobro_tui.services.accounts import AccountView
from cobro_tui.settings import load_settings
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.ui.app import CobroApp
from cobro_tui.ui.screens.account import AccountScreen


def demo_app(
    tmp_path: Path, policy: Policy, accounts: int = 60, seed: int = 7, now: datetime = NOW, role: str = "agent"
) -> CobroApp:
    """The workstation on a generated portfolio of `accounts` for agente01, with the clock at `now`."""
    cache = CacheFile(tmp_path / "ui-cache.db", secrets.token_bytes(32))
    engine = cache.open()
    upgrade(engine)
    fill(cache, policy, accounts=accounts, seed=seed)
    settings = load_settings()
    clock = FixedClock(now)
    return build_app(settings, clock, build_workstation(engine, settings, clock, policy, "agente01", "demo", role))


def shown(screen: AccountScreen) -> AccountView:
    """The account an account screen shows; a test that reads it before it has loaded fails here, saying so."""
    assert screen.view is not None, "the account has not loaded yet"
    return screen.view


S = TypeVar("S", bound="Screen[Any]")


def top(app: App[Any], kind: type[S]) -> S:
    """The screen on top of `app`, which the test expects to be a `kind`."""
    screen = app.screen
    assert isinstance(screen, kind), f"expected {kind.__name__} on top, found {type(screen).__name__}"
    return screen


def text_of(widget) -> str:
    """What a Static (Rich tables included) or a table panel shows, as plain text, at the widget's width."""
    import io

    from cobro_tui.ui.widgets.table_panel import TablePanel

    if isinstance(widget, TablePanel):
        return widget.plain

    from rich.console import Console

    console = Console(width=max(widget.size.width, 40), file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


async def wait_for(pilot, condition, tries: int = 750) -> None:
    """Let the app run until `condition()` holds (workers post their messages); fails after ~15 s (a loaded CI machine is slow)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the screen never reached the expected state")


def supervisor_app(url: str, data_dir: Path | None = None, user: str = "supervisor01"):
    """The supervisor's app signed in to the server at `url` as `user`, its clock at NOW (the test
    servers' clock), writing its CSV files under `data_dir` when given."""
    import httpx

    from cobro_tui.bootstrap import build_supervisor_app

    token = httpx.post(f"{url}/v1/auth/login", json={"username": user, "password": "demo"}).json()["token"]
    update: dict[str, object] = {"now": NOW, **({"data_dir": data_dir} if data_dir is not None else {})}
    return build_supervisor_app(load_settings().model_copy(update=update), url, user, token)
