"""PUT /v1/portfolio: the institution's portfolio in, in batches of rows of the import layout
(docs/import.md), with an integration credential of the portfolio scope.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from cobro_tui.api.portfolio import PortfolioBatch, PortfolioResult, RowProblem
from cobro_tui.domain.buckets import BucketSet
from cobro_tui.domain.portfolio_file import Problem
from cobro_tui.i18n import catalog
from cobro_tui.server import auth, portfolio
from cobro_tui.server.assignment_rules import AssignmentRules, load_assignment
from cobro_tui.server.db import write_tx
from cobro_tui.server.deps import ApiProblem, GateDep, integration, problems

router = APIRouter()
portfolio_feed = integration("portfolio")


@cache
def _buckets() -> BucketSet:
    from cobro_tui.policy import load_policy

    return load_policy().buckets


@cache
def _rules() -> AssignmentRules:
    from cobro_tui.policy import default_policy_dir

    try:
        return load_assignment(default_policy_dir())
    except Exception as error:  # the policy folder's own checks word it (cobro-tui config check)
        raise ApiProblem(
            503, "ASSIGNMENT_RULES_INVALID", f"the server's assignment rules cannot be read: {str(error)[:300]}"
        ) from None


def worded(problem: Problem) -> RowProblem:
    """A problem with its English words (the CLI words it again in the reader's language)."""
    text = catalog("en").get(f"import.problem.{problem.code}", problem.code)
    params: dict[str, Any] = {k: v for k, v in problem.params.items() if isinstance(v, str | int)}
    try:
        message = text.format(**params)
    except (KeyError, IndexError, ValueError):
        message = text
    return RowProblem(column=problem.column, code=problem.code, params=params, message=message)


@router.put("/v1/portfolio", response_model=PortfolioResult, responses=problems(409, 413, 503))
def put_portfolio(
    body: PortfolioBatch, user: Annotated[auth.User, Depends(portfolio_feed)], gate: GateDep
) -> PortfolioResult:
    """Rows of the portfolio (customers, accounts, contacts, references), at most 5,000 a request: each
    checked, compared with what the server holds and written only when it differs; one verdict per row,
    in the order sent. A row is written whole or not at all; the same rows again change nothing."""
    if len(body.rows) > portfolio.MAX_ROWS:
        raise ApiProblem(
            413,
            "TOO_MANY_ROWS",
            f"a request takes at most {portfolio.MAX_ROWS:,} rows, not {len(body.rows):,}; "
            "send the file in batches with the same run_id (cobro-tui import portfolio does)",
            {"max_rows": portfolio.MAX_ROWS},
        )
    run = portfolio.Run(body.run_id, body.full, body.close_missing, body.last)
    rows = [(row.kind, row.data) for row in body.rows]
    try:
        with write_tx(gate.engine) as conn:
            outcome = portfolio.import_batch(conn, run, rows, gate.clock.now(), user.username, _buckets(), _rules)
    except portfolio.RunRefused as refused:
        raise ApiProblem(refused.status, refused.code, refused.message) from None
    # Built as plain JSON: 5,000 verdicts through the response model's validation would cost more
    # than storing them (the document still declares PortfolioResult; tests read the answer by it).
    verdicts: list[dict[str, Any]] = []
    for v in outcome.verdicts:
        verdict: dict[str, Any] = {"status": v.status, "problems": [], "warnings": []}
        if v.problems:
            verdict["problems"] = [_problem_json(p) for p in v.problems]
        if v.warnings:
            verdict["warnings"] = [_problem_json(p) for p in v.warnings]
        verdicts.append(verdict)
    answer = {
        "run_id": body.run_id,
        "layout": 1,
        "counts": outcome.counts,
        "closed_missing": outcome.closed_missing,
        "rows": verdicts,
    }
    return JSONResponse(answer)  # type: ignore[return-value]


@cache
def _problem_json_cached(column: str, code: str) -> dict[str, Any]:
    return worded(Problem(column, code)).model_dump()


def _problem_json(problem: Problem) -> dict[str, Any]:
    if not problem.params:  # the usual case (a warning again on every unchanged row): worded once
        return _problem_json_cached(problem.column, problem.code)
    return worded(problem).model_dump()
