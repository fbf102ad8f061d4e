"""The decision snapshot of an offer, from the account as the screen showed it (services build it;
domain/decisions.py gives its shape and hash)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cobro_tui.domain import decisions
from cobro_tui.domain.models import Channel
from cobro_tui.domain.offers import Verdict
from cobro_tui.services.accounts import AccountView


def contact_rule_of(view: AccountView) -> dict[str, Any] | None:
    """The contact rules' decision for a call to the primary phone, as the badge showed it."""
    calls = [d for d in view.rules.values() if d.point is not None and d.channel is Channel.VOICE]
    calls.sort(key=lambda d: not (d.point is not None and d.point.is_primary))
    if not calls:
        return None
    found = calls[0]
    return {
        "point_id": found.point.id if found.point else None,
        "outcome": found.decision.outcome.value,
        "rules": sorted({c.rule.id for c in found.decision.reasons}),
        "at": found.decision.at.isoformat(),
    }


def of_offer(
    view: AccountView,
    *,
    kind: str,
    subject_id: str | None,
    taken_at: datetime,
    offer: dict[str, Any],
    verdict: Verdict,
    script_steps: tuple[str, ...],
    config_hash: str,
) -> dict[str, Any]:
    return decisions.snapshot(
        kind=kind,
        subject_id=subject_id,
        account=view.file.account,
        taken_at=taken_at,
        offer=offer,
        verdict=verdict,
        script_steps=script_steps,
        contact_rule=contact_rule_of(view),
        config_hash=config_hash,
    )
