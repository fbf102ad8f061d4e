"""The supervisor's dashboard: the week's contact KPIs, the portfolio's aging as bars, the month's
roll rates as a matrix (docs/kpi.md). `c` writes the tables as CSV for a spreadsheet."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from cobro_tui.domain.money import Money
from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import money, t
from cobro_tui.services.approvals import SupervisorService
from cobro_tui.ui.screens.server_screen import ServerScreen
from cobro_tui.ui.widgets.key_bar import KeyBar

BAR = 40  # cells for the longest aging bar


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def aging_bars(rows: list[dict[str, Any]]) -> str:
    """One line per bucket: a bar as long as its share of the largest balance, then accounts and balance."""
    top = max((r["balance"] for r in rows), default=0) or 1
    width = max((len(r["bucket"]) for r in rows), default=0)
    return "\n".join(f"{r['bucket']:<{width}} {'█' * round(BAR * r['balance'] / top):<{BAR}} "
                     f"{r['accounts']:>6}  {money(Money(r['balance']))}" for r in rows)


class DashboardScreen(ServerScreen):
    HEADING = "#dashboard-kpi"
    BINDINGS = [
        Binding("escape", "back", "keys.approvals", id="dashboard.back"),
        Binding("c", "export", "keys.export", id="dashboard.export"),
        Binding("ctrl+r", "reload", "keys.reload", id="dashboard.reload"),
    ]

    def __init__(self, service: SupervisorService) -> None:
        super().__init__()
        self.service = service
        self.portfolio: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dashboard"):
            yield Static(t("dashboard.loading"), id="dashboard-kpi")
            yield Static("", id="dashboard-aging")
            yield Static(t("dashboard.roll_title"), classes="form-title")
            yield DataTable(id="dashboard-roll", cursor_type="none", zebra_stripes=True)
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.load()

    def fetch(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.service.dashboard()

    def show(self, data: tuple[dict[str, Any], dict[str, Any]]) -> None:
        summary = self.query_one("#dashboard-kpi", Static)
        kpi, self.portfolio = data
        kept = kpi["kept"]
        summary.update("\n".join([
            t("dashboard.week", agents=len(kpi["agents"])),
            t("kpi.contacts", attempts=kpi["attempts"], contacts=kpi["contacts"], hours=kpi["agent_hours"],
              per_hour=rate(None) if kpi["attempts_per_hour"] is None else f"{kpi['attempts_per_hour']:.1f}",
              contacts_per_hour="—" if kpi["contacts_per_hour"] is None else f"{kpi['contacts_per_hour']:.1f}",
              rpc=rate(kpi["rpc_rate"])),
            t("kpi.promises", promises=kpi["promises"], rate=rate(kpi["promise_rate"])),
            t("kpi.kept", judged=kept["judged"], kept=kept["kept"], rate=rate(kept["rate"]),
              amount_rate=rate(kept["amount_rate"])),
        ]))
        self.query_one("#dashboard-aging", Static).update(t("dashboard.aging_title") + "\n" + aging_bars(self.portfolio["aging"]))
        order = [row["bucket"] for row in self.portfolio["aging"]] + ["closed"]
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column(t("dashboard.roll_from"), key="from")
        for code in order:
            table.add_column(t("dashboard.closed") if code == "closed" else code, key=code)
        for start in order:
            row = self.portfolio["roll_rates"].get(start)
            if row:
                table.add_row(start, *(rate(row.get(code)) if code in row else "" for code in order), key=start)

    @work(thread=True, exclusive=True, group="dashboard-export", exit_on_error=False)
    def action_export(self) -> None:
        if self.portfolio is None:
            return
        folder = self.app.settings.resolved_data_dir() / "kpi"  # type: ignore[attr-defined]
        try:
            written = self.service.export(self.portfolio, folder)
        except UserFacingError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error")
            return
        self.app.call_from_thread(self.notify, t("dashboard.exported", paths=", ".join(str(p) for p in written)), timeout=8)

