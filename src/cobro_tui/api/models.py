"""Request and response bodies of /v1. Names and meanings: docs/architecture.md §4 (CSP/1)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from cobro_tui.api.text import MAX_DEPTH, depth, lone_surrogate, without_controls
from cobro_tui.domain.models import PAYMENT_CHANNELS
from cobro_tui.domain.phones import PhoneError, normalize_phone

PROTOCOL = "1"
CLIENT_SCHEMA = 1
MUTATION_NAMES = (
    "contact.log@1",
    "note.add@1",
    "restriction.request@1",
    "promise.create@1",
    "promise.cancel@1",
    "plan.propose@1",
    "decision.record@1",
)
Status = Literal["applied", "applied_with_warnings", "rejected", "deferred"]
Role = Literal["agent", "supervisor", "manager", "auditor", "integration"]

# Bounds of what a client may send: integers fit a signed 32-bit column (sequence numbers, epochs,
# versions) or are money below a hundred billion pesos; instants and days fall in years a debt can.
INT32 = 2**31 - 1
MAX_CENTAVOS = 10**13
FIRST_YEAR, LAST_YEAR = 1900, 2200


def _utc(value: datetime) -> datetime:
    """An instant as UTC, refused when it (or its UTC form) falls outside the years a debt can."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value.astimezone(UTC)


def _day(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_utc)]
"""An ISO-8601 instant with its UTC offset (an instant without one is refused: whose clock would it be?)."""
Day = Annotated[date, AfterValidator(_day)]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
"""A record's id: 1 to 64 letters, digits, '.', '_', ':' or '-' (a UUID, as cobro-tui makes them)."""
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
"""A code of a catalog (result codes, problems, channels): 1 to 32 letters, digits, '_', '.' or '-'."""
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
Seq = Annotated[int, Field(ge=1, le=INT32)]


# Free text of at most so many characters, with control characters removed on the way in.
_Clean = AfterValidator(without_controls)
Text64 = Annotated[str, _Clean, Field(max_length=64)]
Text500 = Annotated[str, _Clean, Field(max_length=500)]
Text1000 = Annotated[str, _Clean, Field(max_length=1000)]
Text2000 = Annotated[str, _Clean, Field(max_length=2000)]
Text4000 = Annotated[str, _Clean, Field(max_length=4000)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Body(Wire):
    """A request body: refused whole when any text in it is not Unicode (a lone surrogate), or when
    it nests deeper than any record does (what a parser or serializer could not walk later)."""

    @model_validator(mode="before")
    @classmethod
    def _unicode_only(cls, data: Any) -> Any:
        if depth(data) > MAX_DEPTH:
            raise ValueError(f"the body nests deeper than {MAX_DEPTH} levels")
        where = lone_surrogate(data)
        if where is not None:
            raise ValueError(f"{where} is not valid Unicode text (a lone surrogate)")
        return data


class LoginRequest(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(Wire):
    token: str
    username: str
    role: Role
    expires_at: datetime


PASSWORD_MIN = 12  # NIST SP 800-63B asks at least 8 of a password a person chooses; the floor here is 12


class PasswordChange(Body):
    """A person's new password, with the one it replaces (POST /v1/auth/password)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


UserStateName = Literal["enabled", "disabled", "locked"]
PersonRole = Literal["agent", "supervisor", "manager", "auditor"]
TeamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
"""A team's name: 1 to 32 letters, digits, '.', '_' or '-'."""


class UserState(Wire):
    """A person who signs in, as a manager sees them (GET /v1/admin/users)."""

    username: str
    role: Role
    team: str
    state: UserStateName
    disabled: bool
    locked_until: datetime | None
    failed_logins: int
    must_change_password: bool = False
    last_login_at: datetime | None = None
    created_at: datetime | None = None


class NewUser(Body):
    """A person to add (POST /v1/admin/users): they sign in first with the one-time password answered."""

    username: Username
    role: PersonRole
    team: TeamName


class UserWithPassword(Wire):
    """A user and the one-time password they sign in with once (shown in this answer only)."""

    user: UserState
    password: str


class RoleChange(Body):
    role: PersonRole


class TeamChange(Body):
    team: TeamName


class TeamRequest(Body):
    """A team to add, or the new name of one (POST /v1/admin/teams, .../rename)."""

    name: TeamName


class TeamInfo(Wire):
    """A team and how many people of each role it has (GET /v1/admin/teams)."""

    name: str
    members: dict[str, int]
    created_at: datetime | None = None


class IntegrationRequest(Body):
    """A machine credential to make (POST /v1/admin/integrations): a name and the feeds it may use."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    scopes: list[Literal["payments", "portfolio", "export"]] = Field(min_length=1, max_length=3)


class Integration(Wire):
    """A machine credential; `key` only in the answer that made it (it is never shown again)."""

    id: str
    name: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    key: str | None = None


class SecurityEvent(Wire):
    """What the server refused as an attempt on what is not the caller's (GET /v1/security-events)."""

    id: int
    at: datetime
    code: str
    actor: str | None
    source: str | None
    subject: str | None
    details: dict[str, Any] | None = None


class DeviceRegistration(Body):
    device_id: Id
    device_epoch: Seq
    app_version: str = Field(max_length=32, pattern=r"^[A-Za-z0-9._+-]*$")
    schema_version: Seq
    resume_after_seq: int = Field(0, ge=0, le=INT32)
    """For a new epoch only: the client_seq the device continues after (its pending items keep their numbers)."""


class DeviceState(Wire):
    last_client_seq: int
    server_epoch: str
    min_supported_schema: int
    retention_days: int


class MutationIn(Wire):
    """One command as pushed. Its `args` are checked against the model of its `name` (see
    api/commands.py and docs/openapi.json): a command that does not fit gets a rejected verdict of its
    own, so one bad item never stops a workstation's outbox."""

    mutation_id: Id
    client_seq: Seq
    name: str = Field(max_length=48, pattern=r"^[a-z][a-z_.]*@[0-9]{1,3}$")
    args: dict[str, Any]
    occurred_at_client: Instant
    observed_cursor: str | None = Field(None, max_length=64)
    """What the workstation had read when it acted (informational: the server decides from its own history)."""
    base_version: int | None = Field(None, ge=0, le=INT32)


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class AuditHead(Wire):
    """Where a workstation's audit chain stands: its last event's number and hash (0 and 64 zeros: empty)."""

    seq: int = Field(ge=0, le=INT32)
    hash: Sha256


class PushRequest(Body):
    device_id: Id
    device_epoch: Seq
    client_time: Instant
    mutations: list[MutationIn] = Field(max_length=200)
    audit_head: AuditHead | None = None
    """The head of the device's audit chain now: the server compares it with the chain it keeps."""


class AuditEventIn(Wire):
    """One event of a workstation's audit chain as the workstation stored it (its canonical body)."""

    seq: Seq
    hash: Sha256
    body: str = Field(max_length=16384)


class AuditUpload(Body):
    """The next events of a device's audit chain (POST /v1/audit/events), in order from the server's head."""

    device_id: Id
    events: list[AuditEventIn] = Field(max_length=500)
    head: AuditHead | None = None
    """The head of the workstation's chain now (compared with the chain kept, like a push's)."""


class AuditAck(Wire):
    """The head of the chain the server now keeps for the device."""

    device_id: str
    head_seq: int
    head_hash: str
    acknowledged_at: datetime
    alarm: str | None = None  # truncated, rebuilt or forked: what the server found of this device's chain


class AuditDevice(Wire):
    """A device's chain on the server, for a reviewer: its head, any alarm, and (for one device) the
    verification of the events kept."""

    device_id: str
    agent: str
    head_seq: int
    head_hash: str
    updated_at: datetime
    alarm: Literal["truncated", "rebuilt", "forked"] | None = None
    alarm_at: datetime | None = None
    alarm_detail: str | None = None
    intact: bool | None = None  # the stored events verified, when asked for one device
    broken_at: int | None = None
    reason: str | None = None


class AuditEventOut(Wire):
    seq: int
    hash: str
    body: dict[str, Any]
    received_at: datetime


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


class VerdictQuery(Body):
    """Mutations whose verdicts a workstation reads again (POST /v1/mutations/verdicts)."""

    mutation_ids: list[Id] = Field(min_length=1, max_length=500)


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


class ApprovalDecision(Body):
    decision: Literal["approve", "deny"]
    reason: Text1000


def _e164(value: str) -> str:
    try:
        return normalize_phone(value)
    except PhoneError as exc:
        raise ValueError(f"{exc} (write it as +52 55 1234 5678 or 55 1234 5678)") from None


Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_e164)]
"""A phone number in any format a person writes it, kept in E.164 (+525512345678); Mexico when no
country is given. Not a phone in use (too short, too long, not in the numbering plan): refused."""

AccountNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,47}$")]
"""An account as the institution numbers it: 1 to 48 letters, digits, spaces, '.', '_', '/' or '-'."""


def _payment_channel(value: str) -> str:
    if value not in PAYMENT_CHANNELS:
        raise ValueError(f"the channel must be one of {', '.join(PAYMENT_CHANNELS)}")
    return value


class PaymentIn(Body):
    """A payment from the institution's feed (an integration credential with the `payments` scope).

    The account is named by its id or by the number the institution gives it (`account_number`,
    resolved by the server: the id the portfolio import gave that number); exactly one of them."""

    id: Id
    account_id: Id | None = None
    account_number: AccountNumber | None = None
    amount_centavos: int = Field(gt=0, le=MAX_CENTAVOS)
    currency: str = Field("MXN", pattern=r"^[A-Z]{3}$")
    paid_on: Day
    channel: Annotated[Code, AfterValidator(_payment_channel)]
    reference: Text64

    @model_validator(mode="after")
    def _one_account(self) -> PaymentIn:
        if (self.account_id is None) == (self.account_number is None):
            raise ValueError("name the account by account_id or by account_number (exactly one of them)")
        return self


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


class ExceptionReview(Body):
    note: Text2000


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


class Reassignment(Body):
    agent: Username


class AccountVersion(Wire):
    account_id: Id
    version: int = Field(ge=0, le=INT32)  # as read: the account moves only if it is still at this version


class BulkReassignment(Body):
    """Many accounts to one agent (POST /v1/assignments), in one transaction."""

    agent: Username
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
    state: UserStateName = "enabled"
    seen_at: datetime | None = None  # the later of their last sign-in and their workstation's last sync (server clock)
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
