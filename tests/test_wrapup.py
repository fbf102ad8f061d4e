"""The wrap-up line reads what agents type into the intentions the forms make."""

from __future__ import annotations

from datetime import date

import pytest

from cobro_tui.domain.money import Money
from cobro_tui.domain.wrapup import (
    ContactIntent,
    PromiseIntent,
    WrapUpError,
    parse_wrapup,
)

TODAY = date(2026, 11, 22)
CHANNELS = ("spei", "oxxo")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p 1500 15 spei", PromiseIntent(Money(150000), date(2026, 12, 15), "spei")),
        ("P 1,500.50 30/11 OXXO", PromiseIntent(Money(150050), date(2026, 11, 30), "oxxo")),
        ("p $800 22", PromiseIntent(Money(80000), date(2026, 11, 22), "spei")),
        ("p 800 2026-12-01", PromiseIntent(Money(80000), date(2026, 12, 1), "spei")),
        ("g nc no contesta", ContactIntent("NC", "no contesta")),
        ("g PP", ContactIntent("PP", "")),
    ],
)
def test_what_agents_type_is_read(text: str, expected: object) -> None:
    assert parse_wrapup(text, TODAY, CHANNELS) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "wrapup.empty"),
        ("p 1500", "wrapup.promise_form"),
        ("p mil 15", "wrapup.bad_amount"),
        ("p 1500 31/02", "wrapup.bad_day"),
        ("p 1500 15 cheque", "wrapup.bad_channel"),
        ("g", "wrapup.contact_form"),
        ("x 1500", "wrapup.unknown"),
        ("p 1.5e3 15", "wrapup.bad_amount"),
    ],
)
def test_what_cannot_be_read_says_how_to_write_it(text: str, key: str) -> None:
    result = parse_wrapup(text, TODAY, CHANNELS)
    assert isinstance(result, WrapUpError) and result.key == key
