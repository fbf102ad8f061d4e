"""assignment.toml as a pydantic model (as policy_files.py does for the other policy files): the
ordered rules that give the new accounts of a portfolio import to a team, and how each team's share
is spread over its agents. Checked by `cobro-tui config check` with the rest of the policy."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from cobro_tui.config_errors import FileModel, NonBlank, checked, fault, faults, once, one_of
from cobro_tui.domain.assignment import BY, AssignmentRule, AssignmentRules, rule_faults
from cobro_tui.domain.models import Product
from cobro_tui.policy_files import BucketCode, PolicyFile

TEAM_LENGTH = 32  # the server's users.team column


def _listed(value: Any) -> Any:
    """One value or a list of them: "30-59" reads as ["30-59"]; anything else is neither."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise fault("text_or_list")
    return value


TeamName = Annotated[NonBlank, checked(lambda text: len(text) <= TEAM_LENGTH, "team_name", length=TEAM_LENGTH)]
ProductCode = Annotated[str, one_of(p.value for p in Product)]
Buckets = Annotated[list[BucketCode], BeforeValidator(_listed), Field(min_length=1)]
Segments = Annotated[list[NonBlank], BeforeValidator(_listed), Field(min_length=1)]
Products = Annotated[list[ProductCode], BeforeValidator(_listed), Field(min_length=1)]


class AssignmentRuleRow(FileModel):
    """One [[rule]]: which new accounts it takes (a criterion left out: any), and the team they go to."""

    name: Annotated[NonBlank, once("assignment_rule")] | None = None
    """What reports call the rule; each name once. Left out: rule[N], its place in the file."""
    bucket: Buckets | None = None
    """The buckets of buckets.toml it takes ("30-59" or ["30-59", "60-89"]); left out: every bucket."""
    segment: Segments | None = None
    """The risk segments it takes ("A" or ["A", "B"]), as the core sends them; left out: every segment."""
    product: Products | None = None
    """The products it takes (tarjeta_credito, prestamo_personal, nomina, automotriz); left out: every product."""
    team: TeamName
    """The team (users' team on the server) whose enabled agents receive the accounts."""
    by: Annotated[str, one_of(BY)] = "count"
    """count: to the agent holding the fewest accounts first; balance: the lowest total balance first."""

    def rule(self, index: int) -> AssignmentRule:
        def values(found: list[str] | None) -> frozenset[str] | None:
            return frozenset(found) if found is not None else None

        return AssignmentRule(
            self.name or f"rule[{index}]",
            self.team,
            self.by,
            values(self.bucket),
            values(self.segment),
            values(self.product),
        )


class AssignmentFile(PolicyFile):
    """assignment.toml (may be left out: then no new account is assigned by rule): the rules in order;
    the first that matches a new account decides its team."""

    rule: list[AssignmentRuleRow] = Field(min_length=1)
    """The rules, most particular first; the last may leave out bucket, segment and product: the fallback."""

    @field_validator("rule")
    @classmethod
    def _each_rule_reachable(cls, rows: list[AssignmentRuleRow]) -> list[AssignmentRuleRow]:
        found = rule_faults([row.rule(index) for index, row in enumerate(rows)])
        if found:
            raise faults(
                (
                    (f.index,),
                    fault(f"assignment_{f.kind}", earlier=_called(rows, f.earlier), criteria=_criteria(rows[f.index])),
                    rows[f.index].name or "",
                )
                for f in found
            )
        return rows

    def assignment_rules(self) -> AssignmentRules:
        return AssignmentRules(tuple(row.rule(index) for index, row in enumerate(self.rule)), self.version)


def _called(rows: list[AssignmentRuleRow], index: int) -> str:
    """A rule as a message names it: its place, and its name when it has one."""
    name = rows[index].name
    return f"rule[{index}] ({json.dumps(name, ensure_ascii=False)})" if name else f"rule[{index}]"


def _criteria(row: AssignmentRuleRow) -> str:
    """A rule's criteria as the file writes them, for the message; none: every account."""
    parts = [
        f"{key} = {json.dumps(values, ensure_ascii=False)}"
        for key in ("bucket", "segment", "product")
        if (values := getattr(row, key))
    ]
    if parts:
        return ", ".join(parts)
    from cobro_tui.i18n import t  # the catalogs load on first use, not at import

    return t("assignment.any_account")
