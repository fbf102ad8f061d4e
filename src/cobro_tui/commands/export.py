"""`cobro-tui export events`: what the floor recorded, out to the core and the CRM (docs/export.md).

Every page of GET /v1/export/events from `--since` (or after `--cursor`) to the end, written as JSON
Lines or CSV to `--output` (0600, written whole or not at all) or to standard output. The cursor to
resume from is the last line on standard error, alone, so a scheduler keeps it for `--cursor`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cobro_tui.commands import feeds
from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import t

NAME = "export"
PAGE = 1000

# The CSV columns (layout 1, docs/export.md): each from the first of its fields the event has.
_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("account_id", ("account_id", "account_ids")),
    ("account_number", ("account_number", "account_numbers")),
    ("customer_id", ("customer_id",)),
    ("agent", ("agent", "created_by", "author", "recorded_by", "to_agent")),
    ("record_id", ("id", "subject_id")),
    ("status", ("status", "decision", "restriction_kind")),
    ("code", ("result_code", "plan_kind", "command")),
    ("channel", ("channel",)),
    ("amount_centavos", ("amount_centavos", "total_centavos")),
    ("paid_centavos", ("paid_centavos",)),
    ("currency", ("currency",)),
    ("due_on", ("due_on",)),
    ("contact_point", ("contact_point_value",)),
    ("decided_by", ("decided_by", "approved_by", "cancelled_by", "by")),
    ("reason", ("reason", "why", "override_reason")),
    ("text", ("notes", "text", "note")),
)
COLUMNS = ("seq", "kind", "at", *(name for name, _ in _FIELDS), "data")

# A cell a spreadsheet would read as a formula (or a command, in some) starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(NAME, help="what the floor recorded, out to the core and the CRM")
    kinds = parser.add_subparsers(dest="export_kind", metavar="KIND", required=True)
    events = kinds.add_parser("events", help="contacts, promises and outcomes, plans and approvals, opt-outs, moves")
    events.add_argument("--since", metavar="ISO", help="the first instant, with its offset: 2026-12-01T00:00:00-06:00")
    events.add_argument(
        "--format", choices=("csv", "jsonl"), required=True, help="CSV with a header row, or JSON Lines"
    )
    events.add_argument("--cursor", metavar="C", help="resume after this cursor (the last line on stderr of a run)")
    events.add_argument("--output", metavar="FILE", type=Path, help="write here (0600) instead of standard output")
    events.add_argument("--page-size", type=int, default=PAGE, help=f"events per request, 1 to 5000 (default {PAGE})")
    feeds.add_arguments(events)


def since_of(text: str) -> datetime:
    """--since: an ISO-8601 instant with its offset (without one the instant is not one instant)."""
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise UserFacingError(t("export.since_invalid", value=text)) from None
    if found.tzinfo is None:
        raise UserFacingError(t("export.since_needs_offset", value=text))
    return found


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet cannot run: one starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(event: dict[str, Any]) -> list[Any]:
    """One event in the documented columns; lists (a customer's accounts) joined by spaces."""
    data = event["data"]
    row: list[Any] = [event["seq"], event["kind"], event["at"]]
    for _, keys in _FIELDS:
        value = next((data[k] for k in keys if data.get(k) is not None), None)
        if isinstance(value, list):
            value = " ".join(str(v) for v in value if v is not None)
        row.append("" if value is None else safe_cell(value))
    row.append(json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True))
    return row


def jsonl_line(event: dict[str, Any]) -> str:
    # ASCII only: no character of a note can act on a terminal or a reader's encoding.
    return json.dumps(event, ensure_ascii=True, separators=(",", ":")) + "\n"


@contextmanager
def _destination(path: Path | None) -> Iterator[IO[str]]:
    """Standard output, or the file: 0600 from its first byte, written beside it and moved in place
    only when every page was written (a run that stops leaves the previous file as it was)."""
    if path is None:
        yield sys.stdout
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise UserFacingError(t("export.cannot_write", path=str(path), error=exc.strerror or str(exc))) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        with suppress(FileNotFoundError):
            temporary.unlink()


def pages(fetch: Callable[[str | None], dict[str, Any]], cursor: str | None) -> Iterator[dict[str, Any]]:
    """Every page from `cursor` on, until the server says there is no more."""
    while True:
        page = fetch(cursor)
        yield page
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return


def run(args: argparse.Namespace) -> int:
    from cobro_tui.i18n import set_language
    from cobro_tui.settings import load_settings
    from cobro_tui.sync.client import SyncError

    if args.export_kind != "events":
        raise SystemExit(2)
    settings = load_settings()
    set_language(settings.lang)
    if args.since is None and args.cursor is None:
        raise UserFacingError(t("export.needs_start"))
    since = since_of(args.since) if args.since is not None else None  # checked even when --cursor wins
    if not 1 <= args.page_size <= 5000:
        raise UserFacingError(t("export.page_size", value=args.page_size))
    api = feeds.integration_api(args, settings)
    count, cursor = 0, args.cursor
    try:
        with _destination(args.output) as out:
            writer = csv.writer(out, lineterminator="\r\n") if args.format == "csv" else None
            if writer is not None:
                writer.writerow(COLUMNS)

            def fetch(at: str | None) -> dict[str, Any]:
                return api.export_events(cursor=at, since=since if at is None else None, limit=args.page_size)

            for page in pages(fetch, args.cursor):
                for event in page["events"]:
                    if writer is not None:
                        writer.writerow(csv_row(event))
                    else:
                        out.write(jsonl_line(event))
                count += len(page["events"])
                cursor = page["next_cursor"]
            out.flush()
    except SyncError as exc:
        raise UserFacingError(t("export.failed", message=exc.message)) from None
    finally:
        api.close()
    print(t("export.done", count=count), file=sys.stderr)
    print(cursor, file=sys.stderr)
    return 0
