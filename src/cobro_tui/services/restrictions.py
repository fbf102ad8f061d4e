"""Opt-outs and cease requests the debtor makes on a call: effective on this workstation the moment
they are recorded (also offline), sent to the server as facts (restriction.request@1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from cobro_tui.clock import Clock
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import Channel, Restriction, RestrictionKind
from cobro_tui.errors import Refusal
from cobro_tui.policy import Policy
from cobro_tui.store.actions import record_restriction
from cobro_tui.store.device import Device
from cobro_tui.store.outbox import OutboxItem
from cobro_tui.store.queue import accounts_of_customers

# What an agent may record; holds (dispute, legal hold, deceased) come from the back office.
REQUESTS = (RestrictionKind.OPT_OUT, RestrictionKind.CEASE)


@dataclass(frozen=True, slots=True)
class RestrictionService:
    engine: Engine
    clock: Clock
    policy: Policy
    device: Device
    after_write: list[Callable[[], None]] = field(default_factory=list)
    rescore: Callable[[list[str]], object] | None = None

    def request(
        self,
        customer_id: str,
        kind: RestrictionKind,
        *,
        contact_point_id: str | None = None,
        channel: Channel | None = None,
        note: str = "",
    ) -> OutboxItem:
        """Record what the debtor asked: not to be contacted at a point or by a channel (opt-out),
        or not at all (cease). From this instant the contact rules block accordingly."""
        if kind not in REQUESTS:
            raise Refusal("restriction.not_by_agent", kind=kind.value)
        if kind is RestrictionKind.OPT_OUT and contact_point_id is None and channel is None:
            raise Refusal("restriction.opt_out_needs_scope")
        restriction = Restriction(
            id=new_id(),
            customer_id=customer_id,
            kind=kind,
            created_at=self.clock.now(),
            source="agent",
            contact_point_id=contact_point_id,
            channel=channel,
            note=note.strip(),
        )
        item = record_restriction(
            self.engine,
            restriction,
            actor=self.device.agent_id,
            device=self.device,
            at=restriction.created_at,
            config_hash=self.policy.config_hash,
        )
        if self.rescore is not None:
            self.rescore(accounts_of_customers(self.engine, [customer_id]))
        for listener in self.after_write:
            listener()
        return item
