"""The supervisor's dashboard (docs/kpi.md): the period's contact, promise and recovery KPIs, the
portfolio's aging as bars, contacts per hour of the day as bars, the month's roll rates as a matrix
and vintage curves by origination month. `p` changes the period; `c` writes every table as CSV."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from cobro_tui.domain.money import Money
from cobro_tui.i18n import money, t
from cobro_tui.services.approvals import SupervisorService, Table
from cobro_tui.services.kpi_text import per_hour, rate, summary_lines, team_words
from cobro_tui.ui.screens.server_screen import ServerScreen
from cobro_tui.ui.widgets.charts import bars, curve
from cobro_tui.ui.widgets.key_bar import KeyBar

BAR = 40  # cells for the longest bar
PERIODS = (7, 30, 90, 1)  # days; `p` goes to the next
COHORTS = 12  # the latest origination months drawn
AGENT_COLUMNS = (
    "agent",
    "attempts",
    "contacts",
    "per_hour",
    "rpc",
    "promises",
    "promise_rate",
    "kept_rate",
    "recovered",
)


def aging_bars(rows: list[dict[str, Any]]) -> str:
    """One line per bucket: a bar as long as its share of the largest balance, then accounts and balance."""
    return bars([(r["bucket"], r["balance"], f"{r['accounts']:>6}  {money(Money(r['balance']))}") for r in rows], BAR)


def hour_bars(rows: list[dict[str, Any]]) -> str:
    """One line per hour of the day with attempts: right-party contacts per agent-hour as a bar."""
    return bars(
        [
            (
                f"{r['hour']:02d}:00",
                r["contacts_per_hour"] or 0,
                t(
                    "dashboard.hour_text",
                    per_hour=per_hour(r["contacts_per_hour"]),
                    contacts=r["contacts"],
                    attempts=r["attempts"],
                ),
            )
            for r in rows
        ],
        BAR,
    ) or t("dashboard.no_contacts")


def vintage_lines(curves: dict[str, list[float | None]], sizes: dict[str, int]) -> str:
    """The latest cohorts with their accounts: a curve over months on book (one cell a month, scaled
    to the worst cohort), then the share at the latest month known."""
    shown = list(curves.items())[-COHORTS:]
    top = max((v for _, values in shown for v in values if v is not None), default=0.0)
    lines = []
    for cohort, values in shown:
        known = [(k, v) for k, v in enumerate(values, 1) if v is not None]
        last = t("dashboard.vintage_at", month=known[-1][0], share=rate(known[-1][1])) if known else ""
        lines.append(f"{cohort} {sizes.get(cohort, 0):>6}  {curve(values, top)}  {last}")
    return "\n".join(lines)


class DashboardScreen(ServerScreen):
    HEADING = "#dashboard-kpi"
    BINDINGS = [
        Binding("escape", "back", "keys.approvals", id="dashboard.back"),
        Binding("p", "period", "keys.period", id="dashboard.period"),
        Binding("g", "next_team", "keys.next_team", id="dashboard.next_team"),
        Binding("c", "export", "keys.export", id="dashboard.export"),
        Binding("ctrl+r", "reload", "keys.reload", id="dashboard.reload"),
    ]

    def __init__(self, service: SupervisorService) -> None:
        super().__init__()
        self.service = service
        self.days = PERIODS[0]
        self.kpi: dict[str, Any] | None = None
        self.portfolio: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dashboard"):
            yield Static(t("dashboard.loading"), id="dashboard-kpi")
            yield Static(t("dashboard.agents_title"), classes="form-title")
            yield DataTable(id="dashboard-agents", cursor_type="none", zebra_stripes=True)
            yield Static(t("dashboard.aging_title"), classes="form-title")
            yield Static("", id="dashboard-aging")
            yield Static(t("dashboard.hours_title"), classes="form-title")
            yield Static("", id="dashboard-hours")
            yield Static(t("dashboard.roll_title"), classes="form-title")
            yield DataTable(id="dashboard-roll", cursor_type="none", zebra_stripes=True)
            yield Static("", id="dashboard-vintage-title", classes="form-title")
            yield Static("", id="dashboard-vintage")
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.load()

    def fetch(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.service.dashboard(self.days, team=self.app.team)  # type: ignore[attr-defined]

    def action_period(self) -> None:
        self.days = PERIODS[(PERIODS.index(self.days) + 1) % len(PERIODS)]
        self.query_one("#dashboard-kpi", Static).update(t("dashboard.loading"))
        self.load()

    def show(self, data: tuple[dict[str, Any], dict[str, Any]]) -> None:
        self.kpi, self.portfolio = data
        heading = t(
            "dashboard.period", days=self.days, team=team_words(self.kpi["team"]), agents=len(self.kpi["agents"])
        )
        self.query_one("#dashboard-kpi", Static).update("\n".join([heading, *summary_lines(self.kpi)]))
        self.query_one("#dashboard-aging", Static).update(aging_bars(self.portfolio["aging"]))
        self.query_one("#dashboard-hours", Static).update(hour_bars(self.kpi["hours"]))
        order = [row["bucket"] for row in self.portfolio["aging"]] + ["closed"]
        self._agents(self.kpi["agents_figures"])
        table = self.query_one("#dashboard-roll", DataTable)
        table.clear(columns=True)
        table.add_column(t("dashboard.roll_from"), key="from")
        for code in order:
            table.add_column(t("dashboard.closed") if code == "closed" else code, key=code)
        for start in order:
            row = self.portfolio["roll_rates"].get(start)
            if row:
                table.add_row(start, *(rate(row.get(code)) if code in row else "" for code in order), key=start)
        bad = self.portfolio["bad_buckets"][0] if self.portfolio["bad_buckets"] else "—"
        self.query_one("#dashboard-vintage-title", Static).update(t("dashboard.vintage_title", bucket=bad))
        self.query_one("#dashboard-vintage", Static).update(
            vintage_lines(self.portfolio["vintage"], self.portfolio["cohorts"])
        )

    def _agents(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#dashboard-agents", DataTable)
        table.clear(columns=True)
        for key in AGENT_COLUMNS:
            table.add_column(t(f"dashboard.col_{key}"), key=key)
        for a in rows:
            table.add_row(
                a["agent"],
                str(a["attempts"]),
                str(a["contacts"]),
                per_hour(a["contacts_per_hour"]),
                rate(a["rpc_rate"]),
                str(a["promises"]),
                rate(a["promise_rate"]),
                rate(a["kept_rate"]),
                money(Money(a["recovered"])),
                key=a["agent"],
            )

    def tables(self) -> dict[str, Table]:
        if self.kpi is None or self.portfolio is None:
            return {}
        return self.service.dashboard_tables(self.kpi, self.portfolio)
