"""Phone numbers with the field's library (phonenumbers): stored as E.164, searched in any format,
shown in the national format. Mexico is the default region of a number written without its country."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "MX"


class PhoneError(ValueError):
    """A value that is not a phone number; the message says what is expected (English, for logs and
    reports; the interface translates by `reason`)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # not_a_number | too_short | too_long | invalid


def normalize_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """`text` in E.164 (+525512345678); raises PhoneError when it cannot be a number of `region`
    (or of the country its + prefix names)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError("not_a_number", f"{text!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_possible_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        short = reason in (phonenumbers.ValidationResult.TOO_SHORT, phonenumbers.ValidationResult.INVALID_LENGTH)
        kind = "too_short" if short and reason == phonenumbers.ValidationResult.TOO_SHORT else "too_long"
        raise PhoneError(kind, f"{text!r} has the wrong number of digits for a phone of its country")
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("invalid", f"{text!r} is not a number in use in its country's numbering plan")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national(e164: str) -> str:
    """How a person of the number's country writes it (55 1234 5678); the value as given if unparsable."""
    try:
        number = phonenumbers.parse(e164, None if e164.startswith("+") else DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def search_digits(text: str) -> str:
    """The digits a search for a phone compares: the national significant number when `text` parses
    as a phone, else its digits as typed (a part of a number)."""
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in text if ch.isdigit())
    return phonenumbers.national_significant_number(number)
