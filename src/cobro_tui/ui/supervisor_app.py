"""The app a supervisor's sign-in opens: the approvals inbox (online; the decisions are the server's)."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from cobro_tui.services.approvals import SupervisorService
from cobro_tui.settings import Settings
from cobro_tui.ui.screens.approvals import ApprovalsScreen
from cobro_tui.ui.themes import THEMES


class SupervisorApp(App[None]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "cobro-tui"
    BINDINGS = [Binding("ctrl+q", "quit", "app.quit", id="app.quit", priority=True)]

    def __init__(self, settings: Settings, service: SupervisorService) -> None:
        super().__init__()
        self.settings = settings
        self.service = service
        self.animation_level = settings.ui.animation

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        if self.settings.ui.theme in self.available_themes:
            self.theme = self.settings.ui.theme
        self.push_screen(ApprovalsScreen(self.service))
