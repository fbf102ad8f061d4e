"""One handler for every worker of both apps that fails: the person is told in one line what
happened and what to do, the traceback goes to the crash report, and the app picks up again
(the workstation re-arms its background sync). Workers run with exit_on_error=False so that a
failure never closes the app; this is where their failures surface."""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from cobro_tui import logs
from cobro_tui.crash import write_crash_report
from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import t
from cobro_tui.ui.screen_keys import ScreenKeys


class WorkerFailures(ScreenKeys):
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        if isinstance(event.worker.error, UserFacingError):
            # Not a bug: what the person can do about it (a full disk, a damaged cache), said as it is.
            logs.get("ui").warning("worker %s stopped: %s", event.worker.name, type(event.worker.error).__name__)
            self.notify(event.worker.error.message, severity="error", timeout=30)
            self.after_worker_failure(event.worker)
            return
        try:
            report = str(write_crash_report(event.worker.error))
        except OSError:
            report = "-"  # the log folder cannot be written: the message still goes out
        logs.get("ui").error(
            "worker %s failed; crash report %s", event.worker.name, report, exc_info=event.worker.error
        )
        self.notify(t("app.worker_failed", report=report), severity="error", timeout=20)
        self.after_worker_failure(event.worker)

    def after_worker_failure(self, worker: Worker[object]) -> None:
        """What the app does after one of its workers failed (nothing by default)."""
