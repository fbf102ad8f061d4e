"""STAND-IN (replace at merge): the "assignment" helper writes the real module in /work/wt-assignment
(config/assignment.toml rules by bucket, segment and product to teams, spread by count or balance).
This keeps only its interface so that the portfolio import can be built and tested: every new
account goes to the enabled agent holding the fewest accounts now (ties: the first username)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, func, select

from cobro_tui.server.schema import account_facts, users


@dataclass(frozen=True)
class NewAccount:
    account_id: str
    bucket: str
    segment: str
    product: str
    balance_centavos: int


@dataclass(frozen=True)
class AssignmentRules:
    folder: Path


def load_assignment(folder: Path) -> AssignmentRules:
    return AssignmentRules(folder)


def assign(conn: Connection, rules: AssignmentRules, accounts: Sequence[NewAccount]) -> dict[str, str]:
    held: dict[str, int] = dict(
        conn.execute(
            select(users.c.username, func.count(account_facts.c.id))
            .select_from(users.outerjoin(account_facts, account_facts.c.agent == users.c.username))
            .where(users.c.role == "agent", users.c.disabled_at.is_(None))
            .group_by(users.c.username)
        ).all()
    )
    given: dict[str, str] = {}
    if not held:
        return given
    for account in accounts:
        if account.account_id in given:
            continue
        agent = min(sorted(held), key=lambda name: held[name])
        held[agent] += 1
        given[account.account_id] = agent
    return given
