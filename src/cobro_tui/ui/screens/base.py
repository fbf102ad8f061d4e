"""What every screen of the workstation shares: key descriptions in the interface language."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import ActiveBinding
from textual.screen import Screen

from cobro_tui.i18n import t


class CobroScreen(Screen[None]):
    """A screen whose binding descriptions are message ids, shown translated in the footer and help."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        translated: dict[str, ActiveBinding] = {}
        for key, active in super().active_bindings.items():
            binding = active.binding
            text = t(binding.description) if binding.description else ""
            if text != binding.description:
                binding = replace(binding, description=text, tooltip=t(binding.tooltip) if binding.tooltip else "")
                active = ActiveBinding(active.node, binding, active.enabled, binding.tooltip)
            translated[key] = active
        return translated
