"""The portfolio import layout, version 1 (docs/import.md): the columns of each kind of file, the
reading of CSV and JSON Lines as rows, and the check of each row into normalized values or the
problems that refuse it. Pure: lines in, rows and verdicts out; the caller opens the files.

A problem names the column and a `code` with its `params`; the words are in the catalogs
(`import.problem.<code>`, es and en), so the CLI's report and the API's answer say the same thing.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from cobro_tui.domain.cards import InvalidCardNumber, truncate_pan
from cobro_tui.domain.models import ContactKind, Product, Provenance, ReferenceRole, Stage
from cobro_tui.domain.phones import PhoneError, normalize_phone
from cobro_tui.domain.text import CONTROLS

LAYOUT = 1
# In the order they are imported: what a row names must exist first.
KINDS = ("customers", "accounts", "contacts", "references")
MAX_CENTAVOS = 10**13
DPD_RANGE = (-30, 36500)
FIRST_DAY = date(1900, 1, 1)

REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_ref", "full_name", "birth_date"),
    "accounts": (
        "account_number",
        "customer_ref",
        "product",
        "principal",
        "interest",
        "fees",
        "vat",
        "past_due",
        "min_to_cure",
        "dpd",
        "segment",
        "opened_on",
    ),
    "contacts": ("customer_ref", "kind", "value", "provenance"),
    "references": ("account_number", "name", "phone", "role"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "customers": ("rfc", "curp"),
    "accounts": ("stage", "last_payment_on", "last_payment", "currency", "creditor", "closed", "agent"),
    "contacts": (
        "state_code",
        "municipality_code",
        "postal_code",
        "consent_sms",
        "consent_whatsapp",
        "consent_email",
        "primary",
    ),
    "references": ("relationship",),
}
COLUMNS = {kind: REQUIRED[kind] + OPTIONAL[kind] for kind in KINDS}
MONEY_COLUMNS = ("principal", "interest", "fees", "vat", "past_due", "min_to_cure")
PHONE_KINDS = (ContactKind.MOBILE, ContactKind.HOME, ContactKind.WORK, ContactKind.WHATSAPP)

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# An account number as the core writes it; the payments file names accounts by the same rule.
ACCOUNT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,33}")
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}")
_AGENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_INTEGER = re.compile(r"-?[0-9]{1,9}")
_CENTAVOS = re.compile(r"[0-9]{1,15}")
_DECIMAL = re.compile(r"([0-9]{1,13})\.([0-9]{2})")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_STATE = re.compile(r"[0-9]{2}")
_MUNICIPALITY = re.compile(r"[0-9]{3}|[0-9]{5}")
_POSTAL = re.compile(r"[0-9]{5}")
# Bytes that were not UTF-8, as surrogateescape reads them, and lone surrogates from JSON escapes.
_SURROGATES = re.compile("[\ud800-\udfff]")
_TRUE = frozenset({"1", "true", "si", "sí", "yes", "y", "s"})
_FALSE = frozenset({"0", "false", "no", "n", ""})


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one column of a row (or with the row itself, column ""), as a code of the
    catalogs and the values its words take."""

    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as read: its line in the file, its cells by column, and what made it unreadable."""

    line: int
    data: dict[str, Any]
    problems: tuple[Problem, ...] = ()


class LayoutError(ValueError):
    """A file that cannot be read as its kind at all (a required column missing, an unknown column):
    nothing in it is imported."""

    def __init__(self, code: str, line: int = 1, **params: Any) -> None:
        super().__init__(code)
        self.code, self.line, self.params = code, line, params


def kind_of_name(name: str) -> str | None:
    """The kind a file's name says (`accounts-2026-12-04.csv` -> accounts), if any."""
    base = name.rsplit("/", 1)[-1].lower()
    for kind in KINDS:
        if base.startswith(kind) and (len(base) == len(kind) or not base[len(kind)].isalpha()):
            return kind
    return None


def format_of_name(name: str) -> str | None:
    """csv or jsonl, from the file's extension."""
    lower = name.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return None


def check_columns(kind: str, columns: Iterable[str], line: int = 1) -> None:
    """LayoutError unless `columns` hold every required column of `kind` and nothing else, once each."""
    seen: list[str] = list(columns)
    allowed = set(COLUMNS[kind])
    for name in seen:
        if name not in allowed:
            raise LayoutError("unknown_column", line, column=name, columns=", ".join(COLUMNS[kind]))
        if seen.count(name) > 1:
            raise LayoutError("duplicate_column", line, column=name)
    missing = [name for name in REQUIRED[kind] if name not in seen]
    if missing:
        raise LayoutError("missing_column", line, columns=", ".join(missing))


def read_csv(kind: str, lines: Iterable[str]) -> Iterator[RawRow]:
    """The rows of a CSV file of `kind` (its header checked first: LayoutError), with the line each
    starts on. Cells are text; an empty cell is no value."""
    reader = csv.reader(lines, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise LayoutError("empty_file") from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    header = [name.strip() for name in header]
    check_columns(kind, header)
    width = len(header)
    last = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            start, last = last + 1, reader.line_num
            yield RawRow(start, {}, (Problem("", "csv"),))
            continue
        start, last = last + 1, reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line
        if len(cells) != width:
            yield RawRow(start, {}, (Problem("", "cells", {"expected": width, "got": len(cells)}),))
            continue
        yield RawRow(start, dict(zip(header, cells)))


def read_jsonl(kind: str, lines: Iterable[str]) -> Iterator[RawRow]:
    """The rows of a JSON Lines file of `kind`: each line an object whose keys are the layout's
    columns (the check of each row refuses a key the layout does not have)."""
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            yield RawRow(number, {}, (Problem("", "json"),))
            continue
        if not isinstance(data, dict):
            yield RawRow(number, {}, (Problem("", "json"),))
            continue
        yield RawRow(number, data)


def read_rows(kind: str, file_format: str, lines: Iterable[str]) -> Iterator[RawRow]:
    """The rows of a file in `file_format` (csv or jsonl)."""
    return read_csv(kind, lines) if file_format == "csv" else read_jsonl(kind, lines)


@dataclass(frozen=True, slots=True)
class Checked:
    """A row checked: its normalized values (empty when refused), the problems that refuse it and
    the warnings that let it in."""

    kind: str
    values: dict[str, Any]
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


class _Row:
    """The cells of one row being checked, collecting problems column by column."""

    __slots__ = ("data", "problems", "warnings")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def fail(self, column: str, code: str, **params: Any) -> None:
        self.problems.append(Problem(column, code, params))

    def cell(self, column: str, required: bool = False) -> str | None:
        """The cell as text (stripped; None when empty), or None with a problem recorded."""
        value = self.data.get(column)
        if value is None:
            if required:
                self.fail(column, "required")
            return None
        if isinstance(value, bool):  # true/false is a flag's alone (flag() takes it before this)
            self.fail(column, "type", got="bool")
            return None
        if isinstance(value, int):
            value = str(value)
        elif not isinstance(value, str):
            self.fail(column, "type", got=type(value).__name__)
            return None
        text = value.strip()
        if not text:
            if required:
                self.fail(column, "required")
            return None
        if _SURROGATES.search(text):
            self.fail(column, "not_utf8")
            return None
        if CONTROLS.search(text):
            self.fail(column, "controls")
            return None
        return text

    def text(self, column: str, limit: int, required: bool = False) -> str:
        value = self.cell(column, required)
        if value is None:
            return ""
        if len(value) > limit:
            self.fail(column, "too_long", max=limit)
            return ""
        return value

    def pattern(self, column: str, pattern: re.Pattern[str], code: str, required: bool = False) -> str:
        value = self.cell(column, required)
        if value is None:
            return ""
        if not pattern.fullmatch(value):
            self.fail(column, code)
            return ""
        return value

    def money(self, column: str, required: bool = False) -> int | None:
        raw = self.data.get(column)
        if isinstance(raw, int) and not isinstance(raw, bool):
            if 0 <= raw < MAX_CENTAVOS:
                return raw
            self.fail(column, "money_range")
            return None
        value = self.cell(column, required)
        if value is None:
            return None
        if _CENTAVOS.fullmatch(value):
            centavos = int(value)
        else:
            decimal = _DECIMAL.fullmatch(value)
            if decimal is None:
                self.fail(column, "money")
                return None
            centavos = int(decimal[1]) * 100 + int(decimal[2])
        if centavos >= MAX_CENTAVOS:
            self.fail(column, "money_range")
            return None
        return centavos

    def integer(self, column: str, low: int, high: int, code: str, required: bool = False) -> int | None:
        raw = self.data.get(column)
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        else:
            text = self.cell(column, required)
            if text is None:
                return None
            if not _INTEGER.fullmatch(text):
                self.fail(column, "integer")
                return None
            value = int(text)
        if not low <= value <= high:
            self.fail(column, code, low=low, high=high)
            return None
        return value

    def day(self, column: str, today: date, required: bool = False) -> date | None:
        text = self.cell(column, required)
        if text is None:
            return None
        try:
            if not _DAY.fullmatch(text):
                raise ValueError(text)
            value = date.fromisoformat(text)
        except ValueError:
            self.fail(column, "date")
            return None
        if not FIRST_DAY <= value <= today:
            self.fail(column, "date_range", today=today.isoformat())
            return None
        return value

    def choice(self, column: str, choices: tuple[str, ...], required: bool = False) -> str | None:
        text = self.cell(column, required)
        if text is None:
            return None
        if text not in choices:
            self.fail(column, "choice", choices=", ".join(choices))
            return None
        return text

    def flag(self, column: str) -> bool:
        if isinstance(self.data.get(column), bool):
            return bool(self.data[column])
        text = self.cell(column)
        if text is None:
            return False
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered not in _FALSE:
            self.fail(column, "flag")
        return False

    def phone(self, column: str) -> str:
        text = self.cell(column, required=True)
        if text is None:
            return ""
        if len(text) > 40:
            self.fail(column, "too_long", max=40)
            return ""
        try:
            return _normalized(text)
        except PhoneError as error:
            self.fail(column, "phone_" + error.reason)
            return ""

    def checked(self, kind: str, values: dict[str, Any]) -> Checked:
        if self.problems:
            return Checked(kind, {}, tuple(self.problems), tuple(self.warnings))
        return Checked(kind, values, (), tuple(self.warnings))


_PRODUCTS = tuple(p.value for p in Product)
_STAGES = tuple(s.value for s in Stage)
_CONTACT_KINDS = tuple(k.value for k in ContactKind)
_PROVENANCES = tuple(p.value for p in Provenance)
_ROLES = tuple(r.value for r in ReferenceRole)


# A customer's mobile is often their WhatsApp too: each spelling is parsed once.
_normalized = lru_cache(maxsize=1 << 16)(normalize_phone)


def check_row(kind: str, data: Mapping[str, Any], today: date) -> Checked:
    """One row of `kind` checked as layout version 1 says, `today` being the import's day (no date
    after it). Every column is checked, so a refused row lists all its problems at once."""
    row = _Row(data)
    allowed = COLUMNS[kind]
    for name in data:
        if name not in allowed:
            shown = CONTROLS.sub("", str(name))[:40]
            row.fail(shown, "not_a_column", columns=", ".join(allowed))
    if kind == "customers":
        return _customer(row, today)
    if kind == "accounts":
        return _account(row, today)
    if kind == "contacts":
        return _contact(row)
    return _reference(row)


def _customer(row: _Row, today: date) -> Checked:
    values: dict[str, Any] = {
        "customer_ref": row.pattern("customer_ref", _REF, "ref", required=True),
        "full_name": row.text("full_name", 200, required=True),
        "birth_date": row.day("birth_date", today, required=True),
        "rfc": row.text("rfc", 13).upper(),
        "curp": row.text("curp", 18).upper(),
    }
    # The checkers' libraries load with the first file, not with every start of the CLI (~30 ms).
    from stdnum.exceptions import ValidationError
    from stdnum.mx import curp as stdnum_curp
    from stdnum.mx import rfc as stdnum_rfc

    if values["rfc"]:
        try:
            values["rfc"] = stdnum_rfc.validate(values["rfc"], validate_check_digits=True)
        except ValidationError:
            row.warnings.append(Problem("rfc", "rfc"))
    if values["curp"]:
        try:
            values["curp"] = stdnum_curp.validate(values["curp"], validate_check_digits=True)
        except ValidationError:
            row.warnings.append(Problem("curp", "curp"))
    return row.checked("customers", values)


def _account(row: _Row, today: date) -> Checked:
    product = row.choice("product", _PRODUCTS, required=True)
    number = row.pattern("account_number", ACCOUNT_NUMBER, "account_number", required=True)
    if number and product == Product.CREDIT_CARD.value:
        try:
            truncate_pan(number)
        except InvalidCardNumber:
            row.fail("account_number", "card_number")
    values: dict[str, Any] = {
        "account_number": number,
        "customer_ref": row.pattern("customer_ref", _REF, "ref", required=True),
        "product": product,
        **{column: row.money(column, required=True) for column in MONEY_COLUMNS},
        "dpd": row.integer("dpd", *DPD_RANGE, "dpd_range", required=True),
        "segment": row.pattern("segment", _SEGMENT, "segment", required=True),
        "opened_on": row.day("opened_on", today, required=True),
        "stage": row.choice("stage", _STAGES),
        "last_payment_on": row.day("last_payment_on", today),
        "last_payment": row.money("last_payment"),
        "currency": row.pattern("currency", _CURRENCY, "currency") or "MXN",
        "creditor": row.text("creditor", 64),
        "closed": row.flag("closed"),
        "agent": row.pattern("agent", _AGENT, "agent") or None,
    }
    return row.checked("accounts", values)


def _contact(row: _Row) -> Checked:
    kind = row.choice("kind", _CONTACT_KINDS, required=True)
    value = ""
    if kind in PHONE_KINDS:
        value = row.phone("value")
    elif kind == ContactKind.EMAIL.value:
        text = row.text("value", 254, required=True)
        if text:
            from email_validator import EmailNotValidError, validate_email

            try:
                value = validate_email(text, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                row.fail("value", "email")
    elif kind == ContactKind.ADDRESS.value:
        value = row.text("value", 300, required=True)
    else:
        row.cell("value", required=True)
    state = row.pattern("state_code", _STATE, "state_code")
    if state and not 1 <= int(state) <= 32:
        row.fail("state_code", "state_code")
        state = ""
    municipality = row.pattern("municipality_code", _MUNICIPALITY, "municipality_code")
    if municipality and len(municipality) == 5 and state and not municipality.startswith(state):
        row.fail("municipality_code", "municipality_code")
    elif municipality and len(municipality) == 3:
        if state:
            municipality = state + municipality
        else:
            row.fail("municipality_code", "municipality_needs_state")
    if municipality and not state:
        state = municipality[:2]
    postal = row.pattern("postal_code", _POSTAL, "postal_code")
    if kind is not None and kind != ContactKind.EMAIL.value and not state and not postal and not row.problems:
        row.fail("state_code", "place")
    values: dict[str, Any] = {
        "customer_ref": row.pattern("customer_ref", _REF, "ref", required=True),
        "kind": kind,
        "value": value,
        "state_code": state,
        "municipality_code": municipality,
        "postal_code": postal,
        "provenance": row.choice("provenance", _PROVENANCES, required=True),
        "consent_sms": row.flag("consent_sms"),
        "consent_whatsapp": row.flag("consent_whatsapp"),
        "consent_email": row.flag("consent_email"),
        "primary": row.flag("primary"),
    }
    return row.checked("contacts", values)


def _reference(row: _Row) -> Checked:
    values: dict[str, Any] = {
        "account_number": row.pattern("account_number", ACCOUNT_NUMBER, "account_number", required=True),
        "name": row.text("name", 200, required=True),
        "phone": row.phone("phone"),
        "role": row.choice("role", _ROLES, required=True),
        "relationship": row.text("relationship", 40),
    }
    return row.checked("references", values)


def key_of(kind: str, data: Mapping[str, Any]) -> str | None:
    """The natural key a row names, read without checking the rest (an account's number): what a
    full import counts as present even when the row is refused for another column."""
    column = {"customers": "customer_ref", "accounts": "account_number"}.get(kind)
    value = data.get(column) if column else None
    if isinstance(value, str):
        value = value.strip()
        pattern = _REF if kind == "customers" else ACCOUNT_NUMBER
        return value if pattern.fullmatch(value) else None
    return None
