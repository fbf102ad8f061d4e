"""The import layout's reading and checking of rows (domain/portfolio_file.py): pure, no server."""

from __future__ import annotations

import io
from datetime import date

import pytest

from cobro_tui.domain.portfolio_file import (
    LayoutError,
    check_row,
    kind_of_name,
    read_csv,
    read_jsonl,
)

TODAY = date(2026, 11, 22)
ACCOUNT = {
    "account_number": "7100000001",
    "customer_ref": "CLI-1",
    "product": "prestamo_personal",
    "principal": "15000.00",
    "interest": 120000,
    "fees": "0",
    "vat": "0.00",
    "past_due": "1000.00",
    "min_to_cure": "1200.00",
    "dpd": "45",
    "segment": "B",
    "opened_on": "2023-01-01",
}


def codes(checked) -> dict[str, str]:
    return {p.column: p.code for p in checked.problems}


def test_a_file_is_known_by_its_name() -> None:
    assert kind_of_name("accounts.csv") == "accounts"
    assert kind_of_name("/data/contacts-2026-11-22.jsonl") == "contacts"
    assert kind_of_name("CUSTOMERS_cut.csv") == "customers"
    assert kind_of_name("accountsx.csv") is None
    assert kind_of_name("cartera.csv") is None


def test_money_is_centavos_or_two_decimals_and_nothing_else() -> None:
    good = check_row("accounts", ACCOUNT, TODAY)
    assert good.ok
    assert good.values["principal"] == 1_500_000 and good.values["interest"] == 120_000
    for bad in ("1500.5", "1,500.00", "$1500.00", "1e5", "-10.00", "１５.００", "NaN", "99999999999999.00"):
        checked = check_row("accounts", {**ACCOUNT, "principal": bad}, TODAY)
        assert codes(checked).get("principal") in ("money", "money_range"), bad
    assert codes(check_row("accounts", {**ACCOUNT, "fees": 10**13}, TODAY)) == {"fees": "money_range"}
    assert codes(check_row("accounts", {**ACCOUNT, "fees": True}, TODAY)) == {"fees": "type"}


def test_every_problem_of_a_row_is_named_by_its_column() -> None:
    checked = check_row(
        "accounts",
        {**ACCOUNT, "product": "hipoteca", "dpd": "9999999", "opened_on": "2027-01-01", "segment": "", "x": "1"},
        TODAY,
    )
    assert codes(checked) == {
        "product": "choice",
        "dpd": "dpd_range",
        "opened_on": "date_range",
        "segment": "required",
        "x": "not_a_column",
    }
    assert not checked.values


def test_a_card_number_must_pass_luhn() -> None:
    card = {**ACCOUNT, "product": "tarjeta_credito", "account_number": "4111111111111111"}
    assert check_row("accounts", card, TODAY).ok
    assert codes(check_row("accounts", {**card, "account_number": "4111111111111112"}, TODAY)) == {
        "account_number": "card_number"
    }


def test_phones_become_e164_and_places_five_digit_inegi_codes() -> None:
    checked = check_row(
        "contacts",
        {
            "customer_ref": "CLI-1",
            "kind": "mobile",
            "value": "(664) 123-4567",
            "state_code": "02",
            "municipality_code": "004",
            "provenance": "creditor",
            "consent_sms": "si",
        },
        TODAY,
    )
    assert checked.ok
    assert checked.values["value"] == "+526641234567"
    assert checked.values["municipality_code"] == "02004"
    assert checked.values["consent_sms"] is True
    phone = check_row("references", {"account_number": "A1", "name": "Luis", "phone": "123", "role": "aval"}, TODAY)
    assert codes(phone) == {"phone": "phone_too_short"}
    placeless = check_row(
        "contacts", {"customer_ref": "C", "kind": "home", "value": "5512345678", "provenance": "creditor"}, TODAY
    )
    assert codes(placeless) == {"state_code": "place"}
    wrong_state = check_row(
        "contacts",
        {
            "customer_ref": "C",
            "kind": "home",
            "value": "5512345678",
            "state_code": "09",
            "municipality_code": "02004",
            "provenance": "creditor",
        },
        TODAY,
    )
    assert codes(wrong_state) == {"municipality_code": "municipality_code"}


def test_emails_are_checked_and_lower_cased() -> None:
    row = {"customer_ref": "C", "kind": "email", "provenance": "debtor"}
    assert (
        check_row("contacts", {**row, "value": "Ana.Lopez@Correo.MX"}, TODAY).values["value"] == "ana.lopez@correo.mx"
    )
    for bad in ("ana", "ana@", "ana@@correo.mx", "ana lopez@correo.mx"):
        assert codes(check_row("contacts", {**row, "value": bad}, TODAY)) == {"value": "email"}, bad


def test_an_invalid_rfc_or_curp_is_a_warning_not_a_refusal() -> None:
    checked = check_row(
        "customers",
        {"customer_ref": "C", "full_name": "Ana", "birth_date": "1984-02-11", "rfc": "LORA840211XX1", "curp": "X"},
        TODAY,
    )
    assert checked.ok
    assert [(w.column, w.code) for w in checked.warnings] == [("rfc", "rfc"), ("curp", "curp")]


@pytest.mark.parametrize("hostile", ["Ana\x1b[2J", "Ana\x07", "Ana\u202eziuR", "Ana\x00", "Ana\udc81"])
def test_hostile_text_is_refused_not_stored(hostile: str) -> None:
    checked = check_row("customers", {"customer_ref": "C", "full_name": hostile, "birth_date": "1984-02-11"}, TODAY)
    assert codes(checked)["full_name"] in ("controls", "not_utf8")


def test_csv_rows_carry_the_line_they_start_on() -> None:
    text = 'customer_ref,full_name,birth_date\nC1,"Ana\nLópez",1984-02-11\n\nC2,Luis,1990-01-01\nC3,too,many,cells\n'
    rows = list(read_csv("customers", io.StringIO(text)))
    assert [r.line for r in rows] == [2, 5, 6]
    assert rows[0].data["full_name"] == "Ana\nLópez"
    assert rows[2].problems[0].code == "cells"


def test_a_header_that_is_not_the_layouts_refuses_the_file() -> None:
    with pytest.raises(LayoutError) as unknown:
        list(read_csv("customers", io.StringIO("customer_ref,full_name,birth_date,principle\n")))
    assert unknown.value.code == "unknown_column" and unknown.value.params["column"] == "principle"
    with pytest.raises(LayoutError) as missing:
        list(read_csv("customers", io.StringIO("customer_ref,full_name\n")))
    assert missing.value.code == "missing_column"
    with pytest.raises(LayoutError):
        list(read_csv("customers", io.StringIO("")))


def test_json_lines_are_objects_one_a_line() -> None:
    text = '{"customer_ref": "C1"}\n\nnot json\n[1]\n'
    rows = list(read_jsonl("customers", io.StringIO(text)))
    assert [(r.line, bool(r.problems)) for r in rows] == [(1, False), (3, True), (4, True)]
