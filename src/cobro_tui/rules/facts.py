"""The collection domain as the rule engine sees it: contact points, people, history, holds.

Shared by the workstation (from its cache) and the reference server (from its documents), so
both judge a contact from the same facts in the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cobro_tui.domain.models import (
    ContactAttempt,
    ContactPoint,
    Direction,
    Reference,
    Restriction,
)
from cobro_tui.domain.result_codes import ResultCodeCatalog
from cobro_tui.rules.engine import Party, Past, Point, Suppression
from cobro_tui.rules.zones import ZoneTable

CONSENT_FIELDS = (("sms", "consent_sms"), ("whatsapp", "consent_whatsapp"), ("email", "consent_email"))


@dataclass(frozen=True, slots=True)
class CodeCounts:
    """How each result code counts: an attempt, a conversation (right-party contact)."""

    attempt: frozenset[str]
    conversation: frozenset[str]

    @classmethod
    def of(cls, catalog: ResultCodeCatalog) -> CodeCounts:
        return cls(
            frozenset(c.code for c in catalog.codes if c.attempt),
            frozenset(c.code for c in catalog.codes if c.right_party_contact),
        )


def point_of(point: ContactPoint, zones: ZoneTable, country: str) -> Point:
    consent = frozenset(channel for channel, name in CONSENT_FIELDS if getattr(point, name))
    return Point(
        point.id,
        zones.candidates(country, point.state_code, point.municipality_code, point.postal_code),
        point.provenance.value,
        consent,
        point.opted_out,
        point.wrong_number,
    )


def reference_point(reference: Reference, debtor_zones: tuple[str, ...]) -> Point:
    """A person named on the account, reached at their phone; where they live is not known, so the
    debtor's zones stand in (their intersection with every zone would block more than it protects)."""
    return Point(f"ref:{reference.id}", debtor_zones, "creditor", frozenset(), False, False)


def reference_party(reference: Reference) -> Party:
    return Party(reference.role.value, None)


def past_of(attempt: ContactAttempt, counts: CodeCounts) -> Past:
    return Past(
        attempt.started_at,
        attempt.channel.value,
        attempt.account_id,
        "",
        attempt.direction is Direction.OUTBOUND,
        attempt.result_code in counts.attempt,
        attempt.result_code in counts.conversation,
    )


def past_from_row(
    started_at: str, channel: str, account_id: str, direction: str, code: str, counts: CodeCounts
) -> Past:
    """The same from a cache row (the queue reads thousands at once)."""
    return Past(
        datetime.fromisoformat(started_at),
        channel,
        account_id,
        "",
        direction == "outbound",
        code in counts.attempt,
        code in counts.conversation,
    )


def suppressions_of(restrictions: Iterable[Restriction]) -> tuple[Suppression, ...]:
    return tuple(
        Suppression(r.kind.value, r.created_at, r.channel.value if r.channel else None, r.contact_point_id)
        for r in restrictions
    )
