"""The wrap-up line: what an agent types to close a call fast, read into the same intentions the
forms produce (and then checked by the same rules).

    p 1500 15 spei      promise of $1,500.00 due on the 15th, paid by SPEI
    p 1,500.50 30/11    the same with a full date (channel: SPEI when left out)
    g NC sin respuesta  contact logged with result code NC, the rest as its note
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cobro_tui.domain.entry import parse_day
from cobro_tui.domain.money import Money, MoneyError


@dataclass(frozen=True, slots=True)
class PromiseIntent:
    amount: Money
    due_on: date
    channel: str


@dataclass(frozen=True, slots=True)
class ContactIntent:
    result_code: str
    notes: str


@dataclass(frozen=True, slots=True)
class WrapUpError:
    key: str  # message id, "wrapup.<what>"
    values: dict[str, str]


def parse_wrapup(text: str, today: date, channels: tuple[str, ...]) -> PromiseIntent | ContactIntent | WrapUpError:
    words = text.split()
    if not words:
        return WrapUpError("wrapup.empty", {})
    verb, rest = words[0].lower(), words[1:]
    if verb == "p":
        if len(rest) < 2:
            return WrapUpError("wrapup.promise_form", {})
        try:
            amount = Money.parse(rest[0])
        except MoneyError:
            return WrapUpError("wrapup.bad_amount", {"text": rest[0]})
        due = parse_day(rest[1], today)
        if due is None:
            return WrapUpError("wrapup.bad_day", {"text": rest[1]})
        channel = rest[2].lower() if len(rest) > 2 else channels[0]
        if channel not in channels:
            return WrapUpError("wrapup.bad_channel", {"text": channel, "channels": ", ".join(channels)})
        return PromiseIntent(amount, due, channel)
    if verb == "g":
        if not rest:
            return WrapUpError("wrapup.contact_form", {})
        return ContactIntent(rest[0].upper(), " ".join(rest[1:]))
    return WrapUpError("wrapup.unknown", {"text": words[0]})
