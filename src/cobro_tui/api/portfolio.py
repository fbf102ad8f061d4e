"""The bodies of PUT /v1/portfolio (docs/import.md): rows of the import layout in, a verdict per row out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cobro_tui.api.models import Id

RowKind = Literal["customers", "accounts", "contacts", "references"]
RowStatus = Literal["new", "changed", "unchanged", "closed", "refused"]


class PortfolioRow(BaseModel):
    """One row of a file of the layout: its kind and its cells by column (text, an integer, a flag or null)."""

    model_config = ConfigDict(extra="forbid")

    kind: RowKind
    data: dict[str, Any]


class PortfolioBatch(BaseModel):
    """A batch of rows of one import run (at most 5,000; a run is every request with its run id)."""

    model_config = ConfigDict(extra="forbid")

    layout: Literal[1] = Field(description="the layout version the rows follow (docs/import.md)")
    run_id: Id = Field(description="the same on every request of one import (a UUID the sender makes)")
    full: bool = Field(False, description="the run's accounts are the whole portfolio")
    close_missing: bool = Field(False, description="with full: close the accounts no request of the run named")
    last: bool = Field(True, description="the run's last request: the run ends (and, with close_missing, closes)")
    rows: list[PortfolioRow]


class RowProblem(BaseModel):
    """What is wrong with a row (a refusal) or worth knowing (a warning): the column, a code of the
    catalog, its values and the words in English."""

    column: str
    code: str
    params: dict[str, Any] = Field(default_factory=dict)
    message: str


class RowVerdict(BaseModel):
    status: RowStatus
    problems: list[RowProblem] = Field(default_factory=list)
    warnings: list[RowProblem] = Field(default_factory=list)


class PortfolioResult(BaseModel):
    """A verdict per row, in the order sent, and the counts of this request."""

    run_id: str
    layout: int
    counts: dict[str, int]
    closed_missing: int = Field(0, description="accounts closed as missing from the full run (the last request)")
    rows: list[RowVerdict]
