"""An agent's accounts, for their supervisor to move between agents: space marks accounts (a: all
of them), r (or Enter) gives the marked ones (or the highlighted one) to another agent of the team.
The server moves each only if it is still at the version read (500 to a request, each request one
transaction); the agents' workstations receive the revoke and the grant at their next sync."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, DataTable, Label, Select, Static

from cobro_tui.i18n import money, number, t
from cobro_tui.services.approvals import Assigned, SupervisorService, Table, pesos
from cobro_tui.ui.screens.base import CobroForm
from cobro_tui.ui.screens.server_screen import ServerScreen
from cobro_tui.ui.widgets.key_bar import KeyBar

MARK = "✓"
SHOWN = 500  # rows drawn: the most days past due first; `a` marks every account, shown or not


class AgentAccountsScreen(ServerScreen):
    HEADING = "#agent-accounts-heading"
    BINDINGS = [
        Binding("space", "mark", "keys.mark", id="agent_accounts.mark"),
        Binding("a", "mark_all", "keys.mark_all", id="agent_accounts.mark_all"),
        Binding("r", "reassign", "keys.reassign", id="agent_accounts.reassign"),
        Binding("c", "export", "keys.export", id="agent_accounts.export"),
        Binding("escape", "back", "keys.team", id="agent_accounts.back"),
        Binding("ctrl+r", "reload", "keys.reload", id="agent_accounts.reload"),
    ]

    def __init__(self, service: SupervisorService, agent: str, team: list[str]) -> None:
        super().__init__()
        self.service = service
        self.agent = agent
        self.others = [name for name in team if name != agent]
        self.accounts: dict[str, Assigned] = {}
        self.marked: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(t("reassign.loading", agent=self.agent), id="agent-accounts-heading")
        yield DataTable(id="agent-accounts-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(" ", key="mark")
        for key in ("account", "product", "bucket", "dpd", "balance", "contact"):
            table.add_column(t(f"reassign.col_{key}"), key=key)
        self.load()

    def fetch(self) -> list[Assigned]:
        return self.service.agent_accounts(self.agent)

    def show(self, data: list[Assigned]) -> None:
        self.accounts = {a.account_id: a for a in data}
        self.marked &= set(self.accounts)
        table = self.query_one(DataTable)
        table.clear()
        for a in data[:SHOWN]:
            table.add_row(
                MARK if a.account_id in self.marked else "",
                f"•••{a.number_tail}",
                t(f"product.{a.product}"),
                a.bucket,
                str(a.dpd),
                money(a.balance),
                self.local(a.last_contact_at),
                key=a.account_id,
            )
        self._heading()
        table.focus()

    def _heading(self) -> None:
        heading = t(
            "reassign.heading", agent=self.agent, count=number(len(self.accounts)), marked=number(len(self.marked))
        )
        if len(self.accounts) > SHOWN:
            heading += " " + t("reassign.shown", shown=number(SHOWN))
        self.query_one(self.HEADING, Static).update(heading)

    def _highlighted(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_mark(self) -> None:
        chosen = self._highlighted()
        if chosen is None:
            return
        self.marked ^= {chosen}
        table = self.query_one(DataTable)
        table.update_cell(chosen, "mark", MARK if chosen in self.marked else "")
        table.action_cursor_down()
        self._heading()

    def action_mark_all(self) -> None:
        """Mark every account of the agent (all of them marked already: none)."""
        everything = set(self.accounts)
        self.marked = set() if self.marked == everything else everything
        table = self.query_one(DataTable)
        for row in list(table.rows):
            table.update_cell(row, "mark", MARK if row.value in self.marked else "")
        self._heading()

    @on(DataTable.RowSelected)
    def action_reassign(self) -> None:
        chosen = sorted(self.marked) or [key for key in [self._highlighted()] if key]
        if not chosen:
            return
        if not self.others:
            self.notify(t("reassign.no_other_agent"), severity="warning")
            return
        accounts = [self.accounts[key] for key in chosen]
        self.app.push_screen(ReassignForm(self.service, self.agent, accounts, self.others), self._reassigned)

    def _reassigned(self, said: str | None) -> None:
        if said:
            self.marked.clear()
            self.notify(said, timeout=8)
            self.load()

    def tables(self) -> dict[str, Table]:
        return {
            f"accounts_{self.agent}": (
                ["account_id", "number_tail", "product", "bucket", "dpd", "balance", "last_contact_at"],
                [
                    [
                        a.account_id,
                        a.number_tail,
                        a.product,
                        a.bucket,
                        a.dpd,
                        pesos(a.balance.centavos),
                        a.last_contact_at.isoformat() if a.last_contact_at else "",
                    ]
                    for a in self.accounts.values()
                ],
            )
        }


class ReassignForm(CobroForm):
    """Which agent of the team receives the chosen accounts."""

    def __init__(self, service: SupervisorService, agent: str, accounts: list[Assigned], others: list[str]) -> None:
        super().__init__()
        self.service = service
        self.agent = agent
        self.accounts = accounts
        self.others = others

    def compose(self) -> ComposeResult:
        with Vertical(id="reassign-form", classes="form"):
            yield Static(t("reassign.title"), classes="form-title")
            yield Static(
                t(
                    "reassign.context",
                    count=len(self.accounts),
                    agent=self.agent,
                    total=money(sum((a.balance for a in self.accounts[1:]), self.accounts[0].balance)),
                ),
                classes="form-context",
            )
            yield Label(t("reassign.to"))
            yield Select(
                [(name, name) for name in self.others],
                value=self.others[0],
                allow_blank=False,
                compact=True,
                id="reassign-to",
            )
            yield Static("", classes="form-check")
            yield from self.save_buttons("reassign")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#reassign-to", Select).focus()

    @on(Button.Pressed, "#reassign-save")
    def action_save(self) -> None:
        to_agent = str(self.query_one("#reassign-to", Select).value)
        self.saving(lambda: self.service.reassign(self.accounts, to_agent))
