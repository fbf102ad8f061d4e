"""The KPIs of a period, for a team or every agent: the floor's (attempts, contacts, promises kept)
and the portfolio's (aging, roll rates, vintages); definitions in docs/kpi.md.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends

from cobro_tui.api.models import KpiReport, PortfolioReport
from cobro_tui.server import auth, kpi
from cobro_tui.server.deps import PROBLEMS, ApiProblem, Gate, GateDep, supervisor_user

router = APIRouter()


def _period_end(gate: Gate, since: datetime, until: datetime | None) -> datetime:
    """The end of [since, until): now when not given; both instants with an offset, in order."""
    end = until or gate.clock.now()
    if since.tzinfo is None or end.tzinfo is None or end <= since:
        raise ApiProblem(422, "MALFORMED_REQUEST", "since and until are instants with an offset, since before until")
    return end


@router.get("/v1/kpi/portfolio", response_model=PortfolioReport, responses=PROBLEMS)
def kpi_portfolio(
    user: Annotated[auth.User, Depends(supervisor_user)],
    gate: GateDep,
    since: datetime,
    until: datetime | None = None,
    team: str | None = None,
) -> PortfolioReport:
    """Aging at the end of the period, roll rates across it, vintage curves (docs/kpi.md)."""
    end = _period_end(gate, since, until)
    with gate.engine.connect() as conn:
        return PortfolioReport.model_validate(kpi.portfolio(conn, since, end, gate.team_scope(user, team)))


@router.get("/v1/kpi", response_model=KpiReport, responses=PROBLEMS)
def kpi_report(
    user: Annotated[auth.User, Depends(supervisor_user)],
    gate: GateDep,
    since: datetime,
    until: datetime | None = None,
    team: str | None = None,
) -> KpiReport:
    """The KPIs of [since, until) (until: now) for a team's agents, or every agent."""
    end = _period_end(gate, since, until)
    with gate.engine.connect() as conn:
        return KpiReport.model_validate(kpi.report(conn, since, end, gate.team_scope(user, team)))
