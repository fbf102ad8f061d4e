"""The crash report: a failure's traceback (code lines, never the values of variables) appended to
crash.log in the user's log folder (beside cobro-tui.log; COBRO_LOG_DIR moves both), 0600, for the support team."""

from __future__ import annotations

import traceback
from contextlib import suppress
from pathlib import Path

from cobro_tui.domain.text import without_controls
from cobro_tui.files import private_file
from cobro_tui.logs import log_dir, redacted


def crash_log() -> Path:
    return log_dir() / "crash.log"


KEEP_BYTES = 1024 * 1024  # past this, the report moves to crash.log.1 (one old one kept)


def write_crash_report(error: BaseException | None = None) -> Path:
    """Append `error`'s traceback (the exception being handled when None); the file's path. The
    exception's own words are masked like a log line's (they may quote a value)."""
    path = crash_log()
    text = "".join(traceback.format_exception(error)) if error is not None else traceback.format_exc()
    with suppress(OSError):
        if path.stat().st_size > KEEP_BYTES:
            path.replace(path.with_name("crash.log.1"))
    with private_file(path, "a", tighten=False) as handle:
        handle.write(redacted(without_controls(text)) + "\n")
    return path
