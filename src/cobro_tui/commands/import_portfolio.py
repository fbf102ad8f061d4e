"""`cobro-tui import portfolio PATH...`: the institution's customers, accounts, contacts and references
files (layout version 1, docs/import.md) into the server, streamed in batches of at most 5,000 rows
to PUT /v1/portfolio with the integration key; a report of every refused row and warning beside
each input (`<input>.report.csv`) and a summary.

Exit codes: 0 every row went in, 1 some rows were refused, 2 the command or a file cannot be used,
4 the server cannot be reached.
"""

from __future__ import annotations

import argparse
import csv
import sys
import uuid
from collections.abc import Callable, Generator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from cobro_tui.domain.portfolio_file import (
    KINDS,
    LAYOUT,
    LayoutError,
    Problem,
    RawRow,
    check_row,
    format_of_name,
    kind_of_name,
    read_rows,
)
from cobro_tui.domain.text import shown_line
from cobro_tui.errors import UserFacingError

KIND = "portfolio"
BATCH_ROWS = 5000
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 4
REPORT_COLUMNS = ("file", "line", "column", "severity", "code", "message", "value")
STATUSES = ("new", "changed", "unchanged", "closed", "refused")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from cobro_tui.commands import feeds

    parser = sub.add_parser(
        KIND,
        help="customers, accounts, contacts and references files (docs/import.md) into the server",
        description="Each PATH is a .csv or .jsonl file whose name starts with its kind (customers, accounts, "
        "contacts, references), or KIND=PATH. A report of refused rows is written beside each file.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="the files, or KIND=PATH")
    feeds.add_arguments(parser)
    parser.add_argument("--full", action="store_true", help="the accounts file is the whole portfolio")
    parser.add_argument(
        "--close-missing",
        action="store_true",
        help="with --full: close the server's accounts the accounts file does not name (never deleted)",
    )
    parser.add_argument("--dry-run", action="store_true", help="check the files and write the reports; send nothing")
    parser.add_argument("--batch", type=int, default=BATCH_ROWS, help=argparse.SUPPRESS)


@dataclass(frozen=True, slots=True)
class Input:
    kind: str
    path: Path
    file_format: str

    @property
    def report(self) -> Path:
        return self.path.with_name(self.path.name + ".report.csv")


@dataclass
class Tally:
    """What happened to the rows of one file."""

    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*STATUSES, "warnings"), 0))


class Usage(UserFacingError):
    exit_code = EXIT_USAGE


def inputs(paths: list[str]) -> list[Input]:
    """The files named, in the order they are imported (customers, accounts, contacts, references)."""
    from cobro_tui.i18n import t

    found: dict[str, Input] = {}
    for text in paths:
        kind, sep, rest = text.partition("=")
        if sep and kind in KINDS:
            path = Path(rest)
        else:
            path, found_kind = Path(text), kind_of_name(Path(text).name)
            if found_kind is None:
                raise Usage(t("import.layout.unknown_kind", path=text))
            kind = found_kind
        file_format = format_of_name(path.name)
        if file_format is None:
            raise Usage(t("import.layout.unknown_format", path=path))
        if not path.is_file():
            raise Usage(t("import.layout.unreadable", path=path, error="no such file"))
        if kind in found:
            raise Usage(t("import.layout.twice", kind=kind))
        found[kind] = Input(kind, path, file_format)
    return [found[kind] for kind in KINDS if kind in found]


def problem_text(problem: Problem, fallback: str = "") -> str:
    from cobro_tui.i18n import catalog, language, t

    key = f"import.problem.{problem.code}"
    if key not in catalog(language()) and fallback:
        return fallback
    try:
        return t(key, **problem.params)
    except (KeyError, IndexError, ValueError):
        return fallback or problem.code


class Report:
    """The report CSV beside one input: a line per refusal and per warning."""

    def __init__(self, source: Input, handle: IO[str]) -> None:
        self.source = source
        self.writer = csv.writer(handle)
        self.writer.writerow(REPORT_COLUMNS)

    def write(self, line: int, severity: str, problem: Problem, data: dict[str, Any], message: str = "") -> None:
        value = data.get(problem.column) if problem.column else None
        self.writer.writerow(
            (
                self.source.path.name,
                line,
                problem.column,
                severity,
                problem.code,
                problem_text(problem, message),
                "" if value is None else shown_line(str(value))[:80],
            )
        )


def _open_lines(source: Input) -> Generator[str, None, None]:
    from cobro_tui.i18n import t

    try:
        # surrogateescape: a byte that is not UTF-8 refuses its row (not_utf8), not the whole file.
        with source.path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            yield from handle
    except OSError as error:
        raise Usage(t("import.layout.unreadable", path=source.path, error=error.strerror or error)) from None


def _layout_refusal(source: Input, error: LayoutError) -> Usage:
    from cobro_tui.i18n import t

    message = t(f"import.layout.{error.code}", **error.params)
    return Usage(t("import.layout.refused_file", path=source.path, line=error.line, message=message))


def check_headers(sources: list[Input]) -> None:
    """Every file's header read before any row is sent: a file that cannot be its kind stops all."""
    for source in sources:
        if source.file_format != "csv":
            continue
        lines = _open_lines(source)
        try:
            next(iter(read_rows(source.kind, "csv", lines)), None)
        except LayoutError as error:
            raise _layout_refusal(source, error) from None
        finally:
            lines.close()


Sender = Callable[[list[tuple[str, dict[str, Any]]], bool], dict[str, Any]]


def _verdicts_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    rows = answer.get("rows")
    return rows if isinstance(rows, list) else []


def import_file(source: Input, report: Report, send: Sender | None, batch_rows: int, today: date) -> Tally:
    """One file's rows to the server in batches (or checked here, without `send`). One batch is in
    flight while the next is read: the server works on one while this process reads the file."""
    from concurrent.futures import Future, ThreadPoolExecutor

    tally = Tally()
    batch: list[tuple[int, dict[str, Any]]] = []
    in_flight: tuple[list[tuple[int, dict[str, Any]]], Future[dict[str, Any]]] | None = None

    def record(rows: list[tuple[int, dict[str, Any]]], verdicts: list[dict[str, Any]]) -> None:
        for (line, data), verdict in zip(rows, verdicts):
            status = str(verdict.get("status", "refused"))
            tally.counts[status if status in tally.counts else "refused"] += 1
            for severity, key in (("error", "problems"), ("warning", "warnings")):
                for item in verdict.get(key) or []:
                    problem = Problem(str(item.get("column", "")), str(item.get("code", "")), item.get("params") or {})
                    report.write(line, severity, problem, data, str(item.get("message", "")))
            if verdict.get("warnings"):
                tally.counts["warnings"] += 1

    def land() -> None:
        nonlocal in_flight
        if in_flight is not None:
            rows, answer = in_flight
            in_flight = None
            record(rows, _verdicts_of(answer.result()))

    def settle(pool: ThreadPoolExecutor) -> None:
        nonlocal in_flight, batch
        if not batch:
            return
        rows, batch = batch, []
        if send is None:
            record(rows, [_checked_here(source.kind, data, today) for _, data in rows])
            return
        land()  # the answer to the batch before, in order, before this one goes
        in_flight = (rows, pool.submit(send, [(source.kind, data) for _, data in rows], False))

    lines = _open_lines(source)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-send") as pool:
        try:
            for row in read_rows(source.kind, source.file_format, lines):
                tally.rows += 1
                if row.problems:
                    _refused_here(row, report, tally)
                    continue
                batch.append((row.line, row.data))
                if len(batch) >= batch_rows:
                    settle(pool)
            settle(pool)
            land()
        except LayoutError as error:
            raise _layout_refusal(source, error) from None
        finally:
            lines.close()
    return tally


def _checked_here(kind: str, data: dict[str, Any], today: date) -> dict[str, Any]:
    checked = check_row(kind, data, today)
    return {
        "status": "new" if checked.ok else "refused",
        "problems": [_wire(p) for p in checked.problems],
        "warnings": [_wire(p) for p in checked.warnings],
    }


def _refused_here(row: RawRow, report: Report, tally: Tally) -> None:
    tally.counts["refused"] += 1
    for problem in row.problems:
        report.write(row.line, "error", problem, row.data)


def _wire(problem: Problem) -> dict[str, Any]:
    return {"column": problem.column, "code": problem.code, "params": problem.params}


def run(args: argparse.Namespace) -> int:
    from cobro_tui.clock import clock_for
    from cobro_tui.i18n import set_language, t
    from cobro_tui.settings import load_settings
    from cobro_tui.sync.client import AuthFailed, Refused, SyncError, Unreachable

    settings = load_settings()
    set_language(settings.lang)
    sources = inputs(args.paths)
    if args.close_missing and (not args.full or not any(s.kind == "accounts" for s in sources)):
        raise Usage(t("import.layout.close_needs_full"))
    batch_rows = max(1, min(int(args.batch), BATCH_ROWS))
    check_headers(sources)
    from zoneinfo import ZoneInfo

    today = clock_for(settings.now).now().astimezone(ZoneInfo("America/Mexico_City")).date()
    api = None
    send: Sender | None = None
    run_id = str(uuid.uuid4())
    if not args.dry_run:
        from cobro_tui.commands import feeds

        client = api = feeds.integration_api(args, settings)

        def send_batch(rows: list[tuple[str, dict[str, Any]]], last: bool) -> dict[str, Any]:
            body = {
                "layout": LAYOUT,
                "run_id": run_id,
                "full": bool(args.full),
                "close_missing": bool(args.close_missing),
                "last": last,
                "rows": [{"kind": kind, "data": data} for kind, data in rows],
            }
            return client.import_portfolio(body)

        send = send_batch

    print(t("import.summary.title", layout=LAYOUT, dry=t("import.summary.dry") if args.dry_run else ""))
    totals = dict.fromkeys((*STATUSES, "warnings"), 0)
    closed_missing = 0
    code = 0
    try:
        for source in sources:
            with ExitStack() as stack:
                handle = stack.enter_context(source.report.open("w", encoding="utf-8", newline=""))
                tally = import_file(source, Report(source, handle), send, batch_rows, today)
            _print_tally(source, tally, args.dry_run)
            for key, value in tally.counts.items():
                totals[key] += value
        if send is not None:
            closed_missing = int(send([], True).get("closed_missing", 0))
    except Unreachable as error:
        print(t("cli.error", message=error.message), file=sys.stderr)
        code = EXIT_UNREACHABLE
    except (AuthFailed, Refused) as error:
        print(t("cli.error", message=error.message), file=sys.stderr)
        code = EXIT_USAGE
    except SyncError as error:
        print(t("cli.error", message=error.message), file=sys.stderr)
        code = EXIT_UNREACHABLE
    finally:
        if api is not None:
            api.close()
    if len(sources) > 1:
        print(_counts_line(totals, args.dry_run))
    if closed_missing:
        print(t("import.summary.closed_missing", count=closed_missing))
    if code:
        return code
    if totals["refused"]:
        print(t("import.summary.refused", count=totals["refused"]))
        return EXIT_REFUSED
    print(t("import.summary.all_good_dry" if args.dry_run else "import.summary.all_good"))
    return 0


def _counts_line(counts: dict[str, int], dry_run: bool) -> str:
    from cobro_tui.i18n import t

    if dry_run:  # nothing was compared with the server: rows are only good or refused
        return t("import.summary.checked", good=counts["new"], refused=counts["refused"], warnings=counts["warnings"])
    return t("import.summary.counts", **counts)


def _print_tally(source: Input, tally: Tally, dry_run: bool) -> None:
    from cobro_tui.i18n import t

    print(t("import.summary.file", path=source.path, rows=tally.rows))
    print("  " + _counts_line(tally.counts, dry_run))
    print("  " + t("import.summary.report", path=source.report))
