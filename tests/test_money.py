from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cobro_tui.domain.money import ACCEPTED_FORM, Money, MoneyError, total


@pytest.mark.parametrize(
    ("text", "centavos"),
    [
        ("1500", 150000),
        ("1,500.50", 150050),
        ("$1500.5", 150050),
        ("0.01", 1),
        (" 12.30 ", 1230),
        ("-20", -2000),
        ("1,234,567.89", 123456789),
    ],
)
def test_parse_accepts_plain_amounts(text: str, centavos: int) -> None:
    assert Money.parse(text) == Money(centavos)


@pytest.mark.parametrize(
    "text",
    [
        "1.234",
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "1e3",
        "1E3",
        "١٢٣",
        "１２３",
        "12,34",
        "1,2345",
        "",
        "  ",
        "abc",
        "1.2.3",
        "--5",
    ],
)
def test_parse_refuses_what_is_not_money_and_says_the_accepted_form(text: str) -> None:
    with pytest.raises(MoneyError) as caught:
        Money.parse(text)
    assert ACCEPTED_FORM in str(caught.value)


def test_more_than_two_decimals_is_named_as_such() -> None:
    with pytest.raises(MoneyError, match="more than two decimals"):
        Money.parse("10.005")


@pytest.mark.parametrize("value", [1.5, Decimal("1.5"), True, "150"])
def test_money_holds_only_whole_centavos(value: object) -> None:
    with pytest.raises(MoneyError, match="whole centavos"):
        Money(value)  # type: ignore[arg-type]


def test_parse_refuses_a_float_argument() -> None:
    with pytest.raises(MoneyError, match="must be text"):
        Money.parse(15.5)  # type: ignore[arg-type]


def test_currencies_do_not_mix() -> None:
    with pytest.raises(MoneyError, match="MXN with USD"):
        Money(100) + Money(100, "USD")


def test_from_decimal_is_exact_or_refused() -> None:
    assert Money.from_decimal(Decimal("12.34")) == Money(1234)
    with pytest.raises(MoneyError):
        Money.from_decimal(Decimal("12.345"))
    with pytest.raises(MoneyError):
        Money.from_decimal(Decimal("NaN"))


def test_total_adds_to_the_centavo() -> None:
    assert total([Money(1), Money(2), Money(-3)]) == Money(0)
    assert total([]) == Money(0)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_plain_text_parses_back_to_the_same_amount(centavos: int) -> None:
    money = Money(centavos)
    assert Money.parse(money.plain()) == money
    assert Money.from_decimal(money.to_decimal()) == money
