"""Request and response bodies of /v1. Names and meanings follow DESIGN.md section 6."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL = "1"
CLIENT_SCHEMA = 1
MUTATION_NAMES = ("contact.log@1", "note.add@1", "restriction.request@1", "promise.create@1", "promise.cancel@1",
                  "plan.propose@1", "decision.record@1")
Status = Literal["applied", "applied_with_warnings", "rejected", "deferred"]
Role = Literal["agent", "supervisor", "manager"]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Wire):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(Wire):
    token: str
    username: str
    role: Role
    expires_at: datetime


class DeviceRegistration(Wire):
    device_id: str = Field(min_length=1, max_length=64)
    device_epoch: int = Field(ge=1)
    app_version: str = Field(max_length=32)
    schema_version: int = Field(ge=1)
    resume_after_seq: int = Field(0, ge=0)
    """For a new epoch only: the client_seq the device continues after (its pending items keep their numbers)."""


class DeviceState(Wire):
    last_client_seq: int
    server_epoch: str
    min_supported_schema: int
    retention_days: int


class MutationIn(Wire):
    mutation_id: str = Field(min_length=1, max_length=64)
    client_seq: int = Field(ge=1)
    name: str = Field(max_length=48)
    args: dict[str, Any]
    occurred_at_client: datetime
    observed_cursor: str | None = None
    base_version: int | None = None


class PushRequest(Wire):
    device_id: str = Field(min_length=1, max_length=64)
    device_epoch: int = Field(ge=1)
    client_time: datetime
    mutations: list[MutationIn] = Field(max_length=200)


class Reason(Wire):
    code: str
    message: str
    retryable: bool = False


class Warning(Wire):
    code: str
    message: str


class Verdict(Wire):
    mutation_id: str
    client_seq: int
    status: Status
    server_seq: int | None = None
    reason: Reason | None = None
    warnings: list[Warning] = []
    replayed: bool = False


class Halted(Wire):
    at_client_seq: int
    code: str
    retry_after_s: int


class PushResponse(Wire):
    server_time: datetime
    last_client_seq: int
    results: list[Verdict]
    halted: Halted | None = None


class Change(Wire):
    seq: int
    entity: str
    id: str
    op: Literal["upsert", "delete", "revoke"]
    version: int
    data: dict[str, Any] | None = None


class ChangesResponse(Wire):
    server_time: datetime
    server_epoch: str
    changes: list[Change]
    next_cursor: str
    has_more: bool


class SnapshotPage(Wire):
    server_time: datetime
    server_epoch: str
    entities: list[Change]
    next_page: str | None
    cursor: str


class Problem(Wire):
    """Every error body: a code for programs and a sentence for people."""

    code: str
    message: str
    details: dict[str, Any] = {}


class VerdictQuery(Wire):
    """Mutations whose verdicts a workstation reads again (POST /v1/mutations/verdicts)."""

    mutation_ids: list[str] = Field(min_length=1, max_length=500)


class AccountStanding(Wire):
    """Whose debt an item is about, how late and how much, as the account is now (for a reviewer)."""

    customer_name: str | None = None
    bucket: str | None = None
    dpd: int | None = None
    balance: int | None = None  # centavos


class Approval(AccountStanding):
    """A command held above its requester's authority (GET /v1/approvals)."""

    mutation_id: str
    name: str
    agent: str
    account_id: str
    args: dict[str, Any]
    level: str
    why: str
    requested_at: datetime
    status: Literal["pending", "approved", "denied", "blocked", "released"]
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


class ApprovalDecision(Wire):
    decision: Literal["approve", "deny"]
    reason: str


class PaymentIn(Wire):
    """A payment from the institution's feed (the reference backend takes it from a supervisor's token)."""

    id: str
    account_id: str
    amount_centavos: int = Field(gt=0)
    currency: str = "MXN"
    paid_on: date
    channel: str
    reference: str


class PromiseJudged(Wire):
    id: str
    status: str
    paid_centavos: int | None


class PaymentResult(Wire):
    new: bool
    promises: list[PromiseJudged]


class KpiChannel(Wire):
    channel: str
    attempts: int
    contacts: int
    contact_rate: float | None
    promises: int  # contacts whose result code records a promise or an agreement
    promise_rate: float | None


class KpiRecovered(Wire):
    """Payments received on the period's days (in the institution's zone) against the prorated target."""

    first_day: date
    last_day: date
    payments: int
    amount: int  # centavos
    target: int | None  # centavos; none when the team has no target (targets.toml)
    share: float | None


class KpiHour(Wire):
    """One hour of the day (the institution's zone) over the period."""

    hour: int = Field(ge=0, le=23)
    attempts: int
    contacts: int
    agent_hours: int
    contacts_per_hour: float | None  # right-party contacts per agent-hour


class KpiKept(Wire):
    judged: int
    kept: int
    rate: float | None
    promised: int  # centavos
    paid: int  # centavos
    amount_rate: float | None


class KpiAgent(Wire):
    """One agent's figures over the period (docs/kpi.md, "per agent")."""

    agent: str
    attempts: int
    contacts: int
    agent_hours: int
    contacts_per_hour: float | None
    rpc_rate: float | None
    promises: int
    promise_rate: float | None
    judged: int
    kept: int
    kept_rate: float | None
    recovered: int  # centavos


class KpiReport(Wire):
    """The KPIs of a period and a team (docs/kpi.md); rates are empty when there is nothing to divide."""

    since: datetime
    until: datetime
    team: str | None
    agents: list[str]
    attempts: int
    contacts: int
    agent_hours: int
    attempts_per_hour: float | None
    contacts_per_hour: float | None
    rpc_rate: float | None
    promises: int
    promise_rate: float | None
    channels: list[KpiChannel]
    kept: KpiKept
    recovered: KpiRecovered
    hours: list[KpiHour]
    agents_figures: list[KpiAgent]


class ComplianceException(AccountStanding):
    """A contact recorded although the rules blocked it (or under a supervisor's override), for review."""

    id: int
    mutation_id: str
    account_id: str
    agent: str
    code: str
    message: str
    created_at: datetime
    status: Literal["open", "reviewed"]
    details: dict[str, Any] | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_note: str | None = None


class ExceptionReview(Wire):
    note: str


class WorkstationHealth(Wire):
    """A workstation as the server last saw it (GET /v1/workstations)."""

    device_id: str
    agent: str
    app_version: str
    schema_version: int
    last_seen_at: datetime
    pending_items: int | None = None  # items waiting to be sent, as the workstation said
    oldest_pending_at: datetime | None = None


class Assignment(Wire):
    """Whose an account is, at which version (its ETag; PUT needs it in If-Match)."""

    account_id: str
    agent: str | None
    version: int


class Reassignment(Wire):
    agent: str


class AccountVersion(Wire):
    account_id: str
    version: int  # as read: the account moves only if it is still at this version


class BulkReassignment(Wire):
    """Many accounts to one agent (POST /v1/assignments), in one transaction."""

    agent: str
    accounts: list[AccountVersion] = Field(min_length=1, max_length=1000)


class StaleAccount(Wire):
    account_id: str
    current_version: int


class BulkReassignmentResult(Wire):
    """What moved; what changed since it was read (read again); what is unknown or another team's."""

    moved: list[str]
    stale: list[StaleAccount]
    unknown: list[str]
    other_team: list[str]


class AgentQueue(Wire):
    agent: str
    accounts: int
    by_bucket: dict[str, int]
    worked_today: int
    promises_due_today: int


class TeamQueues(Wire):
    """A team's queues (GET /v1/team): per agent, accounts by bucket, worked today, promises due today."""

    team: str | None
    day: date
    buckets: list[str]
    agents: list[AgentQueue]


class AgentAccount(Wire):
    """One account in an agent's list, as a supervisor sees it to reassign it."""

    account_id: str
    number_tail: str  # the account number's last four digits
    product: str
    bucket: str
    dpd: int
    balance: int  # centavos
    version: int  # what a reassignment sends in If-Match
    last_contact_at: datetime | None


class AgentAccounts(Wire):
    """An agent's accounts (GET /v1/team/agents/{agent}/accounts), most days past due first."""

    agent: str
    team: str
    accounts: list[AgentAccount]


class AgingRow(Wire):
    bucket: str
    accounts: int
    balance: int  # centavos


class PortfolioReport(Wire):
    """Aging, roll rates and vintage curves of a team's accounts (GET /v1/kpi/portfolio; docs/kpi.md)."""

    since: datetime
    until: datetime
    team: str | None
    aging: list[AgingRow]
    roll_rates: dict[str, dict[str, float]]
    vintage: dict[str, list[float | None]]
    cohorts: dict[str, int]  # accounts opened per month, the vintage curves' denominators
    bad_buckets: list[str]
