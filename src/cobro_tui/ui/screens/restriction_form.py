"""o: the debtor asks not to be contacted at a point, by a channel, or at all; effective at once."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Select, Static

from cobro_tui.domain.models import Channel, RestrictionKind
from cobro_tui.domain.text import shown_line
from cobro_tui.i18n import t
from cobro_tui.services.accounts import AccountView
from cobro_tui.services.workstation import Workstation
from cobro_tui.ui.screens.base import AccountForm
from cobro_tui.ui.widgets.account_panels import point_value

# Channels a debtor opts out of as such (a call is refused per number).
OPT_OUT_CHANNELS = (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL, Channel.VISIT)


class RestrictionForm(AccountForm):
    def __init__(self, workstation: Workstation, view: AccountView, revealed: bool = False) -> None:
        super().__init__(workstation, view)
        self.revealed = revealed

    def _options(self) -> list[tuple[str, str]]:
        points = [
            (
                t("restriction.point", point=f"{t(f'contact_kind.{p.kind.value}')} {point_value(p, self.revealed)}"),
                f"point:{p.id}",
            )
            for p in self.view.file.contact_points
            if not p.opted_out
        ]
        channels = [
            (t("restriction.channel", channel=t(f"channel.{c.value}")), f"channel:{c.value}") for c in OPT_OUT_CHANNELS
        ]
        return [*points, *channels, (t("restriction.cease"), "cease")]

    def compose(self) -> ComposeResult:
        with Vertical(id="restriction-form", classes="form"):
            yield Static(t("restriction.title"), classes="form-title")
            yield Static(Content(shown_line(self.view.file.customer.full_name)), classes="form-context")
            yield Label(t("restriction.what"))
            yield Select(self._options(), prompt=t("restriction.pick"), compact=True, id="restriction-what")
            yield Label(t("restriction.note"))
            yield Input(compact=True, id="restriction-note")
            yield Static("", classes="form-check")
            yield from self.save_buttons("restriction")

    @on(Button.Pressed, "#restriction-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        select = self.query_one("#restriction-what", Select)
        if select.value is Select.NULL:
            self.refuse(t("form.required", field=t("restriction.what")))
            return
        chosen = str(select.value)
        label = {value: text for text, value in self._options()}[chosen]
        scope, _, target = chosen.partition(":")
        entered: dict[str, Any] = {"note": self.query_one("#restriction-note", Input).value}
        if scope == "cease":
            entered["kind"] = RestrictionKind.CEASE
        else:
            entered["kind"] = RestrictionKind.OPT_OUT
            entered["contact_point_id" if scope == "point" else "channel"] = (
                target if scope == "point" else Channel(target)
            )
        self.saving(lambda: self._request(label, entered))

    def _request(self, label: str, entered: dict[str, Any]) -> str:
        self.workstation.restrictions.request(self.view.file.customer.id, **entered)
        return t("restriction.saved", what=label)
