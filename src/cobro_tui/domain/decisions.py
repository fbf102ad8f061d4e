"""Decision snapshots: what the agent saw when a promise, a plan or a refusal happened — the
balances, the bucket, what the offer policy said, the call-guide steps done and the contact-rule
decision — so a complaint (CONDUSEF, REDECO) can be answered with evidence. The snapshot travels
to the server with its command; the local audit log keeps its SHA-256."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from cobro_tui.domain.models import Account
from cobro_tui.domain.money import Money
from cobro_tui.domain.offers import Verdict
from cobro_tui.domain.promises import Problem


def _plain(value: Any) -> Any:
    if isinstance(value, Money):
        return {"centavos": value.centavos, "currency": value.currency}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _problems(problems: tuple[Problem, ...]) -> list[dict[str, Any]]:
    return [{"rule": p.key, "limit": _plain(p.values)} for p in problems]


def snapshot(
    *,
    kind: str,
    subject_id: str | None,
    account: Account,
    taken_at: datetime,
    offer: dict[str, Any],
    verdict: Verdict,
    script_steps: tuple[str, ...],
    contact_rule: dict[str, Any] | None,
    config_hash: str,
) -> dict[str, Any]:
    """The evidence of one decision, as plain JSON values (money in centavos, instants in UTC)."""
    return {
        "kind": kind,
        "subject_id": subject_id,
        "account_id": account.id,
        "taken_at": taken_at.isoformat(),
        "account": {
            "bucket": account.bucket,
            "dpd": account.dpd,
            **{
                part: getattr(account, part).centavos
                for part in ("principal", "interest", "fees", "vat", "balance", "past_due", "min_to_cure")
            },
            "currency": account.currency,
        },
        "offer": _plain(offer),
        "eligibility": {
            "allowed": verdict.allowed,
            "problems": _problems(verdict.problems),
            "approval": verdict.approval,
            "why": _problems(verdict.why),
        },
        "script_steps": list(script_steps),
        "contact_rule": contact_rule,
        "config_hash": config_hash,
    }


def digest(found: dict[str, Any]) -> str:
    """SHA-256 of the snapshot's canonical JSON (sorted keys, no spaces): what the audit log keeps."""
    return hashlib.sha256(
        json.dumps(found, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
