"""The domain commands a workstation pushes. Facts (contacts, notes, opt-outs) are never rejected;
intentions (promises) are validated against the server's current state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from cobro_tui.domain.models import (
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
from cobro_tui.domain.promises import Problem
from cobro_tui.domain.records import from_record, instant_text, to_record
from cobro_tui.i18n import day, money, t
from cobro_tui.policy import Policy, load_policy
from cobro_tui.rules.engine import Party, Question, decide
from cobro_tui.rules.facts import CodeCounts, past_of, point_of, suppressions_of
from cobro_tui.server.feed import Doc, Tx, docs_of_account, docs_of_customer, get_doc

HOLDS = {RestrictionKind.DISPUTE.value, RestrictionKind.LEGAL_HOLD.value, RestrictionKind.DECEASED.value}
STOPS = {RestrictionKind.OPT_OUT.value, RestrictionKind.CEASE.value}


class Malformed(ValueError):
    """Arguments that do not describe the command: a client bug, answered 400."""


@dataclass
class Outcome:
    status: str = "applied"
    reason: dict[str, Any] | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)
    compliance: dict[str, Any] | None = None  # the rule decision behind a COMPLIANCE_ warning
    approval: dict[str, str] | None = None  # when held: the level that must decide, and why

    def warn(self, code: str, message: str) -> None:
        self.status = "applied_with_warnings"
        self.warnings.append({"code": code, "message": message})


def rejected(code: str, message: str) -> Outcome:
    return Outcome("rejected", {"code": code, "message": message, "retryable": False})


def held(verdict: OfferVerdict) -> Outcome:
    """Above the requester's authority: nothing is applied; the command waits for a supervisor."""
    level = verdict.approval or "supervisor"
    why = "; ".join(_worded(problem) for problem in verdict.why)
    return Outcome("deferred", {"code": "NEEDS_APPROVAL", "message": t("offer.held", level=t(f"role_name.{level}"), why=why),
                                "retryable": False}, approval={"level": level, "why": why})


@dataclass(frozen=True, slots=True)
class Context:
    tx: Tx
    agent: str
    now: datetime
    occurred_at: datetime
    observed_seq: int | None
    approved_by: str | None = None  # a supervisor approved this command: the authority check is met

    @property
    def conn(self) -> Connection:
        return self.tx.conn


def _account(ctx: Context, account_id: Any) -> Doc:
    if not isinstance(account_id, str):
        raise Malformed("account_id must be text")
    doc = get_doc(ctx.conn, "account", account_id)
    if doc is None:
        raise Malformed(f"account {account_id} does not exist")
    return doc


def _decode(kind: str, data: dict[str, Any]) -> Any:
    try:
        return from_record(kind, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise Malformed(f"{kind}: {exc}") from None


def _restrictions(ctx: Context, customer_id: str) -> list[dict[str, Any]]:
    return [d.data for d in docs_of_customer(ctx.conn, customer_id, "restriction")]


def contact_log(ctx: Context, args: dict[str, Any]) -> Outcome:
    account = _account(ctx, args.get("account_id"))
    record = {**args, "agent": ctx.agent}
    attempt = _decode("contact_attempt", record)
    outcome = Outcome()
    existing = get_doc(ctx.conn, "contact_attempt", attempt.id)
    if existing is not None:
        return outcome  # the same fact again under another mutation: already recorded
    if account.agent != ctx.agent:
        if ctx.agent not in account.data.get("_former_agents", []):
            return rejected("NOT_YOUR_ACCOUNT", "La cuenta nunca estuvo asignada a este agente.")
        outcome.warn("ACCOUNT_REASSIGNED", "La cuenta ya estaba asignada a otro agente; la gestión se registró a su nombre.")
    if attempt.direction is Direction.OUTBOUND:
        _judge_contact(ctx, attempt, outcome)
    ctx.tx.put(Doc("contact_attempt", attempt.id, 0, to_record(attempt), account.id, account.customer_id, account.agent),
               current=None)
    last = account.data.get("last_contact_at")
    if last is None or datetime.fromisoformat(last) < attempt.started_at:
        ctx.tx.put(Doc("account", account.id, 0, {**account.data, "last_contact_at": instant_text(attempt.started_at)},
                       account.id, account.customer_id, account.agent), current=account.version)
    return outcome


def _judge_contact(ctx: Context, attempt: ContactAttempt, outcome: Outcome) -> None:
    """The contact rules at the moment the contact was made, from the server's facts: a contact they
    block (or one made under a supervisor's override) is recorded and flagged for review."""
    policy = server_policy()
    rules = policy.rules
    customer = get_doc(ctx.conn, "customer", attempt.customer_id)
    point_doc = get_doc(ctx.conn, "contact_point", attempt.contact_point_id) if attempt.contact_point_id else None
    if customer is None or point_doc is None:
        return  # a contact without a known point (a visit to an address on paper): nothing to judge
    point = point_of(from_record("contact_point", point_doc.data), policy.zones, rules.country)
    counts = CodeCounts.of(policy.result_codes)
    since = attempt.started_at - rules.horizon()
    history = tuple(
        past_of(c, counts) for c in (from_record("contact_attempt", d.data)
                                     for d in docs_of_customer(ctx.conn, attempt.customer_id, "contact_attempt"))
        if since <= c.started_at < attempt.started_at and c.id != attempt.id
    )
    restrictions = [from_record("restriction", r) for r in _restrictions(ctx, attempt.customer_id)]
    question = Question(at=attempt.started_at, channel=attempt.channel.value, point=point, account_id=attempt.account_id,
                        party=Party("debtor", date.fromisoformat(customer.data["birth_date"])), history=history,
                        suppressions=suppressions_of(restrictions))
    decision = decide(rules, question)
    if decision.allowed and not attempt.override_reason:
        return
    kind = "override" if attempt.override_reason else "blocked"
    blocking = [[c.rule.id, c.result.value, c.key] for c in decision.reasons]
    record = {"rules": blocking, "ruleset": f"{rules.name}@{rules.version}", "config_hash": policy.config_hash,
              "tz_version": policy.tz_version, "zones": list(decision.zones)}
    outcome.compliance = {**record, "contact_id": attempt.id, "kind": kind}
    ids = ", ".join(c.rule.id for c in decision.reasons if c.result.value == "block") or "-"
    if kind == "override":
        outcome.warn("COMPLIANCE_OVERRIDE", f"Gestión registrada con excepción de supervisor ({ids}); pasa a revisión.")
    else:
        outcome.warn("COMPLIANCE_EXCEPTION",
                     f"Las reglas de contacto no permitían esta gestión ({ids}); quedó registrada y pasa a revisión.")


@lru_cache(maxsize=1)
def server_policy() -> Policy:
    """The policy the reference server judges contacts by: the shipped one."""
    return load_policy()


def note_add(ctx: Context, args: dict[str, Any]) -> Outcome:
    account = _account(ctx, args.get("account_id"))
    if account.agent != ctx.agent and ctx.agent not in account.data.get("_former_agents", []):
        return rejected("NOT_YOUR_ACCOUNT", "La cuenta nunca estuvo asignada a este agente.")
    text = args.get("text")
    note_id = args.get("id")
    if not isinstance(text, str) or not isinstance(note_id, str) or not text.strip():
        raise Malformed("note.add needs id and a non-empty text")
    if get_doc(ctx.conn, "note", note_id) is None:
        data = {"id": note_id, "account_id": account.id, "author": ctx.agent, "created_at": ctx.occurred_at.isoformat(), "text": text}
        ctx.tx.put(Doc("note", note_id, 0, data, account.id, account.customer_id, account.agent), current=None)
    return Outcome()


def restriction_request(ctx: Context, args: dict[str, Any]) -> Outcome:
    restriction = _decode("restriction", args)
    if restriction.kind.value not in STOPS:
        raise Malformed("restriction.request records opt_out or cease; other holds come from the back office")
    if get_doc(ctx.conn, "customer", restriction.customer_id) is None:
        raise Malformed(f"customer {restriction.customer_id} does not exist")
    if get_doc(ctx.conn, "restriction", restriction.id) is None:
        ctx.tx.put(Doc("restriction", restriction.id, 0, to_record(restriction), None, restriction.customer_id, None),
                   current=None)
        if restriction.contact_point_id:
            point = get_doc(ctx.conn, "contact_point", restriction.contact_point_id)
            if point is not None and not point.data.get("opted_out"):
                ctx.tx.put(Doc("contact_point", point.id, 0, {**point.data, "opted_out": True}, None, point.customer_id, None),
                           current=point.version)
    return Outcome()


def _holds(ctx: Context, account: Doc) -> list[str]:
    """The holds (dispute, legal hold, deceased) on the account's customer: no intentions then."""
    return [r["kind"] for r in _restrictions(ctx, account.customer_id or "") if r["kind"] in HOLDS]


def _owned_when_acted(ctx: Context, account: Doc) -> bool:
    """The agent owned the account, or could not yet know it had moved (observed cursor before the move)."""
    if account.agent == ctx.agent:
        return True
    moved = account.data.get("_reassigned_seq")
    return moved is not None and ctx.observed_seq is not None and ctx.observed_seq < moved


# Reason codes of the offer policy's refusals, by the problem's message id.
REFUSAL_CODES = {
    "promise.too_small": "AMOUNT_BELOW_MINIMUM", "promise.above_balance": "AMOUNT_ABOVE_BALANCE",
    "promise.in_past": "DUE_DATE_OUT_OF_RANGE", "promise.too_far": "DUE_DATE_OUT_OF_RANGE",
    "promise.not_business_day": "DUE_DATE_OUT_OF_RANGE", "promise.overlap": "PROMISE_OVERLAP",
    "plan.not_offered": "PLAN_NOT_OFFERED", "plan.total_range": "PLAN_ABOVE_BALANCE", "plan.down_range": "PLAN_INVALID",
    "plan.down_small": "PLAN_INVALID", "plan.bad_frequency": "PLAN_INVALID", "plan.count_range": "PLAN_INVALID",
    "plan.installment_small": "PLAN_INVALID", "plan.first_due_range": "PLAN_DATES_INVALID", "plan.overlap": "PLAN_OVERLAP",
    "settlement.not_offered": "SETTLEMENT_NOT_OFFERED", "settlement.amount_range": "SETTLEMENT_INVALID",
    "settlement.date_range": "SETTLEMENT_INVALID", "settlement.count": "SETTLEMENT_INVALID",
    "settlement.discount_too_big": "DISCOUNT_ABOVE_POLICY", "restructure.bucket": "RESTRUCTURE_NOT_OFFERED",
    "restructure.down": "RESTRUCTURE_INVALID", "restructure.count": "RESTRUCTURE_INVALID",
    "restructure.total": "RESTRUCTURE_INVALID",
}


def _worded(problem: Problem) -> str:
    values = {k: money(v) if isinstance(v, Money) else day(v) if isinstance(v, date) else
              t(f"role_name.{v}") if k == "level" else v for k, v in problem.values.items()}
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
    placed = sorted((p for p in points if p.get("state_code") or p.get("municipality_code")),
                    key=lambda p: not p.get("is_primary"))
    zone = zones.zone(placed[0].get("state_code", ""), placed[0].get("municipality_code", "")) if placed \
        else ZoneInfo(zones.fallback)
    return now.astimezone(zone).date()


def promise_create(ctx: Context, args: dict[str, Any]) -> Outcome:
    account = _account(ctx, args.get("account_id"))
    # The grace days are the policy's, whatever the workstation sent.
    record = {"status": PromiseStatus.OPEN.value, "paid": None, "created_by": ctx.agent, **args,
              "grace_days": server_policy().offers.promise.grace_days}
    promise = _decode("promise", record)
    if get_doc(ctx.conn, "promise", promise.id) is not None:
        return Outcome()
    if not _owned_when_acted(ctx, account):
        return rejected("ACCOUNT_REASSIGNED", "La cuenta fue reasignada a otro agente antes de tomar la promesa.")
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
    verdict = check_promise(acc, open_promises, broken_recently(promises, today), promise.amount, promise.due_on, today,
                            server_policy().offers)
    if verdict.problems:
        return _refused(verdict.problems[0])
    if verdict.approval and ctx.approved_by is None:
        return held(verdict)
    ctx.tx.put(Doc("promise", promise.id, 0, to_record(promise), account.id, account.customer_id, account.agent),
               current=None)
    return Outcome()


def promise_cancel(ctx: Context, args: dict[str, Any]) -> Outcome:
    promise_id = args.get("promise_id")
    if not isinstance(promise_id, str):
        raise Malformed("promise.cancel needs promise_id")
    doc = get_doc(ctx.conn, "promise", promise_id)
    if doc is None:
        return rejected("PROMISE_UNKNOWN", "La promesa no existe en el servidor.")
    if doc.data["status"] == PromiseStatus.CANCELLED.value:
        return Outcome()
    if doc.data["status"] not in ("open", "partial"):
        return rejected("PROMISE_NOT_ACTIVE", f"La promesa ya está {doc.data['status']}; no se puede cancelar.")
    ctx.tx.put(Doc("promise", doc.id, 0, {**doc.data, "status": PromiseStatus.CANCELLED.value},
                   doc.account_id, doc.customer_id, doc.agent), current=doc.version)
    return Outcome()


def plan_propose(ctx: Context, args: dict[str, Any]) -> Outcome:
    """A plan, settlement or restructure the agent agreed with the debtor: checked against the
    account as it is now; above the agent's authority it waits for a supervisor (see approvals)."""
    account = _account(ctx, args.get("account_id"))
    record = {"status": PlanStatus.PROPOSED.value, "created_by": ctx.agent, **args}
    plan = _decode("payment_plan", record)
    if get_doc(ctx.conn, "payment_plan", plan.id) is not None:
        return Outcome()
    if not _owned_when_acted(ctx, account):
        return rejected("ACCOUNT_REASSIGNED", "La cuenta fue reasignada a otro agente antes de proponer el convenio.")
    acc = _decode("account", account.public())
    holds = _holds(ctx, account)
    if holds:
        return rejected("ACCOUNT_ON_HOLD", f"La cuenta está en {holds[0]}; no se pueden proponer convenios.")
    if not plan.installments or any(i.amount.centavos <= 0 or i.amount.currency != acc.currency for i in plan.installments):
        return rejected("PLAN_INVALID", "Cada pago del convenio debe ser positivo y en la moneda de la cuenta.")
    if plan.total.centavos > acc.balance.centavos:
        return rejected("PLAN_ABOVE_BALANCE", "El convenio suma más que el saldo de la cuenta.")
    days = [i.due_on for i in plan.installments]
    if days != sorted(days):
        return rejected("PLAN_DATES_INVALID", "Los pagos del convenio deben ir en orden de fecha.")
    today = debtor_today(ctx.conn, account, ctx.now)
    plans = [_decode("payment_plan", d.data) for d in docs_of_account(ctx.conn, account.id, "payment_plan")]
    verdict = check_agreement(acc, plans, plan.kind.value, plan.total, plan.down_payment, len(days), days[0], days,
                              _frequency_of(days), today, "agent", server_policy().offers)
    if verdict.problems:
        return _refused(verdict.problems[0])
    if verdict.approval and ctx.approved_by is None:
        return held(verdict)
    if plan.kind is PlanKind.SETTLEMENT:  # what it forgives, from the balance as it is now
        plan = replace(plan, forgiven=Money(acc.balance.centavos - plan.total.centavos, acc.currency))
    ctx.tx.put(Doc("payment_plan", plan.id, 0, to_record(plan), account.id, account.customer_id, account.agent),
               current=None)
    return Outcome()


def decision_record(ctx: Context, args: dict[str, Any]) -> Outcome:
    """A refusal the agent saw: a fact, kept with its snapshot (see push); nothing else changes."""
    _account(ctx, args.get("account_id"))
    return Outcome()


def split_decision(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The command's own arguments, and the decision snapshot that travels with it (if any)."""
    decision = args.get("decision")
    if decision is not None and not isinstance(decision, dict):
        raise Malformed("decision must be an object")
    return {k: v for k, v in args.items() if k != "decision"}, decision


MUTATORS: dict[str, Callable[[Context, dict[str, Any]], Outcome]] = {
    "contact.log@1": contact_log,
    "note.add@1": note_add,
    "restriction.request@1": restriction_request,
    "promise.create@1": promise_create,
    "promise.cancel@1": promise_cancel,
    "plan.propose@1": plan_propose,
    "decision.record@1": decision_record,
}
