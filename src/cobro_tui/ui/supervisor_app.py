"""The app a supervisor's sign-in opens: the approvals inbox (online; the decisions are the server's).
It remembers which team the team and dashboard screens show: a supervisor's own; a manager moves
through every team and all of them together with `g`."""

from __future__ import annotations

from textual import work
from textual.binding import Binding

from cobro_tui.errors import UserFacingError
from cobro_tui.services.approvals import SupervisorService
from cobro_tui.services.session import SessionGuard
from cobro_tui.settings import Settings
from cobro_tui.ui.lock import SessionLock
from cobro_tui.ui.screen_keys import HELP
from cobro_tui.ui.screens.approvals import ApprovalsScreen
from cobro_tui.ui.themes import THEMES


class SupervisorApp(SessionLock):
    CSS_PATH = "styles/app.tcss"
    TITLE = "cobro-tui"
    BINDINGS = [Binding("ctrl+q", "quit", "app.quit", id="app.quit", priority=True), HELP]

    def __init__(self, settings: Settings, service: SupervisorService, session: SessionGuard | None = None) -> None:
        super().__init__()
        self._session = session
        self.settings = settings
        self.service = service
        self.animation_level = settings.ui.animation
        self.teams: list[str] = []  # the teams this user may review, read from the server at start
        self.team: str | None = None  # the team on screen; None: the server's default (own team, or all)

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        if self.settings.ui.theme in self.available_themes:
            self.theme = self.settings.ui.theme
        self.push_screen(ApprovalsScreen(self.service))
        self.start_idle_lock(self._session)
        if self.service.transport_warning:
            self.notify(self.service.transport_warning, severity="warning", timeout=30)
        self._read_teams()

    @work(thread=True, exclusive=True, group="teams", exit_on_error=False)
    def _read_teams(self) -> None:
        try:
            teams = self.service.teams()
        except UserFacingError:
            return  # the screens say the server cannot be reached when they read it
        self.call_from_thread(self._teams_known, teams)

    def _teams_known(self, teams: list[str]) -> None:
        self.teams = teams
        self.screen.refresh_bindings()  # `g` shows where there is more than one team

    def next_team(self) -> bool:
        """Show the next team (then all of them again); False when there is only one to show."""
        if len(self.teams) < 2:
            return False
        choices: list[str | None] = [None, *self.teams]
        self.team = choices[(choices.index(self.team) + 1) % len(choices)]
        return True
