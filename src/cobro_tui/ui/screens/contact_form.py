"""f4: log a contact attempt (gestión) with its result code and the PCR of the call."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Select, Static

from cobro_tui.domain.entry import parse_day, parse_time
from cobro_tui.domain.models import POINT_KINDS, Channel, ContactPoint, Direction
from cobro_tui.domain.text import shown_line
from cobro_tui.i18n import day, language, t
from cobro_tui.services.accounts import AccountView
from cobro_tui.services.workstation import Workstation
from cobro_tui.ui.screens.base import AccountForm
from cobro_tui.ui.widgets.account_panels import point_value, rule_badge

# Which contact points a channel can use.
POINTS_FOR = POINT_KINDS


class ContactForm(AccountForm):
    """Dismissed with the confirmation text when saved, None when cancelled."""

    def __init__(
        self, workstation: Workstation, view: AccountView, revealed: bool = False, script_steps: tuple[str, ...] = ()
    ) -> None:
        super().__init__(workstation, view)
        self.revealed = revealed
        self.script_steps = script_steps

    def compose(self) -> ComposeResult:
        lang = language()
        policy = self.workstation.policy
        with Vertical(id="contact-form", classes="form"):
            yield Static(t("contact.title"), classes="form-title")
            context = self.view.file.customer.full_name
            if self.script_steps:
                context += " · " + t("guide.steps_done", count=len(self.script_steps))
            yield Static(Content(shown_line(context)), classes="form-context")
            with Horizontal(classes="form-row"):
                with Vertical():
                    yield Label(t("contact.channel"))
                    yield Select(
                        compact=True,
                        options=[(t(f"channel.{c.value}"), c.value) for c in Channel],
                        value=Channel.VOICE.value,
                        allow_blank=False,
                        id="contact-channel",
                    )
                with Vertical():
                    yield Label(t("contact.direction"))
                    yield Select(
                        compact=True,
                        options=[(t(f"contact.direction_{d.value}"), d.value) for d in Direction],
                        value=Direction.OUTBOUND.value,
                        allow_blank=False,
                        id="contact-direction",
                    )
                with Vertical():
                    yield Label(t("contact.point"))
                    points = self._point_options(Channel.VOICE)
                    yield Select(
                        compact=True,
                        options=points,
                        prompt=t("contact.no_point"),
                        id="contact-point",
                        value=points[0][1] if points else Select.NULL,
                    )
            yield Label(t("contact.result"))
            yield Select(
                compact=True,
                options=self._code_options(Channel.VOICE),
                prompt=t("contact.pick_result"),
                id="contact-result",
            )
            yield Label(t("contact.problem"))
            yield Select(
                compact=True,
                options=[(p.label(lang), p.code) for p in policy.problems],
                prompt=t("contact.no_problem"),
                id="contact-problem",
            )
            yield Label(t("contact.circumstance"))
            yield Input(compact=True, id="contact-circumstance")
            yield Label(t("contact.resolution"))
            yield Input(compact=True, id="contact-resolution")
            yield Label(t("contact.notes"))
            yield Input(compact=True, id="contact-notes")
            yield Label(t("contact.callback"))
            with Horizontal(classes="form-row"):
                yield Input(
                    placeholder=f"{t('contact.callback_day')} {day(self.view.debtor_now.date())}",
                    compact=True,
                    id="contact-callback-day",
                )
                yield Input(placeholder=f"{t('contact.callback_time')} 18:30", compact=True, id="contact-callback-time")
            if self.workstation.contacts.may_override:
                yield Label(t("contact.override"))
                yield Input(compact=True, placeholder=t("contact.override_hint"), id="contact-override")
            yield Static(
                self._rule_hint(self._points(Channel.VOICE)[:1], Channel.VOICE),
                id="contact-check",
                classes="form-check",
            )
            yield from self.save_buttons("contact")

    def _points(self, channel: Channel) -> list[ContactPoint]:
        kinds = POINTS_FOR[channel]
        return [p for p in self.view.file.contact_points if p.kind in kinds]

    def _point_options(self, channel: Channel) -> list[tuple[str, str]]:
        return [
            (f"{t(f'contact_kind.{p.kind.value}')} {point_value(p, self.revealed)}", p.id)
            for p in self._points(channel)
        ]

    def _code_options(self, channel: Channel) -> list[tuple[str, str]]:
        lang = language()
        return [
            (f"{c.code} · {c.label(lang)}", c.code)
            for c in self.workstation.policy.result_codes.for_channel(channel.value)
        ]

    @on(Select.Changed, "#contact-channel")
    def channel_changed(self, event: Select.Changed) -> None:
        channel = Channel(str(event.value))
        points = self._point_options(channel)
        select = self.query_one("#contact-point", Select)
        select.set_options(points)
        if points:
            select.value = points[0][1]  # the primary point comes first
        self.query_one("#contact-result", Select).set_options(self._code_options(channel))

    @on(Select.Changed, "#contact-point")
    def point_changed(self, event: Select.Changed) -> None:
        channel = Channel(self._value("#contact-channel") or Channel.VOICE.value)
        chosen = [p for p in self._points(channel) if p.id == event.value]
        check = self.query_one("#contact-check", Static)
        check.update(self._rule_hint(chosen, channel))
        check.remove_class("-bad")

    def _rule_hint(self, points: list[ContactPoint], channel: Channel) -> str:
        """What the rules said about the point when the account was opened (for its usual channel)."""
        found = self.view.rules.get(points[0].id) if points else None
        if found is None or found.channel is not channel:
            return ""
        return t(
            "contact.rules_hint",
            badge=rule_badge(found, self.view.point_zones.get(points[0].id, self.view.debtor_zone)),
        )

    def _value(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else str(value)

    @on(Button.Pressed, "#contact-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        code = self._value("#contact-result")
        if code is None:
            self.refuse(t("form.required", field=t("contact.result")))
            return
        callback = self._callback()
        if isinstance(callback, str):
            self.refuse(callback)
            return
        override = self.query(Input).filter("#contact-override")
        entered = {
            "callback_at": callback,
            "direction": Direction(self._value("#contact-direction") or Direction.OUTBOUND.value),
            "override_reason": override.first().value.strip() or None if override else None,
            "channel": Channel(self._value("#contact-channel") or Channel.VOICE.value),
            "result_code": code,
            "contact_point_id": self._value("#contact-point"),
            "problem_code": self._value("#contact-problem"),
            "circumstance": self.query_one("#contact-circumstance", Input).value.strip(),
            "resolution": self.query_one("#contact-resolution", Input).value.strip(),
            "notes": self.query_one("#contact-notes", Input).value.strip(),
            "script_steps": self.script_steps,
        }
        self.saving(lambda: self._log(entered))

    def _log(self, entered: dict[str, Any]) -> str:
        account = self.view.file.account
        self.workstation.contacts.log(account_id=account.id, customer_id=account.customer_id, **entered)
        return t("contact.saved", code=entered["result_code"])

    def _callback(self) -> datetime | str | None:
        """The callback typed, as an instant (the day and time are the debtor's); or what is wrong."""
        day_text = self.query_one("#contact-callback-day", Input).value.strip()
        time_text = self.query_one("#contact-callback-time", Input).value.strip()
        if not day_text and not time_text:
            return None
        today = self.view.debtor_now.date()
        when_day = parse_day(day_text, today) if day_text else today
        if when_day is None:
            return t("form.bad_date", text=day_text, example=day(today))
        when_time = parse_time(time_text) if time_text else time(10, 0)
        if when_time is None:
            return t("form.bad_time", text=time_text)
        return datetime.combine(when_day, when_time, self.view.debtor_zone)
