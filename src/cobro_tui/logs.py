"""Standard logging for both sides, never with personal data.

The workstation writes `cobro-tui.log` in the platform's log folder (COBRO_LOG_DIR to move it):
a 0600 file that rotates at 1 MiB and keeps five old ones, beside the crash report. The server
writes JSON lines on standard error, one per request with its request id, for the floor's log
collector. Times are the one clock's, in UTC, and say so (`Z`).

What is logged is ids, counts, durations and reasons: never a name, phone, e-mail, RFC, CURP or card
number. Call sites keep to that; `Redact` is the second line, masking what looks like one of them
in any message (a server's refusal text, an exception's words) before it is written.
"""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
import os
import re
import sys
from contextvars import ContextVar
from datetime import UTC
from pathlib import Path
from typing import IO, Any

import platformdirs

from cobro_tui.clock import Clock, SystemClock
from cobro_tui.files import PRIVATE_FILE, private_dir

ROOT = "cobro_tui"
LOG_FILE = "cobro-tui.log"
ROTATE_BYTES = 1024 * 1024
KEEP_FILES = 5

# The request a server log line belongs to (set by the request-log middleware for its request).
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_MASKS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<e-mail>"),
    (re.compile(r"\b[A-ZÑ]{4}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d\b", re.IGNORECASE), "<curp>"),
    (re.compile(r"\b[A-ZÑ&]{3,4}\d{6}[A-Z0-9]{3}\b", re.IGNORECASE), "<rfc>"),
    # Card numbers kept in their truncated form (first six, last four), with any mask character.
    # (Written so that no text can be split two ways: a run of mask characters is one group.)
    (re.compile(r"(?<![\w.-])\d{4,6}[ -]?[*•Xx]{2,}(?:[ -][*•Xx]{2,})*[ -]?\d{2,4}(?![\w-])"), "<number>"),
    # Phones, card and account numbers: ten digits or more, together or spaced with ' ', '-', '.',
    # '(' or ')'. Fewer (counts, byte sizes, dates, times) and digits inside ids are left alone.
    (re.compile(r"(?<![\w.:-])\+?\(?\d(?:[ .()-]{0,2}\d){9,}(?![\w:-])"), "<number>"),
)
# Control characters in a message (a server's words, an exception's) would forge lines or move the
# terminal of whoever reads the log: shown as escapes instead.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_MESSAGE = 1000


def redacted(text: str) -> str:
    """`text` with anything shaped like an e-mail, CURP, RFC, phone or card number masked."""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


def one_line(text: str) -> str:
    """`text` as one line of at most MAX_MESSAGE characters, its control characters escaped."""
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + "…"
    return _CONTROLS.sub(lambda m: repr(m.group())[1:-1], text)


class Redact(logging.Filter):
    """Masks personal data in a record's message (its arguments merged in first), on one line. An
    exception is named by its type only: its words may quote a value (the crash report has them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({type(record.exc_info[1]).__name__})"
            record.exc_info = None
        record.msg = one_line(redacted(message[: MAX_MESSAGE + 1]))
        record.args = None
        return True


def _stamp(clock: Clock) -> str:
    return clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Lines(logging.Formatter):
    """`2026-12-03T16:00:00.000Z INFO sync: message`, the time from the one clock, in UTC."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def format(self, record: logging.LogRecord) -> str:
        where = record.name.removeprefix(ROOT + ".")
        return f"{_stamp(self.clock)} {record.levelname} {where}: {record.getMessage()}"


# Structured fields a call site may attach with `extra=`; anything else stays out of the JSON.
FIELDS = ("event", "method", "route", "status", "ms", "user", "device", "count", "reason", "bytes")


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and the known fields."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _stamp(self.clock),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            line["request_id"] = rid
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                # Staff usernames are who asked, kept as they are; any other text is masked.
                line[name] = one_line(redacted(value)) if isinstance(value, str) and name != "user" else value
        return json.dumps(line, ensure_ascii=False, default=str)


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file is 0600 from its first byte, in a 0700 folder."""

    def _open(self) -> io.TextIOWrapper:
        private_dir(Path(self.baseFilename).parent, tighten=False)  # a folder someone named keeps its mode
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        os.fchmod(descriptor, PRIVATE_FILE)
        return io.TextIOWrapper(io.FileIO(descriptor, "a"), encoding="utf-8", errors="replace", write_through=True)


def log_dir() -> Path:
    """Where the workstation's log and crash report go: COBRO_LOG_DIR, else the platform's log folder."""
    named = os.environ.get("COBRO_LOG_DIR")
    return Path(named).expanduser() if named else platformdirs.user_log_path("cobro-tui")


def stop_log() -> None:
    """Close the log this module started (a test's, or before the process switches sides)."""
    for name in (ROOT, "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            if getattr(old, "cobro_owned", False):
                logger.removeHandler(old)
                old.close()


def _install(handler: logging.Handler, level: int) -> logging.Logger:
    stop_log()
    root = logging.getLogger(ROOT)
    handler.addFilter(Redact())
    handler.cobro_owned = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    return root


def start_workstation_log(clock: Clock | None = None, level: int = logging.INFO) -> Path:
    """Send the program's log to the rotating private file; the file's path. A folder that cannot be
    written leaves the program without a log rather than without a workstation."""
    path = log_dir() / LOG_FILE
    try:
        handler: logging.Handler = _PrivateRotatingFile(path, maxBytes=ROTATE_BYTES, backupCount=KEEP_FILES)
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(_Lines(clock or SystemClock()))
    _install(handler, level)
    return path


def start_server_log(clock: Clock | None = None, stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """JSON lines on standard error (or `stream`) for the server, uvicorn's own lines included."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines(clock or SystemClock()))
    root = _install(handler, level)
    for name in ("uvicorn", "uvicorn.error"):
        other = logging.getLogger(name)
        other.handlers = list(root.handlers)
        other.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # its lines carry raw paths; ours has the route


def get(name: str) -> logging.Logger:
    """The logger for one part of the program (`sync`, `server.requests`, ...)."""
    return logging.getLogger(f"{ROOT}.{name}")
