"""What a supervisor works on the server: the approvals inbox (offers held above their agents'
authority, decided with a reason) and the compliance-exception queue (contacts recorded although
the rules blocked them, reviewed with a note). Online only: the decisions are the server's to record."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cobro_tui.clock import Clock
from cobro_tui.domain.money import Money
from cobro_tui.errors import UserFacingError
from cobro_tui.files import private_file
from cobro_tui.i18n import day, money, t
from cobro_tui.sync.client import ApiClient, SyncError

MIN_REASON = 10  # the server's rule, said before sending
QUIET_AFTER = timedelta(minutes=15)  # a workstation that has not synced for this long needs a look
BEHIND_AFTER = timedelta(minutes=10)  # ...and one whose oldest unsent item is this old
REASSIGN_PER_REQUEST = 500  # accounts moved per request (the server takes up to 1,000 in one transaction)
Table = tuple[list[str], list[list[Any]]]  # a CSV file's header and rows


@dataclass(frozen=True, slots=True)
class Held:
    """One held offer, as the inbox shows it."""

    mutation_id: str
    agent: str
    account_id: str
    what: str  # the offer in a few words: kind, amount, date
    level: str
    why: str
    requested_at: datetime
    customer: str  # the debtor's name ("—" when the account is gone)
    standing: str  # bucket, days past due and balance, in words


def _standing(item: dict[str, Any]) -> str:
    if item.get("bucket") is None:
        return "—"
    return t("review.standing", bucket=item["bucket"], dpd=item["dpd"], balance=money(Money(item["balance"])))


def _what(name: str, args: dict[str, Any]) -> str:
    """The offer in a few words, from the command as pushed."""
    if name == "promise.create@1":
        amount = Money(args["amount"]["centavos"], args["amount"]["currency"])
        return t("approvals.what_promise", amount=money(amount), due_on=day(date.fromisoformat(args["due_on"])))
    down = Money(args["down_payment"]["centavos"], args["down_payment"]["currency"])
    total = sum((Money(i["amount"]["centavos"], i["amount"]["currency"]) for i in args.get("installments", [])), down)
    kind = args.get("kind", "plan")
    return t(
        "approvals.what_plan", kind=t(f"plan.kind_{kind}"), total=money(total), count=len(args.get("installments", []))
    )


@dataclass(frozen=True, slots=True)
class Flagged:
    """One compliance exception, as the queue shows it."""

    id: int
    agent: str
    account_id: str
    code: str
    message: str
    created_at: datetime
    rules: str  # the blocking rule ids
    customer: str
    standing: str


@dataclass(frozen=True, slots=True)
class Seen:
    """One workstation's sync health, as the server last saw it."""

    agent: str
    device_id: str
    app_version: str
    last_seen_at: datetime
    pending_items: int | None
    oldest_pending_at: datetime | None


@dataclass(frozen=True, slots=True)
class Assigned:
    """One account in an agent's list, with the version a reassignment must match."""

    account_id: str
    number_tail: str
    product: str
    bucket: str
    dpd: int
    balance: Money
    version: int
    last_contact_at: datetime | None


@dataclass(frozen=True, slots=True)
class SupervisorService:
    api: ApiClient
    user: str
    clock: Clock  # the one clock (COBRO_NOW): the dashboard's periods end now

    @property
    def transport_warning(self) -> str | None:
        """What to tell the person at every start about the connection (plain http allowed by a setting)."""
        return self.api.insecure_warning

    def pending(self) -> list[Held]:
        try:
            found = self.api.approvals("pending")
        except SyncError as exc:
            raise UserFacingError(t("approvals.unreachable", error=exc.message)) from None
        return [
            Held(
                item["mutation_id"],
                item["agent"],
                item["account_id"],
                _what(item["name"], item["args"]),
                item["level"],
                item["why"],
                datetime.fromisoformat(item["requested_at"]),
                item.get("customer_name") or "—",
                _standing(item),
            )
            for item in found
        ]

    def decide(self, mutation_id: str, approve: bool, reason: str) -> str:
        """Approve or deny with a reason; returns the sentence that says what came of it."""
        reason = reason.strip()
        if len(reason) < MIN_REASON:
            raise UserFacingError(t("approvals.reason_short", chars=MIN_REASON))
        try:
            verdict = self.api.decide(mutation_id, approve, reason)
        except SyncError as exc:
            raise UserFacingError(t("approvals.refused", error=exc.message)) from None
        if verdict["status"] == "applied":
            return t("approvals.approved")
        if approve:  # approved, but the account changed since: the server refused it now
            return t("approvals.approved_but_refused", reason=verdict["reason"]["message"])
        return t("approvals.denied")

    def exceptions(self) -> list[Flagged]:
        try:
            found = self.api.compliance_exceptions("open")
        except SyncError as exc:
            raise UserFacingError(t("exceptions.unreachable", error=exc.message)) from None
        return [
            Flagged(
                item["id"],
                item["agent"],
                item["account_id"],
                item["code"],
                item["message"],
                datetime.fromisoformat(item["created_at"]),
                ", ".join(sorted({rule[0] for rule in (item.get("details") or {}).get("rules", [])})),
                item.get("customer_name") or "—",
                _standing(item),
            )
            for item in found
        ]

    def review(self, exception_id: int, note: str) -> str:
        note = note.strip()
        if len(note) < MIN_REASON:
            raise UserFacingError(t("exceptions.note_short", chars=MIN_REASON))
        try:
            self.api.review_exception(exception_id, note)
        except SyncError as exc:
            raise UserFacingError(t("approvals.refused", error=exc.message)) from None
        return t("exceptions.reviewed")

    def workstations(self) -> list[Seen]:
        try:
            found = self.api.workstations()
        except SyncError as exc:
            raise UserFacingError(t("health.unreachable", error=exc.message)) from None
        return [
            Seen(
                w["agent"],
                w["device_id"],
                w["app_version"],
                datetime.fromisoformat(w["last_seen_at"]),
                w.get("pending_items"),
                datetime.fromisoformat(w["oldest_pending_at"]) if w.get("oldest_pending_at") else None,
            )
            for w in found
        ]

    def attention(self, seen: Seen) -> str | None:
        """Why a workstation needs a look (not seen lately, or items waiting too long), or None."""
        now = self.clock.now()
        if now - seen.last_seen_at > QUIET_AFTER:
            return t("health.quiet", minutes=int((now - seen.last_seen_at).total_seconds() // 60))
        if seen.pending_items and seen.oldest_pending_at is not None and now - seen.oldest_pending_at > BEHIND_AFTER:
            return t(
                "health.behind",
                count=seen.pending_items,
                minutes=int((now - seen.oldest_pending_at).total_seconds() // 60),
            )
        return None

    def team(self, team: str | None = None) -> dict[str, Any]:
        """The team's queues: per agent, accounts by bucket, worked today, promises due today."""
        try:
            return self.api.team(team)
        except SyncError as exc:
            raise UserFacingError(t("team.unreachable", error=exc.message)) from None

    def teams(self) -> list[str]:
        """The teams this user may review (one for a supervisor)."""
        try:
            return self.api.teams()
        except SyncError as exc:
            raise UserFacingError(t("team.unreachable", error=exc.message)) from None

    def agent_accounts(self, agent: str) -> list[Assigned]:
        """The agent's accounts, most days past due first."""
        try:
            found = self.api.agent_accounts(agent)
        except SyncError as exc:
            raise UserFacingError(t("reassign.unreachable", error=exc.message)) from None
        return [
            Assigned(
                a["account_id"],
                a["number_tail"],
                a["product"],
                a["bucket"],
                a["dpd"],
                Money(a["balance"]),
                a["version"],
                datetime.fromisoformat(a["last_contact_at"]) if a["last_contact_at"] else None,
            )
            for a in found["accounts"]
        ]

    def reassign(self, accounts: list[Assigned], to_agent: str) -> str:
        """Give each account to `to_agent` if it is still as it was read (If-Match); the sentence says
        how many moved, how many changed meanwhile (read again) and what the server refused."""
        if not accounts:
            raise UserFacingError(t("reassign.nothing"))
        moved = stale = refused = 0
        for start in range(0, len(accounts), REASSIGN_PER_REQUEST):  # each request one transaction on the server
            chunk = accounts[start : start + REASSIGN_PER_REQUEST]
            try:
                found = self.api.reassign_many(to_agent, [(a.account_id, a.version) for a in chunk])
            except SyncError as exc:
                raise UserFacingError(t("reassign.cut", moved=moved, error=exc.message)) from None
            moved += len(found["moved"])
            stale += len(found["stale"])
            refused += len(found["unknown"]) + len(found["other_team"])
        said = [t("reassign.done", moved=moved, agent=to_agent)]
        if stale:
            said.append(t("reassign.stale", count=stale))
        if refused:
            said.append(t("reassign.refused", count=refused))
        return " ".join(said)

    def dashboard(
        self, days: int = 7, roll_days: int = 30, team: str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The KPIs of the last `days` days and the portfolio (aging, roll rates over `roll_days`, vintage)
        of a team (the server's default without one: a supervisor's own team, every team for a manager)."""
        now = self.clock.now()
        try:
            return (
                self.api.kpi(now - timedelta(days=days), now, team),
                self.api.portfolio(now - timedelta(days=roll_days), now, team),
            )
        except SyncError as exc:
            raise UserFacingError(t("kpi.unreachable", error=exc.message)) from None

    @staticmethod
    def dashboard_tables(kpi: dict[str, Any], portfolio: dict[str, Any]) -> dict[str, Table]:
        """The dashboard's tables for CSV (amounts in pesos with two decimals, shares to four places)."""
        order = [row["bucket"] for row in portfolio["aging"]] + ["closed"]
        tables: dict[str, Table] = {
            "aging": (
                ["bucket", "accounts", "balance"],
                [[r["bucket"], r["accounts"], pesos(r["balance"])] for r in portfolio["aging"]],
            ),
            "roll_rates": (
                ["from", *order],
                [[start, *(fraction(row.get(c)) for c in order)] for start, row in portfolio["roll_rates"].items()],
            ),
            "vintage": (
                ["cohort", *(f"month_{k}" for k in range(1, 13))],
                [[cohort, *(fraction(v) for v in curve)] for cohort, curve in portfolio["vintage"].items()],
            ),
            "hours": (
                ["hour", "attempts", "contacts", "agent_hours"],
                [[r["hour"], r["attempts"], r["contacts"], r["agent_hours"]] for r in kpi["hours"]],
            ),
            "agents": (
                [
                    "agent",
                    "attempts",
                    "contacts",
                    "agent_hours",
                    "contacts_per_hour",
                    "rpc_rate",
                    "promises",
                    "promise_rate",
                    "judged",
                    "kept",
                    "kept_rate",
                    "recovered",
                ],
                [
                    [
                        a["agent"],
                        a["attempts"],
                        a["contacts"],
                        a["agent_hours"],
                        fraction(a["contacts_per_hour"]),
                        fraction(a["rpc_rate"]),
                        a["promises"],
                        fraction(a["promise_rate"]),
                        a["judged"],
                        a["kept"],
                        fraction(a["kept_rate"]),
                        pesos(a["recovered"]),
                    ]
                    for a in kpi["agents_figures"]
                ],
            ),
            "channels": (
                ["channel", "attempts", "contacts", "contact_rate", "promises", "promise_rate"],
                [
                    [
                        c["channel"],
                        c["attempts"],
                        c["contacts"],
                        fraction(c["contact_rate"]),
                        c["promises"],
                        fraction(c["promise_rate"]),
                    ]
                    for c in kpi["channels"]
                ],
            ),
        }
        return tables


def fraction(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def pesos(centavos: int) -> str:
    return f"{centavos / 100:.2f}"


def write_tables(folder: Path, tables: dict[str, Table]) -> list[Path]:
    """Each table as `<name>.csv` in `folder` (UTF-8, a header row); the paths written."""
    written = []
    try:
        for name, (header, rows) in tables.items():
            path = folder / f"{name}.csv"
            with private_file(path, newline="") as handle:
                out = csv.writer(handle)
                out.writerow(header)
                out.writerows(rows)
            written.append(path)
    except OSError as exc:
        raise UserFacingError(t("dashboard.export_failed", error=str(exc))) from None
    return written
