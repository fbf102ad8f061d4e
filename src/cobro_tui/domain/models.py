"""The collection domain as immutable values: customers, accounts, contacts, promises, plans."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from cobro_tui.domain.money import Money


class Product(StrEnum):
    CREDIT_CARD = "tarjeta_credito"
    PERSONAL_LOAN = "prestamo_personal"
    PAYROLL_LOAN = "nomina"
    AUTO_LOAN = "automotriz"


class Stage(StrEnum):
    """Where an account stands in the collection life cycle."""

    PREVENTIVE = "preventiva"
    COLLECTION = "cobranza"
    LEGAL = "legal"
    CHARGED_OFF = "castigo"
    SOLD = "vendida"


class SyncState(StrEnum):
    """How a local row stands against the server (docs/architecture.md §4)."""

    SYNCED = "synced"
    PENDING = "pending"
    SENDING = "sending"
    SYNCED_WITH_WARNINGS = "synced_with_warnings"
    REJECTED = "rejected"
    HELD = "held"


class ContactKind(StrEnum):
    MOBILE = "mobile"
    HOME = "home"
    WORK = "work"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    ADDRESS = "address"


class Channel(StrEnum):
    VOICE = "voice"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    VISIT = "visit"
    LETTER = "letter"


class Provenance(StrEnum):
    """Who gave us a contact point: the law may allow only the creditor's."""

    CREDITOR = "creditor"
    DEBTOR = "debtor"
    SKIP_TRACE = "skip_trace"  # found by the collector; never given to the creditor


class ReferenceRole(StrEnum):
    REFERENCE = "referencia"
    GUARANTOR = "aval"
    JOINT_OBLIGOR = "deudor_solidario"


# The kinds of contact point each channel reaches, the usual first.
POINT_KINDS = {
    Channel.VOICE: (ContactKind.MOBILE, ContactKind.HOME, ContactKind.WORK),
    Channel.SMS: (ContactKind.MOBILE,),
    Channel.WHATSAPP: (ContactKind.WHATSAPP, ContactKind.MOBILE),
    Channel.EMAIL: (ContactKind.EMAIL,),
    Channel.VISIT: (ContactKind.ADDRESS,),
    Channel.LETTER: (ContactKind.ADDRESS,),
}


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class RestrictionKind(StrEnum):
    OPT_OUT = "opt_out"
    CEASE = "cease"
    WRONG_NUMBER = "wrong_number"
    DECEASED = "deceased"
    DISPUTE = "dispute"
    LEGAL_HOLD = "legal_hold"


class PromiseStatus(StrEnum):
    OPEN = "open"
    PARTIAL = "partial"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class PlanKind(StrEnum):
    """What an agreement is: a payment plan (convenio), a settlement (liquidación: pay part, the rest
    is forgiven) or a restructure (new terms for the whole balance)."""

    PLAN = "plan"
    SETTLEMENT = "settlement"
    RESTRUCTURE = "restructure"


class PlanStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class InstallmentStatus(StrEnum):
    DUE = "due"
    PARTIAL = "partial"
    KEPT = "kept"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class Customer:
    """A person with one or more accounts; queues and contact rules work per person."""

    id: str
    full_name: str
    rfc: str
    curp: str
    birth_date: date


@dataclass(frozen=True, slots=True)
class Account:
    """One credit product of a customer, with its balances by part and its delinquency."""

    id: str
    customer_id: str
    number: str
    product: Product
    principal: Money
    interest: Money
    fees: Money
    vat: Money
    past_due: Money
    min_to_cure: Money
    dpd: int
    bucket: str
    stage: Stage
    risk_segment: str
    assigned_agent: str
    opened_on: date
    last_payment_on: date | None = None
    last_contact_at: datetime | None = None
    version: int = 1

    @property
    def currency(self) -> str:
        return self.principal.currency

    @property
    def balance(self) -> Money:
        """Everything owed: principal, interest, fees and IVA."""
        return self.principal + self.interest + self.fees + self.vat

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True, slots=True)
class ContactPoint:
    """A phone, e-mail, WhatsApp or address of a person, with its own consent and flags."""

    id: str
    customer_id: str
    kind: ContactKind
    value: str
    provenance: Provenance
    state_code: str
    municipality_code: str
    postal_code: str
    consent_sms: bool = False
    consent_whatsapp: bool = False
    consent_email: bool = False
    opted_out: bool = False
    wrong_number: bool = False
    is_primary: bool = False


@dataclass(frozen=True, slots=True)
class Reference:
    """A third person named at origination; the role decides whether contact is allowed."""

    id: str
    account_id: str
    role: ReferenceRole
    full_name: str
    phone: str
    relationship: str


# How a debtor may pay: the channels a promise can name (worded in the interface's catalog).
PAYMENT_CHANNELS = ("spei", "ventanilla", "oxxo", "domiciliacion", "tarjeta", "app")


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    account_id: str
    amount: Money
    paid_on: date
    channel: str
    reference: str


# Allowed promise transitions; anything else is a bug or a stale screen.
_PROMISE_NEXT: dict[PromiseStatus, frozenset[PromiseStatus]] = {
    PromiseStatus.OPEN: frozenset(
        {PromiseStatus.PARTIAL, PromiseStatus.KEPT, PromiseStatus.BROKEN, PromiseStatus.CANCELLED}
    ),
    PromiseStatus.PARTIAL: frozenset({PromiseStatus.KEPT, PromiseStatus.BROKEN, PromiseStatus.CANCELLED}),
    PromiseStatus.KEPT: frozenset(),
    PromiseStatus.BROKEN: frozenset(),
    PromiseStatus.CANCELLED: frozenset(),
}


class PromiseTransitionError(ValueError):
    """A promise asked to move to a status its life cycle does not allow."""


@dataclass(frozen=True, slots=True)
class Promise:
    """A promise to pay an amount by a date through a payment channel."""

    id: str
    account_id: str
    amount: Money
    due_on: date
    channel: str
    created_at: datetime
    created_by: str
    status: PromiseStatus = PromiseStatus.OPEN
    paid: Money | None = None
    grace_days: int = 0

    @property
    def is_settled(self) -> bool:
        return not _PROMISE_NEXT[self.status]

    def moved_to(self, status: PromiseStatus, paid: Money | None = None) -> Promise:
        """The same promise in a new status, if its life cycle allows the move."""
        if status not in _PROMISE_NEXT[self.status]:
            raise PromiseTransitionError(f"a promise cannot go from {self.status.value} to {status.value}")
        return replace(self, status=status, paid=paid if paid is not None else self.paid)


def promise_status_after(promise: Promise, paid: Money, today: date) -> PromiseStatus:
    """What an open or partial promise is once `paid` has come in, as of `today`."""
    if promise.is_settled:
        return promise.status
    if paid.centavos >= promise.amount.centavos:
        return PromiseStatus.KEPT
    overdue = (today - promise.due_on).days > promise.grace_days
    if overdue:
        return PromiseStatus.BROKEN
    return PromiseStatus.PARTIAL if paid.centavos > 0 else PromiseStatus.OPEN


@dataclass(frozen=True, slots=True)
class Installment:
    number: int
    due_on: date
    amount: Money
    status: InstallmentStatus = InstallmentStatus.DUE


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    """A convenio: a down payment and installments on a schedule."""

    id: str
    account_id: str
    down_payment: Money
    installments: tuple[Installment, ...]
    created_at: datetime
    created_by: str
    status: PlanStatus = PlanStatus.PROPOSED
    kind: PlanKind = PlanKind.PLAN
    forgiven: Money | None = None  # a settlement: what the debtor no longer owes once it is paid

    @property
    def total(self) -> Money:
        result = self.down_payment
        for item in self.installments:
            result = result + item.amount
        return result


@dataclass(frozen=True, slots=True)
class ContactAttempt:
    """One gestión: a contact made or received, with its result and the PCR of the call."""

    id: str
    account_id: str
    customer_id: str
    channel: Channel
    direction: Direction
    started_at: datetime
    ended_at: datetime | None
    result_code: str
    agent: str
    contact_point_id: str | None = None
    problem_code: str | None = None
    circumstance: str = ""
    resolution: str = ""
    notes: str = ""
    script_steps: tuple[str, ...] = field(default_factory=tuple)
    callback_at: datetime | None = None  # when the debtor asked to be called back
    override_reason: str | None = None  # a supervisor made it although the contact rules blocked it


@dataclass(frozen=True, slots=True)
class Note:
    """A free-text note on an account, by its author."""

    id: str
    account_id: str
    author: str
    created_at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Restriction:
    """A reason not to contact a person or one of their contact points."""

    id: str
    customer_id: str
    kind: RestrictionKind
    created_at: datetime
    source: str
    contact_point_id: str | None = None
    channel: Channel | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class BucketHistoryEntry:
    """When an account entered (and left) a bucket: the raw material of roll rates."""

    id: str
    account_id: str
    bucket: str
    entered_on: date
    left_on: date | None = None
