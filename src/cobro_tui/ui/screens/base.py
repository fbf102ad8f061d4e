"""What every screen of the workstation shares: key descriptions in the interface language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Static

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import t
from cobro_tui.services.accounts import AccountView
from cobro_tui.services.workstation import Workstation

ResultType = TypeVar("ResultType")


def translated(bindings: dict[str, ActiveBinding]) -> dict[str, ActiveBinding]:
    """Bindings whose descriptions are message ids, with the descriptions in the interface language."""
    out: dict[str, ActiveBinding] = {}
    for key, active in bindings.items():
        binding = active.binding
        text = t(binding.description) if binding.description else ""
        if text != binding.description:
            binding = replace(binding, description=text, tooltip=t(binding.tooltip) if binding.tooltip else "")
            active = ActiveBinding(active.node, binding, active.enabled, binding.tooltip)
        out[key] = active
    return out


class CobroScreen(Screen[None]):
    """A screen whose binding descriptions are message ids, shown translated in the footer and help."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return translated(super().active_bindings)


class CobroModal(ModalScreen[ResultType]):
    """A form or dialog over a screen, with translated binding descriptions like CobroScreen."""

    def on_mount(self) -> None:
        # The ui.cursor_blink setting: off for people who find it distracting (and for snapshots).
        settings = getattr(self.app, "settings", None)
        blink = settings.ui.cursor_blink if settings is not None else True
        for field in self.query(Input):
            field.cursor_blink = blink

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return translated(super().active_bindings)


class CobroForm(CobroModal[str | None]):
    """A form that saves through a service: ctrl+s saves, escape (or a button of class `cancel`)
    cancels; dismissed with the confirmation text when saved, None when cancelled. Refusals are
    shown in the widget CHECK names, where the form's own live checks go too."""

    BINDINGS = [
        Binding("escape", "cancel", "keys.cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "keys.save", id="form.save", priority=True),
    ]
    CHECK = ".form-check"

    class Done(Message):
        """Posted by a saving worker: saved (dismiss with `text`) or refused (show `text`)."""

        def __init__(self, text: str, saved: bool) -> None:
            super().__init__()
            self.text = text
            self.saved = saved

    @staticmethod
    def save_buttons(prefix: str) -> ComposeResult:
        """The form's save and cancel buttons (ids `<prefix>-save`, `<prefix>-cancel`)."""
        with Horizontal(classes="form-buttons"):
            yield Button(t("form.save"), variant="primary", compact=True, id=f"{prefix}-save")
            yield Button(t("form.cancel"), compact=True, id=f"{prefix}-cancel", classes="cancel")

    @work(thread=True, exclusive=True, group="form-save", exit_on_error=False)
    def saving(self, save: Callable[[], str]) -> None:
        """Save off the interface's thread: what `save` says dismisses the form; a refusal is shown in it."""
        try:
            said = save()
        except UserFacingError as exc:
            self.post_message(self.Done(exc.message, saved=False))
            return
        self.post_message(self.Done(said, saved=True))

    def refuse(self, text: str) -> None:
        check = self.query_one(self.CHECK, Static)
        check.update(text)
        check.add_class("-bad")

    @on(Done)
    def _done(self, message: Done) -> None:
        if message.saved:
            self.dismiss(message.text)
        else:
            self.refuse(message.text)

    @on(Button.Pressed, ".cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(CobroModal[bool]):
    """A question with a yes and a no: enter or `y` (`s`) says yes, escape or `n` says no."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", "keys.no", id="confirm.no"),
        Binding("y,s", "answer(True)", "keys.yes", id="confirm.yes", show=False),
    ]

    def __init__(self, question: str, yes: str) -> None:
        super().__init__()
        self.question, self.yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="form", id="confirm"):
            yield Static(self.question, classes="form-title")
            with Horizontal(classes="form-buttons"):
                yield Button(self.yes, variant="warning", compact=True, id="confirm-yes")
                yield Button(t("confirm.no"), compact=True, id="confirm-no")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#confirm-no", Button).focus()  # the safe answer first

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class AccountForm(CobroForm):
    """A form about the account on screen: the workstation's services and the account's view."""

    def __init__(self, workstation: Workstation, view: AccountView, script_steps: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.workstation = workstation
        self.view = view
        self.script_steps = script_steps  # the call-guide steps ticked so far: kept with what is agreed
