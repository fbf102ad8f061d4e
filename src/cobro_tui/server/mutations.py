"""The domain commands a workstation pushes, each judged on the server's own state.

Who may: an agent records a fact (a contact, a note, an opt-out, a refusal seen) about an account
for an instant when the server's assignment history says they held it, and an intention (a
promise, a plan, a cancellation) only on an account they hold now; nothing the client sends
decides that. What: the arguments fit their model (api/commands.py), codes exist in the policy in
force, records named belong to the account's customer, instants fall in the window the server
takes. Facts are never rejected for business rules (a contact the rules blocked is recorded and
flagged for review); intentions are checked against the offer policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Connection

from cobro_tui.api.commands import (
    ARGS,
    SERVER_OWNED,
    Args,
    ContactLog,
    DecisionRecord,
    NoteAdd,
    PlanPropose,
    PromiseCancel,
    PromiseCreate,
    RestrictionRequest,
)
from cobro_tui.domain import masking
from cobro_tui.domain.models import (
    PAYMENT_CHANNELS,
    ContactAttempt,
    Direction,
    PlanKind,
    PlanStatus,
    PromiseStatus,
    RestrictionKind,
)
from cobro_tui.domain.money import Money
from cobro_tui.domain.offers import Verdict as OfferVerdict
from cobro_tui.domain.offers import broken_recently, check_agreement, check_promise
from cobro_tui.domain.phones import PhoneError, normalize_phone
from cobro_tui.domain.promises import Problem
from cobro_tui.domain.records import from_record, instant_text, to_record
from cobro_tui.i18n import day, money, t
from cobro_tui.policy import Policy, load_policy
from cobro_tui.rules.engine import Party, Question, decide
from cobro_tui.rules.facts import CodeCounts, past_of, point_of, suppressions_of
from cobro_tui.server import export
from cobro_tui.server.feed import Doc, Tx, docs_of_account, docs_of_customer, get_doc
from cobro_tui.server.holdings import customer_held_at, ever_held, held_at

HOLDS = {RestrictionKind.DISPUTE.value, RestrictionKind.LEGAL_HOLD.value, RestrictionKind.DECEASED.value}


class Refused(Exception):
    """The command is refused as sent: its verdict is `rejected` with this code. `security` marks an
    attempt on what is not the caller's (another agent's account, a forged field), which supervisors
    review as a security event."""

    def __init__(self, code: str, message: str, security: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.security = code, message, security


@dataclass
class Outcome:
    status: str = "applied"
    reason: dict[str, Any] | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)
    compliance: dict[str, Any] | None = None  # the rule decision behind a COMPLIANCE_ warning
    approval: dict[str, str] | None = None  # when held: the level that must decide, and why
    security: bool = False  # refused as an attempt on what is not the agent's (a security event)

    def warn(self, code: str, message: str) -> None:
        self.status = "applied_with_warnings"
        self.warnings.append({"code": code, "message": message})


def rejected(code: str, message: str) -> Outcome:
    return Outcome("rejected", {"code": code, "message": message, "retryable": False})


def held(verdict: OfferVerdict) -> Outcome:
    """Above the requester's authority: nothing is applied; the command waits for a supervisor."""
    level = verdict.approval or "supervisor"
    why = "; ".join(_worded(problem) for problem in verdict.why)
    return Outcome(
        "deferred",
        {
            "code": "NEEDS_APPROVAL",
            "message": t("offer.held", level=t(f"role_name.{level}"), why=why),
            "retryable": False,
        },
        approval={"level": level, "why": why},
    )


@dataclass(frozen=True, slots=True)
class Limits:
    """How far from the server's now a client's instants may fall."""

    skew_s: int = 300  # a workstation's clock may be this far ahead
    horizon_days: int = 90  # facts older than this are not taken (the retention horizon)
    callback_days: int = 366  # how far ahead a callback may be asked for


@dataclass(frozen=True, slots=True)
class Context:
    tx: Tx
    agent: str
    now: datetime
    occurred_at: datetime
    approved_by: str | None = None  # a supervisor approved this command: the authority check is met
    limits: Limits = Limits()

    @property
    def conn(self) -> Connection:
        return self.tx.conn


def parse_args(name: str, raw: dict[str, Any]) -> Args:
    """The command's arguments as its model says, or Refused naming the first field that does not fit."""
    try:
        return ARGS[name].model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        forged = sorted(
            ".".join(str(p) for p in e["loc"])
            for e in errors
            if e["type"] == "extra_forbidden" and str(e["loc"][-1]) in SERVER_OWNED
        )
        if forged:
            raise Refused(
                "SERVER_OWNED_FIELD", f"{name}: the server sets {', '.join(forged)}; do not send it", security=True
            ) from None
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"]) or "args"
        code = "INVALID_PHONE" if first["loc"][-1:] == ("phone",) else "INVALID_ARGUMENTS"
        raise Refused(code, f"{name}: {where}: {first['msg']}") from None


def stored_args(name: str, text: str) -> Args:
    """A held command's arguments as stored when it was pushed."""
    return parse_args(name, {k: v for k, v in json.loads(text).items() if k not in SERVER_OWNED})


def check_instant(ctx: Context, what: str, at: datetime) -> None:
    """A fact's instant falls between the retention horizon and the server's now (plus the skew allowed)."""
    earliest = ctx.now - timedelta(days=ctx.limits.horizon_days)
    latest = ctx.now + timedelta(seconds=ctx.limits.skew_s)
    if not earliest <= at <= latest:
        raise Refused(
            "INSTANT_OUT_OF_RANGE",
            t("command.instant_out_of_range", what=what, earliest=instant_text(earliest), latest=instant_text(latest)),
        )


def _account(ctx: Context, account_id: str) -> Doc:
    """The account a command names; one that does not exist is refused as not the caller's, so that
    an agent cannot tell another agent's account from none."""
    doc = get_doc(ctx.conn, "account", account_id)
    if doc is None:
        raise Refused("NOT_YOUR_ACCOUNT", t("command.not_your_account"), security=True)
    return doc


def account_for_fact(ctx: Context, account_id: str, at: datetime) -> tuple[Doc, Outcome]:
    """The account of a fact the agent records for the instant `at`: they must have held it then, as
    the server's assignment history says. Held then but not now: recorded, with a warning."""
    account = _account(ctx, account_id)
    outcome = Outcome()
    if not held_at(ctx.conn, account.id, ctx.agent, at, ctx.limits.skew_s):
        raise Refused("NOT_YOUR_ACCOUNT", t("command.not_held_then"), security=True)
    if account.agent != ctx.agent:
        outcome.warn("ACCOUNT_REASSIGNED", t("command.reassigned_fact"))
    return account, outcome


def account_for_intention(ctx: Context, account_id: str) -> Doc:
    """The account of an intention (promise, plan, cancellation): the agent must hold it now."""
    account = _account(ctx, account_id)
    if account.agent != ctx.agent:
        if ever_held(ctx.conn, account.id, ctx.agent):
            raise Refused("ACCOUNT_REASSIGNED", t("command.reassigned_intention"))
        raise Refused("NOT_YOUR_ACCOUNT", t("command.not_your_account"), security=True)
    return account


def _restrictions(ctx: Context, customer_id: str) -> list[dict[str, Any]]:
    return [d.data for d in docs_of_customer(ctx.conn, customer_id, "restriction")]


def _customer_point(ctx: Context, customer_id: str, point_id: str | None) -> Doc | None:
    """A contact point the command names: it must be the customer's."""
    if point_id is None:
        return None
    point = get_doc(ctx.conn, "contact_point", point_id)
    if point is None or point.customer_id != customer_id:
        raise Refused("FOREIGN_RECORD", t("command.foreign_point"), security=True)
    return point


PHONE_KINDS = frozenset(("mobile", "home", "work", "whatsapp"))


def _customer_phone(ctx: Context, customer_id: str, e164: str) -> Doc:
    """The customer's phone with this number (stored in E.164, or as an older import wrote it)."""
    for point in docs_of_customer(ctx.conn, customer_id, "contact_point"):
        if point.data.get("kind") in PHONE_KINDS and _same_phone(str(point.data.get("value", "")), e164):
            return point
    raise Refused("UNKNOWN_PHONE", t("command.unknown_phone", phone=masking.phone(e164)))


def _same_phone(stored: str, e164: str) -> bool:
    if stored == e164:
        return True
    try:
        return normalize_phone(stored) == e164
    except PhoneError:
        return False


def recorded(
    ctx: Context,
    kind: str,
    record_id: str,
    author: str | None,
    *,
    account_id: str | None = None,
    customer_id: str | None = None,
) -> bool:
    """Whether the command's record is already stored: the same fact again (an outbox item sent
    twice under new mutation ids) is recorded once. An id that names a record of another account,
    customer or author is refused: it must neither overwrite nor confirm someone else's record."""
    doc = get_doc(ctx.conn, kind, record_id)
    if doc is None:
        return False
    if (
        (account_id is not None and doc.account_id != account_id)
        or (customer_id is not None and doc.customer_id != customer_id)
        or (author is not None and doc.data.get(author) != ctx.agent)
    ):
        raise Refused("FOREIGN_RECORD", t("command.foreign_id", kind=kind), security=True)
    return True


def contact_log(ctx: Context, args: ContactLog) -> Outcome:
    check_instant(ctx, "started_at", args.started_at)
    if args.ended_at is not None:
        check_instant(ctx, "ended_at", args.ended_at)
    if args.callback_at is not None and args.callback_at > ctx.now + timedelta(days=ctx.limits.callback_days):
        raise Refused("INSTANT_OUT_OF_RANGE", t("command.callback_too_far", days=ctx.limits.callback_days))
    account, outcome = account_for_fact(ctx, args.account_id, args.started_at)
    if args.customer_id != account.customer_id:
        raise Refused("FOREIGN_RECORD", t("command.foreign_customer"), security=True)
    point = _customer_point(ctx, account.customer_id or "", args.contact_point_id)
    policy = server_policy()
    if args.result_code not in policy.result_codes:
        raise Refused("UNKNOWN_CODE", t("command.unknown_result_code", code=args.result_code))
    if args.problem_code is not None and args.problem_code not in {p.code for p in policy.problems}:
        raise Refused("UNKNOWN_CODE", t("command.unknown_problem_code", code=args.problem_code))
    if recorded(ctx, "contact_attempt", args.id, "agent", account_id=account.id):
        return Outcome()  # the same fact again under another mutation: already recorded
    attempt = _decode("contact_attempt", args.record(agent=ctx.agent))
    if attempt.direction is Direction.OUTBOUND:
        _judge_contact(ctx, attempt, point, outcome)
    record = to_record(attempt)
    ctx.tx.put(
        Doc("contact_attempt", attempt.id, 0, record, account.id, account.customer_id, account.agent), current=None
    )
    export.contact_logged(
        ctx.tx,
        record,
        account,
        point,
        policy.result_codes.get(attempt.result_code).right_party_contact,
        outcome.compliance["kind"] if outcome.compliance else None,
    )
    last = account.data.get("last_contact_at")
    if last is None or datetime.fromisoformat(last) < attempt.started_at:
        ctx.tx.put(
            Doc(
                "account",
                account.id,
                0,
                {**account.data, "last_contact_at": instant_text(attempt.started_at)},
                account.id,
                account.customer_id,
                account.agent,
            ),
            current=account.version,
            before=account,
        )
    return outcome


def _decode(kind: str, data: dict[str, Any]) -> Any:
    try:
        return from_record(kind, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise Refused("INVALID_ARGUMENTS", f"{kind}: {exc}") from None


def _judge_contact(ctx: Context, attempt: ContactAttempt, point_doc: Doc | None, outcome: Outcome) -> None:
    """The contact rules at the moment the contact was made, from the server's facts: a contact they
    block (or one made under a supervisor's override) is recorded and flagged for review."""
    policy = server_policy()
    rules = policy.rules
    customer = get_doc(ctx.conn, "customer", attempt.customer_id)
    if customer is None or point_doc is None:
        return  # a contact without a known point (a visit to an address on paper): nothing to judge
    point = point_of(from_record("contact_point", point_doc.data), policy.zones, rules.country)
    counts = CodeCounts.of(policy.result_codes)
    since = attempt.started_at - rules.horizon()
    history = tuple(
        past_of(c, counts)
        for c in (
            from_record("contact_attempt", d.data)
            for d in docs_of_customer(ctx.conn, attempt.customer_id, "contact_attempt")
        )
        if since <= c.started_at < attempt.started_at and c.id != attempt.id
    )
    restrictions = [from_record("restriction", r) for r in _restrictions(ctx, attempt.customer_id)]
    question = Question(
        at=attempt.started_at,
        channel=attempt.channel.value,
        point=point,
        account_id=attempt.account_id,
        party=Party("debtor", date.fromisoformat(customer.data["birth_date"])),
        history=history,
        suppressions=suppressions_of(restrictions),
    )
    decision = decide(rules, question)
    if decision.allowed and not attempt.override_reason:
        return
    kind = "override" if attempt.override_reason else "blocked"
    blocking = [[c.rule.id, c.result.value, c.key] for c in decision.reasons]
    record = {
        "rules": blocking,
        "ruleset": f"{rules.name}@{rules.version}",
        "config_hash": policy.config_hash,
        "tz_version": policy.tz_version,
        "zones": list(decision.zones),
    }
    outcome.compliance = {**record, "contact_id": attempt.id, "kind": kind}
    ids = ", ".join(c.rule.id for c in decision.reasons if c.result.value == "block") or "-"
    if kind == "override":
        outcome.warn("COMPLIANCE_OVERRIDE", f"Gestión registrada con excepción de supervisor ({ids}); pasa a revisión.")
    else:
        outcome.warn(
            "COMPLIANCE_EXCEPTION",
            f"Las reglas de contacto no permitían esta gestión ({ids}); quedó registrada y pasa a revisión.",
        )


@lru_cache(maxsize=1)
def server_policy() -> Policy:
    """The policy the reference server judges contacts by: the shipped one."""
    return load_policy()


def note_add(ctx: Context, args: NoteAdd) -> Outcome:
    account, outcome = account_for_fact(ctx, args.account_id, ctx.occurred_at)
    if not recorded(ctx, "note", args.id, "author", account_id=account.id):
        data = {
            "id": args.id,
            "account_id": account.id,
            "author": ctx.agent,
            "created_at": instant_text(ctx.occurred_at),
            "text": args.text,
        }
        ctx.tx.put(Doc("note", args.id, 0, data, account.id, account.customer_id, account.agent), current=None)
        export.note_added(ctx.tx, data, account)
    return outcome


def restriction_request(ctx: Context, args: RestrictionRequest) -> Outcome:
    """An opt-out or cease request the debtor made to the agent: a fact about a person whose account
    the agent held when it was made."""
    check_instant(ctx, "created_at", args.created_at)
    if not customer_held_at(ctx.conn, args.customer_id, ctx.agent, args.created_at, ctx.limits.skew_s):
        raise Refused("NOT_YOUR_ACCOUNT", t("command.not_your_customer"), security=True)
    if args.phone is not None:
        found = _customer_phone(ctx, args.customer_id, args.phone)
        args = args.model_copy(update={"contact_point_id": found.id, "phone": None})
    point = _customer_point(ctx, args.customer_id, args.contact_point_id)
    if not recorded(ctx, "restriction", args.id, None, customer_id=args.customer_id):
        restriction = _decode("restriction", {k: v for k, v in args.record(source="agent").items() if k != "phone"})
        record = to_record(restriction)
        ctx.tx.put(Doc("restriction", restriction.id, 0, record, None, restriction.customer_id, None), current=None)
        export.restriction_recorded(ctx.tx, record, ctx.agent, point)
        if point is not None and args.kind == RestrictionKind.OPT_OUT.value and not point.data.get("opted_out"):
            ctx.tx.put(
                Doc("contact_point", point.id, 0, {**point.data, "opted_out": True}, None, point.customer_id, None),
                current=point.version,
            )
    return Outcome()


def _holds(ctx: Context, account: Doc) -> list[str]:
    """The holds (dispute, legal hold, deceased) on the account's customer: no intentions then."""
    return [r["kind"] for r in _restrictions(ctx, account.customer_id or "") if r["kind"] in HOLDS]


# Reason codes of the offer policy's refusals, by the problem's message id.
REFUSAL_CODES = {
    "promise.too_small": "AMOUNT_BELOW_MINIMUM",
    "promise.above_balance": "AMOUNT_ABOVE_BALANCE",
    "promise.in_past": "DUE_DATE_OUT_OF_RANGE",
    "promise.too_far": "DUE_DATE_OUT_OF_RANGE",
    "promise.not_business_day": "DUE_DATE_OUT_OF_RANGE",
    "promise.overlap": "PROMISE_OVERLAP",
    "plan.not_offered": "PLAN_NOT_OFFERED",
    "plan.total_range": "PLAN_ABOVE_BALANCE",
    "plan.down_range": "PLAN_INVALID",
    "plan.down_small": "PLAN_INVALID",
    "plan.bad_frequency": "PLAN_INVALID",
    "plan.count_range": "PLAN_INVALID",
    "plan.installment_small": "PLAN_INVALID",
    "plan.first_due_range": "PLAN_DATES_INVALID",
    "plan.overlap": "PLAN_OVERLAP",
    "settlement.not_offered": "SETTLEMENT_NOT_OFFERED",
    "settlement.amount_range": "SETTLEMENT_INVALID",
    "settlement.date_range": "SETTLEMENT_INVALID",
    "settlement.count": "SETTLEMENT_INVALID",
    "settlement.discount_too_big": "DISCOUNT_ABOVE_POLICY",
    "restructure.bucket": "RESTRUCTURE_NOT_OFFERED",
    "restructure.down": "RESTRUCTURE_INVALID",
    "restructure.count": "RESTRUCTURE_INVALID",
    "restructure.total": "RESTRUCTURE_INVALID",
}


def _worded(problem: Problem) -> str:
    values = {
        k: money(v)
        if isinstance(v, Money)
        else day(v)
        if isinstance(v, date)
        else t(f"role_name.{v}")
        if k == "level"
        else v
        for k, v in problem.values.items()
    }
    return t(problem.key, **values)


def _refused(problem: Problem) -> Outcome:
    """A refusal of the offer policy, worded as the workstation words it."""
    return rejected(REFUSAL_CODES.get(problem.key, "OFFER_REFUSED"), _worded(problem))


def _frequency_of(days: list[date]) -> str:
    """A plan's frequency from its due days (a day moved off a holiday shifts a gap by a few days)."""
    if len(days) < 2:
        return server_policy().offers.plan.frequencies[0]  # one payment: any frequency the policy takes
    gap = (days[1] - days[0]).days
    return "weekly" if gap <= 10 else "biweekly" if gap <= 20 else "monthly"


def debtor_today(conn: Connection, account: Doc, now: datetime) -> date:
    """The debtor's date now: the zone of the primary contact point with a place, as the workstation takes it."""
    zones = server_policy().zones
    points = [d.data for d in docs_of_customer(conn, account.customer_id or "", "contact_point")]
    placed = sorted(
        (p for p in points if p.get("state_code") or p.get("municipality_code")), key=lambda p: not p.get("is_primary")
    )
    zone = (
        zones.zone(placed[0].get("state_code", ""), placed[0].get("municipality_code", ""))
        if placed
        else ZoneInfo(zones.fallback)
    )
    return now.astimezone(zone).date()


def promise_create(ctx: Context, args: PromiseCreate) -> Outcome:
    check_instant(ctx, "created_at", args.created_at)
    if args.channel not in PAYMENT_CHANNELS:
        raise Refused(
            "UNKNOWN_CODE", t("command.unknown_pay_channel", channel=args.channel, known=", ".join(PAYMENT_CHANNELS))
        )
    if recorded(ctx, "promise", args.id, "created_by", account_id=args.account_id):
        return Outcome()
    account = account_for_intention(ctx, args.account_id)
    # Status, what was paid, who made it and the grace days are the server's.
    promise = _decode(
        "promise",
        {
            "id": args.id,
            "account_id": account.id,
            "amount": args.amount.model_dump(),
            "due_on": args.due_on.isoformat(),
            "channel": args.channel,
            "created_at": instant_text(args.created_at),
            "created_by": ctx.agent,
            "status": PromiseStatus.OPEN.value,
            "paid": None,
            "grace_days": server_policy().offers.promise.grace_days,
        },
    )
    acc = _decode("account", account.public())
    if acc.balance.centavos <= 0:
        return rejected("ACCOUNT_PAID", "La cuenta ya no tiene saldo; no hace falta una promesa.")
    holds = _holds(ctx, account)
    if holds:
        return rejected("ACCOUNT_ON_HOLD", f"La cuenta está en {holds[0]}; no se pueden tomar promesas.")
    if promise.amount.currency != acc.currency or promise.amount.centavos <= 0:
        return rejected("AMOUNT_INVALID", "El monto debe ser positivo y en la moneda de la cuenta.")
    if promise.amount.centavos > acc.balance.centavos:
        return rejected("AMOUNT_ABOVE_BALANCE", "El monto prometido es mayor que el saldo de la cuenta.")
    today = debtor_today(ctx.conn, account, ctx.now)
    promises = [_decode("promise", d.data) for d in docs_of_account(ctx.conn, account.id, "promise")]
    open_promises = [p for p in promises if p.status in (PromiseStatus.OPEN, PromiseStatus.PARTIAL)]
    verdict = check_promise(
        acc,
        open_promises,
        broken_recently(promises, today),
        promise.amount,
        promise.due_on,
        today,
        server_policy().offers,
    )
    if verdict.problems:
        return _refused(verdict.problems[0])
    if verdict.approval and ctx.approved_by is None:
        return held(verdict)
    record = to_record(promise)
    ctx.tx.put(Doc("promise", promise.id, 0, record, account.id, account.customer_id, account.agent), current=None)
    export.promise_created(ctx.tx, record, account, ctx.approved_by)
    return Outcome()


def promise_cancel(ctx: Context, args: PromiseCancel) -> Outcome:
    """A promise called off: only by whoever holds its account now."""
    doc = get_doc(ctx.conn, "promise", args.promise_id)
    if doc is None:
        return rejected("PROMISE_UNKNOWN", "La promesa no existe en el servidor.")
    if args.account_id is not None and args.account_id != doc.account_id:
        raise Refused("FOREIGN_RECORD", t("command.foreign_promise"), security=True)
    account_for_intention(ctx, doc.account_id or "")
    if doc.data["status"] == PromiseStatus.CANCELLED.value:
        return Outcome()
    if doc.data["status"] not in ("open", "partial"):
        return rejected("PROMISE_NOT_ACTIVE", f"La promesa ya está {doc.data['status']}; no se puede cancelar.")
    cancelled = {**doc.data, "status": PromiseStatus.CANCELLED.value}
    ctx.tx.put(Doc("promise", doc.id, 0, cancelled, doc.account_id, doc.customer_id, doc.agent), current=doc.version)
    export.promise_cancelled(ctx.tx, cancelled, ctx.agent)
    return Outcome()


def plan_propose(ctx: Context, args: PlanPropose) -> Outcome:
    """A plan, settlement or restructure the agent agreed with the debtor: checked against the
    account as it is now; above the agent's authority it waits for a supervisor (see approvals)."""
    check_instant(ctx, "created_at", args.created_at)
    if recorded(ctx, "payment_plan", args.id, "created_by", account_id=args.account_id):
        return Outcome()
    account = account_for_intention(ctx, args.account_id)
    installments = [
        {"number": i.number, "due_on": i.due_on.isoformat(), "amount": i.amount.model_dump()} for i in args.installments
    ]
    plan = _decode(
        "payment_plan",
        {
            "id": args.id,
            "account_id": account.id,
            "down_payment": args.down_payment.model_dump(),
            "installments": installments,
            "created_at": instant_text(args.created_at),
            "created_by": ctx.agent,
            "status": PlanStatus.PROPOSED.value,
            "kind": args.kind,
        },
    )
    acc = _decode("account", account.public())
    holds = _holds(ctx, account)
    if holds:
        return rejected("ACCOUNT_ON_HOLD", f"La cuenta está en {holds[0]}; no se pueden proponer convenios.")
    if plan.down_payment.currency != acc.currency or any(
        i.amount.centavos <= 0 or i.amount.currency != acc.currency for i in plan.installments
    ):
        return rejected("PLAN_INVALID", "Cada pago del convenio debe ser positivo y en la moneda de la cuenta.")
    if plan.total.centavos > acc.balance.centavos:
        return rejected("PLAN_ABOVE_BALANCE", "El convenio suma más que el saldo de la cuenta.")
    days = [i.due_on for i in plan.installments]
    if days != sorted(days):
        return rejected("PLAN_DATES_INVALID", "Los pagos del convenio deben ir en orden de fecha.")
    today = debtor_today(ctx.conn, account, ctx.now)
    plans = [_decode("payment_plan", d.data) for d in docs_of_account(ctx.conn, account.id, "payment_plan")]
    verdict = check_agreement(
        acc,
        plans,
        plan.kind.value,
        plan.total,
        plan.down_payment,
        len(days),
        days[0],
        days,
        _frequency_of(days),
        today,
        "agent",
        server_policy().offers,
    )
    if verdict.problems:
        return _refused(verdict.problems[0])
    if verdict.approval and ctx.approved_by is None:
        return held(verdict)
    if plan.kind is PlanKind.SETTLEMENT:  # what it forgives, from the balance as it is now
        plan = replace(plan, forgiven=Money(acc.balance.centavos - plan.total.centavos, acc.currency))
    record = to_record(plan)
    ctx.tx.put(Doc("payment_plan", plan.id, 0, record, account.id, account.customer_id, account.agent), current=None)
    export.plan_created(ctx.tx, record, account, ctx.approved_by)
    return Outcome()


def decision_record(ctx: Context, args: DecisionRecord) -> Outcome:
    """A refusal the agent saw: a fact, kept with its snapshot (see push); nothing else changes."""
    return account_for_fact(ctx, args.account_id, ctx.occurred_at)[1]


def account_named(args: Args) -> str | None:
    """The account a command names, if it names one."""
    return getattr(args, "account_id", None)


def run(ctx: Context, name: str, args: Args) -> Outcome:
    """Judge one command on the server's state: a refusal becomes a rejected verdict."""
    try:
        return MUTATORS[name](ctx, args)
    except Refused as refusal:
        outcome = rejected(refusal.code, refusal.message)
        outcome.security = refusal.security
        return outcome


MUTATORS: dict[str, Callable[[Context, Any], Outcome]] = {
    "contact.log@1": contact_log,
    "note.add@1": note_add,
    "restriction.request@1": restriction_request,
    "promise.create@1": promise_create,
    "promise.cancel@1": promise_cancel,
    "plan.propose@1": plan_propose,
    "decision.record@1": decision_record,
}
