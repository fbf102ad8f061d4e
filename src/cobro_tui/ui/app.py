"""The workstation app: global keys, theme, and the first screen."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from cobro_tui.services.workstation import Workstation
from cobro_tui.settings import Settings
from cobro_tui.ui.screens.queue import QueueScreen


class CobroApp(App[None]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "cobro-tui"
    BINDINGS = [
        Binding("ctrl+q", "quit", "app.quit", id="app.quit", priority=True),
    ]

    def __init__(self, settings: Settings, workstation: Workstation) -> None:
        super().__init__()
        self.settings = settings
        self.workstation = workstation
        self.animation_level = settings.ui.animation

    def on_mount(self) -> None:
        if self.settings.ui.theme in self.available_themes:
            self.theme = self.settings.ui.theme
        else:
            self.notify(f"Theme {self.settings.ui.theme!r} is unknown; using the default.", severity="warning")
        self.push_screen(QueueScreen(self.workstation, self.settings.ui.agent_zone))
