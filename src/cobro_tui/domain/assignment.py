"""Who gets a new account: the rules of assignment.toml (bucket, segment and product to a team), and
the spread of a team's new accounts over its agents by count or by balance. Plain values in, usernames
out: the server reads the teams and their loads (server/assignment_rules.py)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BY = ("count", "balance")
"""How a team's new accounts are spread: fewest accounts held first, or lowest total balance first."""


@dataclass(frozen=True, slots=True)
class AssignmentRule:
    """One [[rule]]: accounts of these buckets, segments and products go to `team`, spread `by`.
    A criterion left out (None) matches any value."""

    name: str
    team: str
    by: str = "count"
    buckets: frozenset[str] | None = None
    segments: frozenset[str] | None = None
    products: frozenset[str] | None = None

    def matches(self, bucket: str, segment: str, product: str) -> bool:
        return (
            (self.buckets is None or bucket in self.buckets)
            and (self.segments is None or segment in self.segments)
            and (self.products is None or product in self.products)
        )

    def covers(self, other: AssignmentRule) -> bool:
        """Whether every account `other` matches is matched by this rule too (then, placed after this
        one, `other` is never used)."""
        return all(
            mine is None or (theirs is not None and theirs <= mine)
            for mine, theirs in (
                (self.buckets, other.buckets),
                (self.segments, other.segments),
                (self.products, other.products),
            )
        )

    def same_accounts(self, other: AssignmentRule) -> bool:
        return (self.buckets, self.segments, self.products) == (other.buckets, other.segments, other.products)


@dataclass(frozen=True, slots=True)
class AssignmentRules:
    """The rules in their order: the first that matches an account decides its team."""

    rules: tuple[AssignmentRule, ...] = ()
    version: str = ""

    def rule_for(self, bucket: str, segment: str, product: str) -> AssignmentRule | None:
        index = self.index_for(bucket, segment, product)
        return None if index is None else self.rules[index]

    def index_for(self, bucket: str, segment: str, product: str) -> int | None:
        """The place of the first rule that takes such an account; None: no rule does."""
        for index, rule in enumerate(self.rules):
            if rule.matches(bucket, segment, product):
                return index
        return None

    def teams(self) -> frozenset[str]:
        return frozenset(rule.team for rule in self.rules)


@dataclass(frozen=True, slots=True)
class RuleFault:
    """A rule that can never be used: the same accounts as an earlier rule (`duplicate`), or fewer
    (`shadowed`: the earlier rule takes them all)."""

    index: int
    kind: str  # duplicate | shadowed
    earlier: int


def rule_faults(rules: Sequence[AssignmentRule]) -> list[RuleFault]:
    """Each rule that an earlier one makes useless, with the first such earlier rule."""
    found = []
    for index, rule in enumerate(rules):
        for before in range(index):
            if rules[before].covers(rule):
                kind = "duplicate" if rules[before].same_accounts(rule) else "shadowed"
                found.append(RuleFault(index, kind, before))
                break
    return found


@dataclass(frozen=True, slots=True)
class Load:
    """What an agent holds now: open accounts and their total balance (centavos)."""

    count: int = 0
    balance: int = 0


def spread(accounts: Iterable[tuple[str, int]], loads: Mapping[str, Load], by: str) -> dict[str, str]:
    """New accounts (id, balance in centavos) over the agents of `loads`: each to the agent with the
    fewest accounts (`count`) or the lowest total balance (`balance`) at that moment, counting the ones
    just given, ties to the first username. Accounts are dealt largest balance first (ties by id): the
    result does not depend on the order they came in, and balances even out as well as they can.
    No agents: nothing assigned ({})."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")
    if not loads:
        return {}
    by_count = by == "count"
    heap = [(load.count if by_count else load.balance, username) for username, load in loads.items()]
    heapq.heapify(heap)
    result: dict[str, str] = {}
    for account_id, balance in sorted(accounts, key=lambda item: (-item[1], item[0])):
        held, username = heap[0]
        result[account_id] = username
        heapq.heapreplace(heap, (held + (1 if by_count else balance), username))
    return result
