"""The agents new accounts of a portfolio import go to: the first rule of assignment.toml that takes
an account names a team, and the team's share is spread over its enabled agents by what each holds
now. Decided from the server's own state only: the users table (role, team, disabled) and the
accounts each agent holds (account_facts, kept with every account document; see server/facts.py).

`assign` decides and writes nothing: the import stores the accounts with their agents (in the same
transaction, so the next batch sees the loads this one added)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, and_, func, select

from cobro_tui.domain.assignment import AssignmentRules, Load, spread
from cobro_tui.errors import PolicyError
from cobro_tui.server.schema import account_facts, users

__all__ = [
    "AssignmentPlan",
    "AssignmentRules",
    "NewAccount",
    "Unassigned",
    "assign",
    "explain_unassigned",
    "load_assignment",
    "plan",
    "team_loads",
]

AGENT = "agent"  # the only role that receives accounts


@dataclass(frozen=True)
class NewAccount:
    """An account the import is about to store, with what the rules match on."""

    account_id: str
    bucket: str
    segment: str
    product: str
    balance_centavos: int


@dataclass(frozen=True, slots=True)
class Unassigned:
    """Why an account was left without an agent: no rule takes it (`no_rule`), or its rule's team
    has no enabled agent (`no_agents`)."""

    account_id: str
    reason: str  # no_rule | no_agents
    rule: str | None = None
    team: str | None = None
    bucket: str = ""
    segment: str = ""
    product: str = ""

    def text(self) -> str:
        """The reason in words, in the interface language (for the import's report)."""
        from cobro_tui.i18n import t

        return t(
            f"assignment.{self.reason}",
            account=self.account_id,
            rule=self.rule or "",
            team=self.team or "",
            bucket=self.bucket,
            segment=self.segment,
            product=self.product,
        )


@dataclass(frozen=True, slots=True)
class AssignmentPlan:
    """Who each new account goes to, and why the others go to nobody."""

    agents: dict[str, str] = field(default_factory=dict)  # account id -> username
    unassigned: dict[str, Unassigned] = field(default_factory=dict)  # account id -> why not
    rules: dict[str, str] = field(default_factory=dict)  # account id -> the name of the rule that took it


def load_assignment(folder: Path) -> AssignmentRules:
    """The rules of <folder>/assignment.toml, checked as `cobro-tui config check` checks them (bucket
    names against the folder's buckets.toml), or PolicyError naming file and key of every problem.
    A folder without assignment.toml has no rules: every new account is left unassigned."""
    from cobro_tui.policy import read_assignment

    rules, problems = read_assignment(folder)
    if rules is None:
        raise PolicyError(problems)
    return rules


def team_loads(
    conn: Connection, teams: Collection[str], balance_of: Collection[str] | None = None
) -> dict[str, dict[str, Load]]:
    """Team -> each enabled agent of it -> what they hold now (accounts and total balance). Other roles
    and disabled users are not there; a team without an enabled agent is absent. The balances are
    summed for the teams in `balance_of` only (all by default; the others read 0): the counts come
    from an index alone, the balances from the table."""
    if not teams:
        return {}
    enabled = and_(users.c.role == AGENT, users.c.disabled_at.is_(None), users.c.team.in_(sorted(teams)))
    joined = users.outerjoin(account_facts, account_facts.c.agent == users.c.username)
    counts = (
        select(users.c.team, users.c.username, func.count(account_facts.c.agent))
        .select_from(joined)
        .where(enabled)
        .group_by(users.c.team, users.c.username)
    )
    found: dict[str, dict[str, Load]] = defaultdict(dict)
    for team, username, count in conn.execute(counts):
        found[team][username] = Load(int(count))
    summed = sorted(teams if balance_of is None else set(balance_of) & set(found))
    if summed:
        agents_of = select(users.c.username).where(enabled, users.c.team.in_(summed))
        balances = (
            select(account_facts.c.agent, func.sum(account_facts.c.balance))
            .where(account_facts.c.agent.in_(agents_of))
            .group_by(account_facts.c.agent)
        )
        team_of = {username: team for team in summed for username in found.get(team, {})}
        for username, balance in conn.execute(balances):
            team = team_of[username]
            found[team][username] = Load(found[team][username].count, int(balance))
    return dict(found)


def plan(conn: Connection, rules: AssignmentRules, accounts: Sequence[NewAccount]) -> AssignmentPlan:
    """Every new account's agent, or why it has none (see AssignmentPlan). An account id given twice
    counts once (its first row)."""
    taken: dict[int, list[tuple[str, int]]] = defaultdict(list)  # rule's place -> (id, balance)
    unassigned: dict[str, Unassigned] = {}
    rule_of: dict[str, str] = {}
    first: dict[str, NewAccount] = {}
    for account in accounts:
        if account.account_id in first:
            continue
        first[account.account_id] = account
        index = rules.index_for(account.bucket, account.segment, account.product)
        if index is None:
            unassigned[account.account_id] = Unassigned(
                account.account_id, "no_rule", bucket=account.bucket, segment=account.segment, product=account.product
            )
            continue
        taken[index].append((account.account_id, account.balance_centavos))
        rule_of[account.account_id] = rules.rules[index].name
    used = [rules.rules[index] for index in taken]
    loads = team_loads(
        conn, frozenset(rule.team for rule in used), frozenset(rule.team for rule in used if rule.by == "balance")
    )
    agents: dict[str, str] = {}
    # Rules in file order; rules of one team share its agents' loads, the accounts given counted in.
    for index in sorted(taken):
        rule = rules.rules[index]
        team = loads.get(rule.team)
        if not team:
            for account_id, _ in taken[index]:
                account = first[account_id]
                unassigned[account_id] = Unassigned(
                    account_id, "no_agents", rule.name, rule.team, account.bucket, account.segment, account.product
                )
            continue
        given = spread(taken[index], team, rule.by)
        for account_id, username in given.items():
            held = team[username]
            team[username] = Load(held.count + 1, held.balance + first[account_id].balance_centavos)
        agents.update(given)
    return AssignmentPlan(agents, unassigned, {k: v for k, v in rule_of.items() if k in agents})


def assign(conn: Connection, rules: AssignmentRules, accounts: Sequence[NewAccount]) -> dict[str, str]:
    """Account id -> the username of the agent it goes to; accounts no rule matches, or whose team has
    no enabled agent, are absent (left unassigned; `explain_unassigned` says why)."""
    return plan(conn, rules, accounts).agents


def explain_unassigned(
    conn: Connection, rules: AssignmentRules, accounts: Sequence[NewAccount]
) -> dict[str, Unassigned]:
    """Account id -> why `assign` leaves it without an agent (Unassigned.text() words it)."""
    return plan(conn, rules, accounts).unassigned
