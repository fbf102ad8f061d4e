"""Phones with phonenumbers: E.164 to store, any format to search, national to show."""

from __future__ import annotations

import pytest

from cobro_tui.domain.phones import PhoneError, national, normalize_phone, search_digits


@pytest.mark.parametrize(
    "text",
    ["55 1234 5678", "(55) 1234-5678", "+52 55 1234 5678", "+525512345678", "5512345678"],
)
def test_a_mexican_number_in_any_format_is_stored_in_e164(text: str) -> None:
    assert normalize_phone(text) == "+525512345678"


def test_a_us_number_keeps_its_country() -> None:
    assert normalize_phone("+1 (212) 555-0123".replace("555-0123", "736-4000")) == "+12127364000"


@pytest.mark.parametrize(("text", "reason"), [("hola", "not_a_number"), ("55 12", "too_short"), ("", "not_a_number")])
def test_what_is_not_a_phone_says_why(text: str, reason: str) -> None:
    with pytest.raises(PhoneError) as caught:
        normalize_phone(text)
    assert caught.value.reason == reason


def test_shown_nationally_and_searched_by_its_significant_digits() -> None:
    assert national("+525512345678") == "55 1234 5678"
    assert search_digits("+52 (55) 1234-5678") == search_digits("55 1234 5678") == "5512345678"
    assert search_digits("1234") == "1234"
