"""The crash report: a failure's traceback (code lines, never the values of variables) appended to
crash.log in the user's log folder (beside cobro-tui.log; COBRO_LOG_DIR moves both), 0600, for the support team."""

from __future__ import annotations

import traceback
from pathlib import Path

from cobro_tui.files import private_file
from cobro_tui.logs import log_dir


def crash_log() -> Path:
    return log_dir() / "crash.log"


def write_crash_report(error: BaseException | None = None) -> Path:
    """Append `error`'s traceback (the exception being handled when None); the file's path."""
    path = crash_log()
    text = "".join(traceback.format_exception(error)) if error is not None else traceback.format_exc()
    with private_file(path, "a") as handle:
        handle.write(text + "\n")
    return path
