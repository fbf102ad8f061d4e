"""`cobro-tui import payments PATH...`: the bank's payments file into the server (docs/import-payments.md).

Every row is checked here first (line, column, what is expected); the good ones go to
POST /v1/payments one by one, named by the institution's account number, and the server judges the
account's promises. A payment id already recorded is reported as such and changes nothing, so the
same file can be sent again after a cut. Beside each input, `<input>.report.csv` has one line per
problem or per payment sent. Exit codes: 0 all recorded, 1 some rows refused, 2 usage (a file that
cannot be read, a missing column, a refused credential), 4 the server did not answer.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from cobro_tui.domain.models import PAYMENT_CHANNELS
from cobro_tui.domain.money import Money
from cobro_tui.domain.portfolio_file import ACCOUNT_NUMBER
from cobro_tui.domain.text import without_controls

KIND = "payments"
COLUMNS = ("payment_id", "account_number", "amount", "currency", "paid_on", "channel", "reference")
REQUIRED = ("payment_id", "account_number", "amount", "paid_on", "channel")  # currency: MXN; reference: ""
JSON_SUFFIXES = (".jsonl", ".ndjson")
REPORT_COLUMNS = ("line", "payment_id", "result", "column", "message", "promises")
RETRIES = 3  # a busy server (429/503) is asked again after its Retry-After, so many times

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CENTAVOS = re.compile(r"^[0-9]{1,20}$")
_PESOS = re.compile(r"^[0-9]{1,18}\.[0-9]{2}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_SHOWN = 40  # characters of a refused value quoted back


class _Stop(Exception):
    """What ends the whole run: the exit code and the message (already translated)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True, slots=True)
class Problem:
    column: str
    message: str


@dataclass(slots=True)
class Checked:
    """One row of the file: its first line, the payment it asks for, or what is wrong with it."""

    line: int
    payment_id: str
    body: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class Tally:
    recorded: int = 0
    already: int = 0
    refused: int = 0
    checked: int = 0  # --dry-run: rows that would be sent
    promises: dict[str, int] = field(default_factory=dict)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from cobro_tui.commands import feeds

    parser = sub.add_parser(
        KIND,
        help="the bank's payments file (CSV or JSON Lines); promises judged as the payments arrive",
        description="Columns: " + ", ".join(COLUMNS) + ". See docs/import-payments.md.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="CSV (.csv) or JSON Lines (.jsonl)")
    feeds.add_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="check every row and write the report; send nothing")


def run(args: argparse.Namespace) -> int:
    from cobro_tui.i18n import set_language, t
    from cobro_tui.settings import load_settings

    settings = load_settings()
    set_language(settings.lang)
    for path in args.paths:
        if not path.is_file():
            print(t("payments.no_file", path=_safe(str(path), 200)), file=sys.stderr)
            return 2
    api = None
    if not args.dry_run:
        from cobro_tui.commands import feeds

        api = feeds.integration_api(args, settings)
    worst = 0
    try:
        for path in args.paths:
            worst = max(worst, _import_file(path, api))
    except _Stop as stop:
        print(t("cli.error", message=stop.message), file=sys.stderr)
        return stop.code
    finally:
        if api is not None:
            api.close()
    return worst


def report_path(path: Path) -> Path:
    """Where the report of `path` goes: beside it, `<input>.report.csv`."""
    return path.with_name(path.name + ".report.csv")


def _import_file(path: Path, api: Any) -> int:
    from cobro_tui.i18n import t

    tally = Tally()
    shown = _safe(str(path), 200)
    with report_path(path).open("w", encoding="utf-8", newline="") as handle:
        report = csv.writer(handle)
        report.writerow(REPORT_COLUMNS)
        try:
            for row in rows_of(path):
                _one(shown, row, api, report, tally)
        except _Stop as stop:
            if stop.code == 2:
                report.writerow(_cells(0, "", "refused", "", stop.message, ""))
            raise
    parts = {"recorded": tally.recorded, "already": tally.already, "refused": tally.refused}
    if api is None:
        print(t("payments.summary_dry", path=shown, checked=tally.checked, refused=tally.refused))
    else:
        print(t("payments.summary", path=shown, **parts))
    for status in ("kept", "partial", "broken"):
        if tally.promises.get(status):
            print(t(f"payments.promises_{status}", count=tally.promises[status]))
    print(t("payments.report_at", report=_safe(str(report_path(path)), 200)))
    return 1 if tally.refused else 0


def _one(shown: str, row: Checked, api: Any, report: Any, tally: Tally) -> None:
    from cobro_tui.i18n import t

    if row.body is None:
        tally.refused += 1
        for problem in row.problems:
            print(
                t("payments.refused_row", path=shown, line=row.line, column=problem.column, message=problem.message),
                file=sys.stderr,
            )
            report.writerow(_cells(row.line, row.payment_id, "refused", problem.column, problem.message, ""))
        return
    if api is None:
        tally.checked += 1
        report.writerow(_cells(row.line, row.payment_id, "checked", "", "", ""))
        return
    answer = _send(api, row.body)
    if isinstance(answer, Problem):
        tally.refused += 1
        print(
            t("payments.refused_row", path=shown, line=row.line, column=answer.column, message=answer.message),
            file=sys.stderr,
        )
        report.writerow(_cells(row.line, row.payment_id, "refused", answer.column, answer.message, ""))
        return
    new = bool(answer.get("new"))
    judged = answer.get("promises") or []
    if new:
        tally.recorded += 1
    else:
        tally.already += 1
    promises = []
    for promise in judged:
        status = str(promise.get("status", ""))
        tally.promises[status] = tally.promises.get(status, 0) + 1
        paid = promise.get("paid_centavos")
        promises.append(f"{promise.get('id', '')}:{status}")
        if status in ("kept", "partial", "broken"):
            print(
                t(
                    f"payments.promise_{status}",
                    path=shown,
                    line=row.line,
                    payment=row.payment_id,
                    account=row.body["account_number"],
                    promise=_safe(str(promise.get("id", "")), 64),
                    paid=_money(paid, row.body["currency"]),
                )
            )
    message = "" if new else t("payments.already_recorded")
    report.writerow(
        _cells(row.line, row.payment_id, "recorded" if new else "already_recorded", "", message, " ".join(promises))
    )


def _send(api: Any, body: dict[str, Any]) -> dict[str, Any] | Problem:
    """The server's answer to one payment, or the problem it found in it; a run-ending failure raises."""
    from cobro_tui.i18n import t
    from cobro_tui.sync.client import AuthFailed, Refused, RetryLater, Unreachable

    for attempt in range(RETRIES + 1):
        try:
            answer = api.payment(body)
            return answer if isinstance(answer, dict) else {}
        except RetryLater as busy:
            if attempt == RETRIES:
                raise _Stop(4, t("payments.busy")) from None
            time.sleep(min(busy.retry_after, 30.0))
        except Unreachable as exc:
            raise _Stop(4, t("payments.unreachable", error=exc.message)) from None
        except AuthFailed:
            raise _Stop(2, t("payments.key_refused", code="UNAUTHORIZED")) from None
        except Refused as refused:
            if refused.status in (401, 403):
                raise _Stop(2, t("payments.key_refused", code=refused.code)) from None
            return _server_problem(refused.code, refused.details, str(refused))
    raise AssertionError("unreachable")  # pragma: no cover


# What the server's refusals mean in the file's terms: the column each one is about.
_SERVER_COLUMNS = {
    "UNKNOWN_ACCOUNT": "account_number",
    "CURRENCY_MISMATCH": "currency",
    "PAID_ON_OUT_OF_RANGE": "paid_on",
    "PAYMENT_ID_REUSED": "payment_id",
}


def _server_problem(code: str, details: Any, message: str) -> Problem:
    from cobro_tui.i18n import t

    detail = _safe(message.split(": ", 1)[-1], 300)
    column = _SERVER_COLUMNS.get(code, "")
    key = f"payments.server.{code}" if column else "payments.server.other"
    return Problem(column, t(key, code=_safe(code, 64), detail=detail))


def rows_of(path: Path) -> Iterator[Checked]:
    """Every row of the file, checked; the file is read as it goes (never whole in memory)."""
    if path.suffix.lower() in JSON_SUFFIXES:
        yield from _json_rows(path)
    else:
        yield from _csv_rows(path)


def _text(path: Path) -> TextIO:
    # Bytes that are not UTF-8 come through as lone surrogates, refused where they stand (line, column).
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")


def _csv_rows(path: Path) -> Iterator[Checked]:
    from cobro_tui.i18n import t

    with _text(path) as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise _Stop(2, t("payments.bad_header", path=_safe(str(path), 200), missing=str(exc))) from None
        if header is None:
            raise _Stop(2, t("payments.empty_file", path=_safe(str(path), 200)))
        names = [name.strip().lower() for name in header]
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            raise _Stop(2, t("payments.bad_header", path=_safe(str(path), 200), missing=", ".join(missing)))
        line = reader.line_num + 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Checked(line, "", None, [Problem("", t("payments.bad_csv", error=_safe(str(exc), 200)))])
                line = reader.line_num + 1
                continue
            first, line = line, reader.line_num + 1
            if not any(value.strip() for value in fields):
                continue  # a blank line
            if len(fields) != len(names):
                yield Checked(
                    first, "", None, [Problem("", t("payments.field_count", found=len(fields), wanted=len(names)))]
                )
                continue
            yield check(first, dict(zip(names, fields)))


def _json_rows(path: Path) -> Iterator[Checked]:
    from cobro_tui.i18n import t

    with _text(path) as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                yield Checked(number, "", None, [Problem("", t("payments.bad_json"))])
                continue
            if not isinstance(value, dict):
                yield Checked(number, "", None, [Problem("", t("payments.bad_json"))])
                continue
            yield check(number, value)


def check(line: int, raw: dict[str, Any]) -> Checked:
    """One row's values against the layout: the body to send, or every problem found (one per column)."""
    from cobro_tui.i18n import t

    problems: list[Problem] = []

    def bad(column: str, key: str, value: Any = None, **values: Any) -> None:
        shown = "" if value is None else _safe(str(value), _SHOWN)
        problems.append(Problem(column, t(f"payments.expected.{key}", value=shown, **values)))

    def text(column: str) -> str | None:
        value = raw.get(column)
        if value is None:
            return None
        if not isinstance(value, str):
            if isinstance(value, bool) or not isinstance(value, int):
                bad(column, "text", value)
                return None
            value = str(value)
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            bad(column, "utf8")
            return None
        return value.strip()

    payment_id = text("payment_id") or ""
    if not _ID.match(payment_id):
        bad("payment_id", "payment_id", payment_id)
    account = text("account_number") or ""
    if not ACCOUNT_NUMBER.fullmatch(account):
        bad("account_number", "account_number", account)
    currency = text("currency") or "MXN"
    if not _CURRENCY.match(currency):
        bad("currency", "currency", currency)
    centavos = _amount(raw.get("amount"), bad)
    paid_on = _paid_on(text("paid_on") or "", bad)
    channel = (text("channel") or "").lower()
    if channel not in PAYMENT_CHANNELS:
        bad("channel", "channel", channel, channels=", ".join(PAYMENT_CHANNELS))
    reference = text("reference") or ""
    reference = without_controls(reference)  # as the server keeps it: no terminal controls
    if len(reference) > 64:
        bad("reference", "reference", reference)
    shown_id = payment_id if _ID.match(payment_id) else ""
    if problems or centavos is None or paid_on is None:
        return Checked(line, shown_id, None, problems)
    return Checked(
        line,
        payment_id,
        {
            "id": payment_id,
            "account_number": account,
            "amount_centavos": centavos,
            "currency": currency,
            "paid_on": paid_on.isoformat(),
            "channel": channel,
            "reference": reference,
        },
    )


def _amount(value: Any, bad: Any) -> int | None:
    """Integer centavos (123450) or pesos with exactly two decimals ("1234.50"); above zero."""
    from cobro_tui.api.models import MAX_CENTAVOS  # the API's bound (pydantic loads only when a file does)

    if isinstance(value, bool) or value is None or isinstance(value, float):
        bad("amount", "amount", value)
        return None
    if isinstance(value, int):
        centavos = value
    elif isinstance(value, str) and _CENTAVOS.match(value.strip()):
        centavos = int(value.strip())
    elif isinstance(value, str) and _PESOS.match(value.strip()):
        centavos = Money.parse(value.strip()).centavos
    else:
        bad("amount", "amount", value)
        return None
    if centavos <= 0:
        bad("amount", "amount_positive", value)
        return None
    if centavos > MAX_CENTAVOS:
        bad("amount", "amount_too_large", value, most=_money(MAX_CENTAVOS, "MXN"))
        return None
    return centavos


def _paid_on(value: str, bad: Any) -> date | None:
    from cobro_tui.api.models import FIRST_YEAR, LAST_YEAR

    try:
        day = date.fromisoformat(value) if _DAY.match(value) else None
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        bad("paid_on", "paid_on", value)
        return None
    return day


def _money(centavos: Any, currency: str) -> str:
    from cobro_tui.i18n import money

    if not isinstance(centavos, int) or isinstance(centavos, bool):
        return "—"
    return money(Money(centavos, currency))


def _safe(text: str, limit: int) -> str:
    """Text from a file or the server as it may reach a terminal or a spreadsheet: no controls, no
    undecodable bytes, cut at `limit` characters."""
    clean = without_controls(text.encode("utf-8", "replace").decode("utf-8")).replace("\n", " ")
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _cells(line: int, payment_id: str, result: str, column: str, message: str, promises: str) -> list[str]:
    # A cell a spreadsheet would take for a formula (=, +, -, @ first) is written as text.
    return [_cell(v) for v in (str(line) if line else "", payment_id, result, column, message, promises)]


def _cell(value: str) -> str:
    value = _safe(value, 500)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t") else value
