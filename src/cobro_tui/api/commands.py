"""The arguments of each command a workstation pushes (POST /v1/mutations), one model per name.

They hold what a client may say and nothing the server owns: a promise's status, what was paid,
who made it, its grace days, a plan's installment states, a restriction's source are set by the
server, and a command that sends one is refused (SERVER_OWNED). Texts are bounded and lose their
control characters; instants carry their offset. What needs the server's state (whose account it
is, whether a code exists in the policy in force, how far back a fact may be dated) is checked by
the server when it judges the command (server/mutations.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from cobro_tui.api.models import (
    MAX_CENTAVOS,
    Code,
    Day,
    Id,
    Instant,
    MutationIn,
    Phone,
    Text500,
    Text1000,
    Text2000,
    Text4000,
    Wire,
)
from cobro_tui.api.text import cleaned
from cobro_tui.domain.models import Channel, Direction

# Fields the server sets; a client that sends one forges evidence, and is told so.
SERVER_OWNED = frozenset(
    {
        "status",
        "paid",
        "created_by",
        "grace_days",
        "agent",
        "author",
        "forgiven",
        "source",
        "version",
        "server_version",
        "server_seq",
        "received_at",
        "assigned_agent",
        "last_contact_at",
    }
)
DECISION_BYTES = 64 * 1024
LONGEST_CALL_HOURS = 24

ChannelName = Literal["voice", "sms", "whatsapp", "email", "visit", "letter"]
assert set(ChannelName.__args__) == {c.value for c in Channel}  # type: ignore[attr-defined]
DirectionName = Literal["outbound", "inbound"]
assert set(DirectionName.__args__) == {d.value for d in Direction}  # type: ignore[attr-defined]


def _bounded_snapshot(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, ensure_ascii=False)) > DECISION_BYTES:
        raise ValueError(f"a decision snapshot takes at most {DECISION_BYTES // 1024} KiB")
    return cleaned(value)


DecisionSnapshot = Annotated[dict[str, Any], AfterValidator(_bounded_snapshot)]
"""What the agent saw when they made an offer or met a refusal (evidence; kept as sent, texts cleaned)."""


class MoneyIn(Wire):
    centavos: int = Field(ge=0, le=MAX_CENTAVOS)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Args(Wire):
    """The arguments of one command."""

    def record(self, **server: Any) -> dict[str, Any]:
        """The stored record: the fields this model names (all a client may set; any other key was
        refused when the body was read), and the fields the server sets, which the model must not name."""
        client = self.model_dump(mode="json")
        named = client.keys() & server.keys()
        if named:
            raise TypeError(f"{type(self).__name__} lets a client set server-owned fields: {sorted(named)}")
        return {**client, **server}


class ContactLog(Args):
    """contact.log@1: a contact made or received (a fact)."""

    id: Id
    account_id: Id
    customer_id: Id
    contact_point_id: Id | None = None
    channel: ChannelName
    direction: DirectionName
    started_at: Instant
    ended_at: Instant | None = None
    result_code: Code
    problem_code: Code | None = None
    circumstance: Text2000 = ""
    resolution: Text2000 = ""
    notes: Text4000 = ""
    script_steps: list[Id] = Field(default_factory=list, max_length=100)
    callback_at: Instant | None = None
    override_reason: Text500 | None = None

    @model_validator(mode="after")
    def _in_order(self) -> ContactLog:
        if self.ended_at is not None:
            if self.ended_at < self.started_at:
                raise ValueError("ended_at is before started_at")
            if (self.ended_at - self.started_at).total_seconds() > LONGEST_CALL_HOURS * 3600:
                raise ValueError(f"a contact lasts at most {LONGEST_CALL_HOURS} hours")
        if self.callback_at is not None and self.callback_at < self.started_at:
            raise ValueError("callback_at is before started_at")
        return self


class NoteAdd(Args):
    """note.add@1: a free-text note on an account (a fact)."""

    id: Id
    account_id: Id
    text: Text4000

    @model_validator(mode="after")
    def _said_something(self) -> NoteAdd:
        if not self.text.strip():
            raise ValueError("text is empty")
        return self


class RestrictionRequest(Args):
    """restriction.request@1: the debtor asked to stop contact on a point or channel, or altogether (a fact)."""

    id: Id
    customer_id: Id
    kind: Literal["opt_out", "cease"]
    created_at: Instant
    contact_point_id: Id | None = None
    # The debtor names the number ("no me llamen al 55 1234 5678"): the server finds the customer's
    # point by its E.164; instead of contact_point_id, never with it.
    phone: Phone | None = None
    channel: ChannelName | None = None
    note: Text1000 = ""

    @model_validator(mode="after")
    def _one_point(self) -> RestrictionRequest:
        if self.phone is not None and self.contact_point_id is not None:
            raise ValueError("name the contact point by contact_point_id or by phone, not both")
        return self


class PromiseCreate(Args):
    """promise.create@1: a promise to pay (an intention, checked against the offer policy)."""

    id: Id
    account_id: Id
    amount: MoneyIn
    due_on: Day
    channel: Code
    created_at: Instant
    decision: DecisionSnapshot | None = None


class PromiseCancel(Args):
    """promise.cancel@1: a running promise called off (an intention)."""

    promise_id: Id
    account_id: Id | None = None


class InstallmentIn(Wire):
    number: int = Field(ge=1, le=360)
    due_on: Day
    amount: MoneyIn


class PlanPropose(Args):
    """plan.propose@1: a payment plan, settlement or restructure (an intention, checked against the policy)."""

    id: Id
    account_id: Id
    down_payment: MoneyIn
    installments: list[InstallmentIn] = Field(min_length=1, max_length=360)
    created_at: Instant
    kind: Literal["plan", "settlement", "restructure"] = "plan"
    decision: DecisionSnapshot | None = None


class DecisionRecord(Args):
    """decision.record@1: an offer the policy refused as the agent entered it (a fact: the snapshot)."""

    id: Id
    account_id: Id
    decision: DecisionSnapshot


# name -> the model of its arguments: what a client may push.
ARGS: dict[str, type[Args]] = {
    "contact.log@1": ContactLog,
    "note.add@1": NoteAdd,
    "restriction.request@1": RestrictionRequest,
    "promise.create@1": PromiseCreate,
    "promise.cancel@1": PromiseCancel,
    "plan.propose@1": PlanPropose,
    "decision.record@1": DecisionRecord,
}


def typed_mutation_models() -> list[type[BaseModel]]:
    """For the published OpenAPI document only: one envelope per command name with its typed args
    (the server parses the envelope first and the args by name, so that a bad command gets its own
    rejected verdict instead of failing the whole batch)."""
    from pydantic import create_model

    models: list[type[BaseModel]] = []
    for name, args in ARGS.items():
        title = "Mutation" + args.__name__
        models.append(create_model(title, __base__=MutationIn, name=(Literal[name], ...), args=(args, ...)))  # type: ignore[arg-type]
    return models
