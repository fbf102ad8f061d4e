"""The contact rules on the workstation: decisions for an account's contact points, the next
contact instant of every account in the queue, and the audit record of each decision that gates
an action. Works offline: the history and the opt-outs are the cache's, pending ones included."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from cobro_tui.clock import Clock
from cobro_tui.domain import masking
from cobro_tui.domain.models import (
    POINT_KINDS,
    Channel,
    ContactKind,
    ContactPoint,
    Reference,
)
from cobro_tui.domain.records import instant_text
from cobro_tui.i18n import t
from cobro_tui.policy import Policy
from cobro_tui.rules.engine import (
    Check,
    Decision,
    Outcome,
    Party,
    Past,
    Point,
    Question,
    Result,
    decide,
)
from cobro_tui.rules.facts import (
    CONSENT_FIELDS,
    CodeCounts,
    past_from_row,
    point_of,
    reference_party,
    reference_point,
    suppressions_of,
)
from cobro_tui.store.actions import record_rule_decision
from cobro_tui.store.device import Device
from cobro_tui.store.rules import (
    POINT_COLUMNS,
    RuleFacts,
    agent_accounts,
    find_account,
    point_of_row,
    read_rule_facts,
    store_contact_times,
)


@dataclass(frozen=True, slots=True)
class PointDecision:
    """The decision for one contact point (or a person named on the account) on one channel."""

    channel: Channel
    decision: Decision
    point: ContactPoint | None = None
    reference: Reference | None = None

    @property
    def point_id(self) -> str | None:
        return self.point.id if self.point else f"ref:{self.reference.id}" if self.reference else None


def check_text(check: Check) -> str:
    """One check as the agent reads it: the rule id and what it found, in the interface language."""
    values = dict(check.values)
    for name, prefix in (
        ("channel", "channel"),
        ("kind", "rules.kind"),
        ("role", "rules.role"),
        ("provenance", "rules.provenance"),
    ):
        if name in values:
            key = f"{prefix}.{values[name]}"
            worded = t(key)
            values[name] = worded if worded != key else values[name]
    if "period" in values:
        kind, _, days = values["period"].partition(":")
        values["period"] = t(f"rules.period.{kind}", days=days)
    return f"{check.rule.id}: {t(check.key, **values)}"


def reasons_text(decision: Decision) -> str:
    """Why a contact is blocked or warned, and when it would be allowed, in one line."""
    parts = [check_text(c) for c in decision.reasons]
    if decision.outcome is Outcome.BLOCKED:
        parts.append(when_allowed(decision))
    return "; ".join(parts)


def when_allowed(decision: Decision) -> str:
    """When a blocked contact would be allowed, on the debtor's clock (or that only facts can change it)."""
    if decision.next_allowed is None:
        return t("rules.never")
    zone = decision.zones[0] if decision.zones else "UTC"
    local = decision.next_allowed.astimezone(ZoneInfo(zone))
    return t("rules.next_allowed", at=local.strftime("%Y-%m-%d %H:%M"), zone=zone)


def masked(point: ContactPoint) -> str:
    """A contact point's value as anyone may see it (the last digits of a phone, part of an e-mail)."""
    if point.kind is ContactKind.EMAIL:
        return masking.email(point.value)
    if point.kind is ContactKind.ADDRESS:
        return masking.address(point.value)
    return masking.phone(point.value)


# Accounts read and decided at a time by the queue's pass.
SLICE = 2000
# The channel a contact point is used with first.
NATURAL_CHANNEL = {
    ContactKind.MOBILE: Channel.VOICE,
    ContactKind.HOME: Channel.VOICE,
    ContactKind.WORK: Channel.VOICE,
    ContactKind.EMAIL: Channel.EMAIL,
    ContactKind.WHATSAPP: Channel.WHATSAPP,
    ContactKind.ADDRESS: Channel.VISIT,
}


def audit_data(decision: Decision, policy: Policy, channel: str, point_id: str | None) -> dict[str, Any]:
    """What the audit log keeps of a decision: ids, rule ids and results, zones, versions; no personal data."""
    return {
        "outcome": decision.outcome.value,
        "channel": channel,
        "point_id": point_id,
        "at": decision.at.isoformat(),
        "zones": list(decision.zones),
        "rules": [[c.rule.id, c.result.value, c.key] for c in decision.checks],
        "next_allowed": decision.next_allowed.isoformat() if decision.next_allowed else None,
        "ruleset": f"{policy.rules.name}@{policy.rules.version}",
        "config_hash": policy.config_hash,
        "tz_version": policy.tz_version,
        "calendar": policy.calendar_version,
    }


@dataclass(frozen=True, slots=True)
class RulesService:
    engine: Engine
    clock: Clock
    policy: Policy
    device: Device

    def _facts(
        self,
        account_ids: Sequence[str] | None,
        agent: str | None = None,
        references: bool = False,
        at: datetime | None = None,
    ) -> RuleFacts:
        since = (at or self.clock.now()) - self.policy.rules.horizon()
        return read_rule_facts(self.engine, since, agent=agent, account_ids=account_ids, with_references=references)

    def _question(
        self,
        facts: RuleFacts,
        account_id: str,
        customer_id: str,
        point: Point,
        party: Party,
        channel: str,
        at: datetime,
        callback_at: datetime | None,
        counts: CodeCounts,
    ) -> Question:
        history = tuple(past_from_row(*row, counts) for row in facts.history.get(customer_id, ()))
        if callback_at is None and facts.callbacks.get(customer_id):
            # The callback the debtor asked for that lies nearest this instant (the rules judge how near is near).
            callback_at = min(facts.callbacks[customer_id], key=lambda asked: abs(asked - at))
        return Question(
            at=at,
            channel=channel,
            point=point,
            account_id=account_id,
            party=party,
            history=history,
            suppressions=suppressions_of(facts.restrictions.get(customer_id, ())),
            callback_at=callback_at,
        )

    def for_account(
        self,
        account_id: str,
        channel: Channel = Channel.VOICE,
        at: datetime | None = None,
        callback_at: datetime | None = None,
        explain: bool = True,
    ) -> list[PointDecision]:
        """The decision for every contact point of the account's customer that reaches `channel`,
        primary first, and (for calls) for each person named on the account."""
        return self._decisions(
            account_id,
            lambda point: channel if point.kind in POINT_KINDS[channel] else None,
            channel is Channel.VOICE,
            at or self.clock.now(),
            callback_at,
            explain,
        )

    def by_point(self, account_id: str, at: datetime | None = None) -> list[PointDecision]:
        """Each contact point on its own channel (a phone called, an e-mail written, an address
        visited) and each person named on the account called: what the account screen shows."""
        return self._decisions(
            account_id, lambda point: NATURAL_CHANNEL[point.kind], True, at or self.clock.now(), None, explain=False
        )

    def _decisions(
        self,
        account_id: str,
        channel_of: Callable[[ContactPoint], Channel | None],
        references: bool,
        at: datetime,
        callback_at: datetime | None,
        explain: bool,
    ) -> list[PointDecision]:
        facts = self._facts([account_id], references=references, at=at)
        if not facts.accounts:
            return []
        _, customer_id = facts.accounts[0]
        rules, zones, counts = self.policy.rules, self.policy.zones, CodeCounts.of(self.policy.result_codes)
        debtor = Party("debtor", facts.birth_dates.get(customer_id))
        points = sorted(
            (point_of_row(r) for r in facts.points.get(customer_id, ())),
            key=lambda p: (not p.is_primary, p.kind.value, p.id),
        )
        found = []
        for point in points:
            channel = channel_of(point)
            if channel is None:
                continue
            question = self._question(
                facts,
                account_id,
                customer_id,
                point_of(point, zones, rules.country),
                debtor,
                channel.value,
                at,
                callback_at,
                counts,
            )
            found.append(PointDecision(channel, decide(rules, question, explain), point=point))
        phones = [d.decision.zones for d in found if d.point is not None and d.point.kind in POINT_KINDS[Channel.VOICE]]
        debtor_zones = phones[0] if phones else (zones.fallback,)
        for reference in facts.references.get(account_id, ()):
            question = self._question(
                facts,
                account_id,
                customer_id,
                reference_point(reference, debtor_zones),
                reference_party(reference),
                Channel.VOICE.value,
                at,
                callback_at,
                counts,
            )
            found.append(PointDecision(Channel.VOICE, decide(rules, question, explain), reference=reference))
        return found

    def decide_point(
        self,
        account_id: str,
        point_id: str | None,
        channel: Channel,
        at: datetime | None = None,
        callback_at: datetime | None = None,
    ) -> PointDecision | None:
        """The decision for one point (None: the customer's first point for the channel)."""
        decisions = self.for_account(account_id, channel, at, callback_at)
        if point_id is None:
            return next((d for d in decisions if d.point is not None), None)
        return next((d for d in decisions if d.point_id == point_id), None)

    def contact_times(
        self, account_ids: Sequence[str] | None, agent: str, only_changed: bool = False
    ) -> list[tuple[datetime | None, datetime | None, str]]:
        """For each account (all the agent's when None): the next instant a call to the debtor is
        allowed, and the end of the window it falls in (None: no phone may be called until the facts
        change). The primary phone is asked first; the others only when it may not be called now.
        Read and decided in slices, so a queue of any size keeps to a few megabytes."""
        now = self.clock.now()
        ids = list(account_ids) if account_ids is not None else agent_accounts(self.engine, agent)
        since = now - self.policy.rules.horizon()
        rules, counts = self.policy.rules, CodeCounts.of(self.policy.result_codes)
        places: dict[tuple[str, str, str], tuple[str, ...]] = {}
        times, stored = [], {}
        for start in range(0, len(ids), SLICE):
            facts = read_rule_facts(self.engine, since, account_ids=ids[start : start + SLICE], phones_only=True)
            stored.update(facts.stored)
            histories: dict[str, tuple[Past, ...]] = {}
            for account_id, customer_id in facts.accounts:
                history = histories.get(customer_id)
                if history is None:
                    history = histories[customer_id] = tuple(
                        past_from_row(*row, counts) for row in facts.history.get(customer_id, ())
                    )
                suppressions = suppressions_of(facts.restrictions.get(customer_id, ()))
                party = Party("debtor", facts.birth_dates.get(customer_id))
                best: tuple[datetime | None, datetime | None] = (None, None)
                for row in _phones_first(facts.points.get(customer_id, ())):
                    question = Question(
                        at=now,
                        channel="voice",
                        point=self._point(row, places),
                        account_id=account_id,
                        party=party,
                        history=history,
                        suppressions=suppressions,
                    )
                    decision = decide(rules, question, explain=False)
                    if decision.outcome is not Outcome.BLOCKED:
                        best = (decision.next_allowed, decision.window_closes)
                        break
                    best = _earlier(best, decision)
                times.append((best[0], best[1], account_id))
        if only_changed:
            return [row for row in times if _changed(row, stored.get(row[2], (None, None)), now)]
        return times

    def _point(self, row: Sequence[Any], places: dict[tuple[str, str, str], tuple[str, ...]]) -> Point:
        """A contact point row as the rules see it; the zones of each place are worked out once."""
        c = POINT_COLUMNS
        place = (row[c["state_code"]], row[c["municipality_code"]], row[c["postal_code"]])
        zones = places.get(place)
        if zones is None:
            zones = places[place] = self.policy.zones.candidates(self.policy.rules.country, *place)
        consent = frozenset(channel for channel, name in CONSENT_FIELDS if row[c[name]])
        return Point(
            row[c["id"]], zones, row[c["provenance"]], consent, bool(row[c["opted_out"]]), bool(row[c["wrong_number"]])
        )

    def find(self, text: str) -> str | None:
        """An account of this cache by id or full number."""
        return find_account(self.engine, text.strip())

    def explain(self, account_id: str, channel: Channel = Channel.VOICE, at: datetime | None = None) -> list[str]:
        """The reasoning for every contact point of the account, rule by rule, with each rule's
        legal source (personal data masked): what `cobro-tui rules explain` prints."""
        at = at or self.clock.now()
        rules = self.policy.rules
        lines = [
            t(
                "rules.explain_heading",
                ruleset=f"{rules.name}@{rules.version}",
                channel=t(f"channel.{channel.value}"),
                at=at.isoformat(timespec="minutes"),
                tz=self.policy.tz_version,
            ),
            f"config {self.policy.config_hash[:16]} · {self.policy.calendar_version}",
        ]
        marks = {Result.PASS: "✓", Result.WARN: "!", Result.BLOCK: "✗", Result.NOT_APPLICABLE: "·"}
        for found in self.for_account(account_id, channel, at):
            decision = found.decision
            label = (
                f"{t(f'contact_kind.{found.point.kind.value}')} {masked(found.point)}"
                if found.point
                else f"{t(f'role.{found.reference.role.value}')} {masking.phone(found.reference.phone)}"
                if found.reference
                else "?"
            )
            lines.append("")
            lines.append(t("rules.explain_point", point=label, zones=", ".join(decision.zones)))
            for check in decision.checks:
                lines.append(f"  {marks[check.result]} {check_text(check)}  [{check.rule.source}]")
            outcome = t(f"rules.outcome_{decision.outcome.value}")
            if decision.outcome is Outcome.BLOCKED:
                outcome += " · " + when_allowed(decision)
            lines.append(t("rules.explain_outcome", outcome=outcome))
        if len(lines) == 2:
            lines.append(t("rules.no_points", channel=t(f"channel.{channel.value}")))
        return lines

    def store_times(self, times: Sequence[tuple[datetime | None, datetime | None, str]]) -> None:
        store_contact_times(self.engine, times)

    def record(self, decision: PointDecision, account_id: str, override_reason: str | None = None) -> None:
        """Write a decision that gated an action (a blocked attempt, an override) to the audit log."""
        data = {
            **audit_data(decision.decision, self.policy, decision.channel.value, decision.point_id),
            "account_id": account_id,
        }
        kind = "rules.override" if override_reason else f"rules.{decision.decision.outcome.value}"
        if override_reason:
            # The reason itself travels with the contact; the log keeps its hash (no personal data here).
            data["override_reason_sha256"] = hashlib.sha256(override_reason.encode()).hexdigest()
        record_rule_decision(
            self.engine, kind=kind, data=data, actor=self.device.agent_id, device=self.device, at=self.clock.now()
        )


def _changed(
    new: tuple[datetime | None, datetime | None, str], stored: tuple[str | None, str | None], now: datetime
) -> bool:
    """Whether an account's contact times must be written: callable now until the same instant as
    stored, or blocked until the same instant, is no change (a callable account's "from" is any
    instant up to now)."""
    start, until, _ = new
    old_start, old_until = stored
    if until is not None and start is not None and start <= now:
        return not (old_start is not None and old_start <= instant_text(now) and old_until == instant_text(until))
    return (old_start, old_until) != (instant_text(start) if start else None, instant_text(until) if until else None)


def _phones_first(rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """The phone rows of a customer, the primary first."""
    primary = POINT_COLUMNS["is_primary"]
    return sorted(rows, key=lambda r: not r[primary]) if len(rows) > 1 else list(rows)


def _earlier(
    best: tuple[datetime | None, datetime | None], decision: Decision
) -> tuple[datetime | None, datetime | None]:
    start = decision.next_allowed
    if start is None:
        return best
    until = decision.window_closes if decision.outcome is not Outcome.BLOCKED else None
    if best[0] is None or start < best[0] or (start == best[0] and until and (best[1] is None or until > best[1])):
        return start, until
    return best
