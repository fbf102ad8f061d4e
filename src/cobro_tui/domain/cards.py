"""Card numbers as the workstation may hold them (PCI DSS 3.4.1): the first six and the last four
digits, the rest as `*`. The core keeps the full number; the server truncates it on the way in."""

from __future__ import annotations

from stdnum import luhn

STAR = "*"
PAN_LENGTHS = range(13, 20)  # ISO/IEC 7812: 13 to 19 digits


class InvalidCardNumber(ValueError):
    """A full card number that is not one: wrong length, not all digits, or a failed Luhn check."""


def _cut(digits: str) -> str:
    return digits[:6] + STAR * (len(digits) - 10) + digits[-4:]


def is_truncated_pan(value: str) -> bool:
    """Whether `value` is already in the one truncated form: six digits, stars, four digits."""
    return (
        len(value) in PAN_LENGTHS
        and value[:6].isdigit()
        and value[-4:].isdigit()
        and value[6:-4] == STAR * (len(value) - 10)
    )


def truncate_pan(pan: str) -> str:
    """The truncated form of a full card number ("4111111111111111" -> "411111******1111"); a
    number already truncated comes back as it is. Anything else is refused: a full number must pass
    the Luhn check, so a typo in the core's feed is caught here rather than shown to an agent."""
    value = pan.replace(" ", "").replace("-", "")
    if is_truncated_pan(value):
        return value
    if not (value.isascii() and value.isdigit()) or len(value) not in PAN_LENGTHS:
        raise InvalidCardNumber(f"a card number has 13 to 19 digits, not {pan!r}")
    if not luhn.is_valid(value):
        raise InvalidCardNumber(f"the card number ending in {value[-4:]} fails its Luhn check digit")
    return _cut(value)


def holdable_number(number: str) -> str:
    """An account number as a workstation may store it: a run of 13 to 19 digits (what a card
    number looks like, Luhn-valid or not) truncated, anything else (a loan's 12-digit account
    number, a number already truncated) as it is. The cache applies it to whatever it is sent."""
    return _cut(number) if number.isascii() and number.isdigit() and len(number) in PAN_LENGTHS else number
