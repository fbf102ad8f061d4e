"""The keys of the screen in front, in one line at the bottom.

Textual's Footer composes a widget per key again whenever the bindings change (every screen switch
and every focus change); on the account screen that cost 10 to 180 ms of a 2-core machine per f5.
This bar is a single Static whose text is rewritten instead, from the same active bindings."""

from __future__ import annotations

from textual.binding import ActiveBinding
from textual.content import Content
from textual.widgets import Static

from cobro_tui.i18n import t


class KeyBar(Static):
    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self._show_keys)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object) -> None:
        if self.is_attached:
            self._show_keys()

    def _show_keys(self) -> None:
        # One entry per action, in the screen's order (a key and its alternatives act alike).
        first: dict[str, ActiveBinding] = {}
        for active in self.screen.active_bindings.values():
            if active.binding.show and active.binding.description:
                first.setdefault(active.binding.action, active)
        parts = [
            Content.assemble(
                (self.app.get_key_display(a.binding), "bold $footer-key-foreground" if a.enabled else "$text-disabled"),
                " ",
                (a.binding.description, "" if a.enabled else "$text-disabled"),
            )
            for a in first.values()
        ]
        parts.append(Content.assemble(("^p", "bold $footer-key-foreground"), " ", t("keys.palette")))
        keys = Content("  ").join(parts)
        if keys.plain != getattr(self, "_shown", None):
            self._shown = keys.plain
            self.update(keys, layout=False)  # one line whatever it says: no layout pass for the screen
