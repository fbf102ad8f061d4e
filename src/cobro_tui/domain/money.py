"""Money as an integer number of centavos with its currency; never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# ASCII digits only, optional thousands separators in groups of three, at most two decimals.
_AMOUNT = re.compile(r"^(?P<sign>-)?\$?(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]{1,2}))?$")

ACCEPTED_FORM = "digits with at most two decimals, like 1500, 1,500.50 or $1500.5"


class MoneyError(ValueError):
    """An amount that is not money as this program accepts it; the message says the accepted form."""


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount in integer centavos (the smallest unit) of one currency."""

    centavos: int
    currency: str = "MXN"

    def __post_init__(self) -> None:
        # bool is an int in Python; a float or Decimal here is always a programming error.
        if type(self.centavos) is not int:
            raise MoneyError(f"money is held as whole centavos (int), not {type(self.centavos).__name__}")
        if not (len(self.currency) == 3 and self.currency.isascii() and self.currency.isupper()):
            raise MoneyError(f"{self.currency!r} is not an ISO 4217 currency code like MXN")

    @classmethod
    def zero(cls, currency: str = "MXN") -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = "MXN") -> Money:
        """Read an amount typed by a person or found in a file.

        Refuses floats, NaN, infinities, exponents, non-ASCII digits and more than two
        decimals, each with a message that names the accepted form.
        """
        if not isinstance(text, str):
            raise MoneyError(f"an amount must be text ({ACCEPTED_FORM}), not {type(text).__name__}")
        raw = text.strip().replace(" ", "")
        if not raw:
            raise MoneyError(f"the amount is empty; write {ACCEPTED_FORM}")
        if not raw.isascii():
            raise MoneyError(f"{text!r} has characters that are not ASCII digits; write {ACCEPTED_FORM}")
        lowered = raw.lower()
        if "nan" in lowered or "inf" in lowered or "e" in lowered:
            raise MoneyError(f"{text!r} is not a plain amount; write {ACCEPTED_FORM}")
        match = _AMOUNT.match(raw)
        if match is None:
            if re.match(r"^-?\$?[0-9,]*\.[0-9]{3,}$", raw):
                raise MoneyError(f"{text!r} has more than two decimals; write {ACCEPTED_FORM}")
            raise MoneyError(f"{text!r} is not an amount; write {ACCEPTED_FORM}")
        whole = int(match["int"].replace(",", ""))
        frac = int((match["frac"] or "0").ljust(2, "0"))
        centavos = whole * 100 + frac
        return cls(-centavos if match["sign"] else centavos, currency)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str = "MXN") -> Money:
        """Exact conversion from a Decimal with at most two decimals."""
        if not isinstance(value, Decimal) or not value.is_finite():
            raise MoneyError(f"{value!r} is not a finite Decimal amount")
        scaled = value * 100
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{value} has more than two decimals; write {ACCEPTED_FORM}")
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.centavos).scaleb(-2)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.centavos + other.centavos, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.centavos - other.centavos, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.centavos, self.currency)

    def __bool__(self) -> bool:
        return self.centavos != 0

    def is_negative(self) -> bool:
        return self.centavos < 0

    def plain(self) -> str:
        """Locale-free text, like 1234.56: for files and wire formats, not for people."""
        sign = "-" if self.centavos < 0 else ""
        whole, frac = divmod(abs(self.centavos), 100)
        return f"{sign}{whole}.{frac:02d}"


def total(amounts: list[Money], currency: str = "MXN") -> Money:
    """The sum of amounts of one currency (zero for none)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
