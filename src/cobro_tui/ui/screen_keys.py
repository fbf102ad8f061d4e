"""What both apps (the agent's and the supervisor's) do with the keys of the screen in front: f1
lists them, and the command palette offers each one by its description."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from cobro_tui.ui.screens.help import HelpScreen

HELP = Binding("f1", "help", "keys.help", id="app.help")


class ScreenKeys(App[None]):
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every key of the screen in front is also a command, by its description."""
        yield from super().get_system_commands(screen)
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.show and binding.description and binding.action not in ("quit", "help", "command_palette"):
                yield SystemCommand(
                    binding.description, f"{self.get_key_display(binding)}", partial(screen.run_action, binding.action)
                )

    def action_help(self) -> None:
        """The keys of the screen in front, described in the interface language."""
        if isinstance(self.screen, HelpScreen):
            return
        keys = [
            (self.get_key_display(active.binding), active.binding.description)
            for active in self.screen.active_bindings.values()
            if active.binding.show and active.binding.description
        ]
        self.push_screen(HelpScreen(keys))
