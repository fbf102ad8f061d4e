"""The reference backend as a FastAPI application: /v1, JSON, bearer tokens, roles checked here.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

import asyncio
import dataclasses
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, insert, select, update
from starlette.exceptions import HTTPException as StarletteHTTPException

from cobro_tui import __version__
from cobro_tui.api.models import (
    CLIENT_SCHEMA,
    AgentAccounts,
    Approval,
    ApprovalDecision,
    Assignment,
    BulkReassignment,
    BulkReassignmentResult,
    ChangesResponse,
    ComplianceException,
    DeviceRegistration,
    DeviceState,
    ExceptionReview,
    KpiReport,
    PaymentIn,
    PaymentResult,
    PortfolioReport,
    Problem,
    PromiseJudged,
    PushRequest,
    PushResponse,
    Reassignment,
    SnapshotPage,
    TeamQueues,
    Verdict,
    VerdictQuery,
    WorkstationHealth,
)
from cobro_tui.api.text import MAX_DEPTH, without_controls
from cobro_tui.clock import Clock
from cobro_tui.domain.models import Payment
from cobro_tui.domain.money import Money
from cobro_tui.server import approvals, auth, keeping, kpi, openapi
from cobro_tui.server.assign import UnknownAccount, VersionMismatch, move, reassign
from cobro_tui.server.db import write_tx
from cobro_tui.server.deps import PROBLEMS, ApiProblem, BodyLimit, Gate, problem_response, source_of
from cobro_tui.server.feed import get_doc, head_seq, server_epoch
from cobro_tui.server.pull import (
    ResetRequired,
    changes_after,
    make_cursor,
    parse_cursor,
    snapshot_page,
)
from cobro_tui.server.push import PushRefused, process_push
from cobro_tui.server.routes_auth import add_auth_routes
from cobro_tui.server.routes_evidence import add_evidence_routes, compare_audit_head
from cobro_tui.server.schema import approvals as approvals_table
from cobro_tui.server.schema import (
    compliance_exceptions,
    mutation_log,
    sync_clients,
    users,
)
from cobro_tui.server.team import agent_accounts, team_queues
from cobro_tui.settings import ServerSettings

RETENTION_DAYS = 90
MAX_WAIT_S = 25


# The largest body a workstation sends is a push of 200 commands, each with at most a 64 KiB
# snapshot of what the agent saw: some 13 MiB. Anything larger is refused before it is read whole.
MAX_BODY_BYTES = 16 * 2**20


def create_app(engine: Engine, clock: Clock, config: ServerSettings | None = None) -> FastAPI:
    """The API on a migrated database."""
    config = config or ServerSettings()
    gate = Gate(engine, clock, config)
    app = FastAPI(
        title="cobro-tui reference backend",
        version=__version__,
        description="CSP/1: the sync contract of the cobro-tui workstation (DESIGN.md section 6). Every "
        "error is a Problem body; a request that does not fit its schema is answered 422.",
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    problems = PROBLEMS
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]

    @app.exception_handler(ApiProblem)
    async def _api_problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"])
        return problem_response(422, "MALFORMED_REQUEST", without_controls(f"{where}: {first['msg']}")[:500])

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        # A JSON body nested past what the parser can walk: a bad body like any other.
        return problem_response(422, "MALFORMED_REQUEST", f"the body nests deeper than {MAX_DEPTH} levels")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own refusals (a body that is not JSON, an unknown path or method) as Problems too;
        # a body that cannot be read is a bad body like any other: 422.
        status = 422 if exc.status_code == 400 else exc.status_code
        code = {422: "MALFORMED_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "HTTP_ERROR")
        return problem_response(status, code, str(exc.detail)[:200], headers=getattr(exc, "headers", None))

    agent_user = gate.role("agent", code="AGENTS_ONLY", message="only agents sync a portfolio to a workstation")
    supervisor_user = gate.role(
        "supervisor", "manager", code="SUPERVISORS_ONLY", message="only supervisors and managers review approvals"
    )
    team_scope, team_members, ensure_member = gate.team_scope, gate.team_members, gate.ensure_member
    add_auth_routes(app, gate)
    add_evidence_routes(app, gate)

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/v1/devices/register", response_model=DeviceState, responses=problems)
    def register(body: DeviceRegistration, user: Annotated[auth.User, Depends(agent_user)]) -> DeviceState:
        now = clock.now().isoformat()
        with write_tx(engine) as conn:
            row = conn.execute(
                select(sync_clients).where(
                    sync_clients.c.device_id == body.device_id, sync_clients.c.device_epoch == body.device_epoch
                )
            ).first()
            owner = conn.execute(
                select(sync_clients.c.agent)
                .where(sync_clients.c.device_id == body.device_id, sync_clients.c.agent != user.username)
                .limit(1)
            ).scalar()
            if owner is not None:  # a device is one agent's, whatever epoch it is at
                raise ApiProblem(403, "DEVICE_OF_ANOTHER_AGENT", "this device is registered to another agent")
            if row is None:
                last = body.resume_after_seq
                conn.execute(
                    insert(sync_clients).values(
                        device_id=body.device_id,
                        device_epoch=body.device_epoch,
                        agent=user.username,
                        last_client_seq=last,
                        last_seen_at=now,
                        app_version=body.app_version,
                        schema_version=body.schema_version,
                    )
                )
            elif row.agent != user.username:
                raise ApiProblem(403, "DEVICE_OF_ANOTHER_AGENT", "this device is registered to another agent")
            else:
                conn.execute(
                    update(sync_clients)
                    .where(sync_clients.c.device_id == body.device_id, sync_clients.c.device_epoch == body.device_epoch)
                    .values(last_seen_at=now, app_version=body.app_version, schema_version=body.schema_version)
                )
                last = row.last_client_seq
            epoch = server_epoch(conn)
        return DeviceState(
            last_client_seq=last, server_epoch=epoch, min_supported_schema=CLIENT_SCHEMA, retention_days=RETENTION_DAYS
        )

    @app.post("/v1/mutations", response_model=PushResponse, responses={**problems, 409: {"model": Problem}})
    def push(body: PushRequest, request: Request, user: Annotated[auth.User, Depends(agent_user)]) -> PushResponse:
        """A batch of commands, each judged on the server's state (api/commands.py has their arguments):
        one verdict per command, whatever is retried, duplicated or raced."""
        now = clock.now()
        try:
            result = process_push(engine, user.username, body, now, gate.limits, source_of(request))
            if body.audit_head is not None:
                compare_audit_head(gate, user, body.device_id, body.audit_head, source_of(request))
        except PushRefused as refused:
            raise ApiProblem(refused.status, refused.code, refused.message, refused.details) from None
        return PushResponse(
            server_time=now, last_client_seq=result.last_client_seq, results=result.results, halted=result.halted
        )

    @app.post("/v1/mutations/verdicts", response_model=list[Verdict], responses=problems)
    def verdicts(body: VerdictQuery, user: Annotated[auth.User, Depends(agent_user)]) -> list[Verdict]:
        """The current verdicts of many mutations at once (a workstation's held items, read each round);
        ids that are not from this agent's devices are left out."""
        with engine.connect() as conn:
            rows = conn.execute(
                select(mutation_log.c.verdict)
                .join(
                    sync_clients,
                    (sync_clients.c.device_id == mutation_log.c.device_id)
                    & (sync_clients.c.device_epoch == mutation_log.c.device_epoch),
                )
                .where(mutation_log.c.mutation_id.in_(body.mutation_ids), sync_clients.c.agent == user.username)
            ).scalars()
            return [Verdict.model_validate_json(row) for row in rows]

    @app.get("/v1/mutations/{mutation_id}", response_model=Verdict, responses={**problems, 404: {"model": Problem}})
    def verdict(mutation_id: str, user: Annotated[auth.User, Depends(agent_user)]) -> Verdict:
        with engine.connect() as conn:
            row = conn.execute(
                select(mutation_log.c.verdict, sync_clients.c.agent)
                .join(
                    sync_clients,
                    (sync_clients.c.device_id == mutation_log.c.device_id)
                    & (sync_clients.c.device_epoch == mutation_log.c.device_epoch),
                )
                .where(mutation_log.c.mutation_id == mutation_id)
            ).first()
        if row is None or row.agent != user.username:
            raise ApiProblem(404, "UNKNOWN_MUTATION", "no verdict for that mutation from your devices")
        return Verdict.model_validate_json(row.verdict)

    @app.get("/v1/approvals", response_model=list[Approval], responses=problems)
    def approval_list(
        user: Annotated[auth.User, Depends(supervisor_user)],
        status: Annotated[str, Query(pattern="^(pending|approved|denied|all)$")] = "pending",
    ) -> list[Approval]:
        held = approvals.listing(engine, None if status == "all" else status)
        members = team_members(user)
        shown = [item for item in held if members is None or item.agent in members]
        with engine.connect() as conn:
            return [
                Approval.model_validate(
                    {**dataclasses.asdict(item), **approvals.account_summary(conn, item.account_id)}
                )
                for item in shown
            ]

    @app.post(
        "/v1/approvals/{mutation_id}",
        response_model=Verdict,
        responses={**problems, 404: {"model": Problem}, 409: {"model": Problem}},
    )
    def approval_decide(
        mutation_id: str, body: ApprovalDecision, user: Annotated[auth.User, Depends(supervisor_user)]
    ) -> Verdict:
        with engine.connect() as conn:
            asked_by = conn.execute(
                select(approvals_table.c.agent).where(approvals_table.c.mutation_id == mutation_id)
            ).scalar()
        if asked_by is not None:
            ensure_member(user, asked_by)
        try:
            with write_tx(engine) as conn:
                return approvals.decide(
                    conn,
                    mutation_id,
                    user.username,
                    user.role,
                    body.decision == "approve",
                    body.reason,
                    clock.now(),
                    gate.limits,
                )
        except approvals.ApprovalRefused as refused:
            raise ApiProblem(refused.status, refused.code, refused.message) from None

    payments_feed = gate.integration("payments")

    @app.post(
        "/v1/payments",
        response_model=PaymentResult,
        responses={**problems, 404: {"model": Problem}, 409: {"model": Problem}},
    )
    def payment(body: PaymentIn, user: Annotated[auth.User, Depends(payments_feed)]) -> PaymentResult:
        """A payment from the institution's feed (an integration credential with the payments scope):
        stored once per id, and the account's promises judged again."""
        paid = Payment(
            body.id,
            body.account_id,
            Money(body.amount_centavos, body.currency),
            body.paid_on,
            body.channel,
            body.reference,
        )
        try:
            new, changed = keeping.record_payment(engine, paid, clock.now())
        except LookupError:
            raise ApiProblem(404, "UNKNOWN_ACCOUNT", f"no account {body.account_id}") from None
        except keeping.PaymentRefused as refused:
            raise ApiProblem(refused.status, refused.code, refused.message) from None
        return PaymentResult(
            new=new,
            promises=[
                PromiseJudged(id=p.id, status=p.status.value, paid_centavos=p.paid.centavos if p.paid else None)
                for p in changed
            ],
        )

    @app.get("/v1/compliance-exceptions", response_model=list[ComplianceException], responses=problems)
    def exception_list(
        user: Annotated[auth.User, Depends(supervisor_user)],
        status: Annotated[str, Query(pattern="^(open|reviewed|all)$")] = "open",
    ) -> list[ComplianceException]:
        """Contacts recorded although the rules blocked them, oldest first, with the rule decision behind each."""
        query = select(compliance_exceptions).order_by(compliance_exceptions.c.id)
        members = team_members(user)
        if members is not None:
            query = query.where(compliance_exceptions.c.agent.in_(sorted(members)))
        if status != "all":
            query = query.where(compliance_exceptions.c.status == status)
        with engine.connect() as conn:
            return [
                ComplianceException.model_validate(
                    {
                        **r._mapping,
                        **approvals.account_summary(conn, r.account_id),
                        "details": json.loads(r.details) if r.details else None,
                    }
                )
                for r in conn.execute(query).all()
            ]

    @app.post(
        "/v1/compliance-exceptions/{exception_id}",
        response_model=ComplianceException,
        responses={**problems, 404: {"model": Problem}, 409: {"model": Problem}},
    )
    def exception_review(
        exception_id: int, body: ExceptionReview, user: Annotated[auth.User, Depends(supervisor_user)]
    ) -> ComplianceException:
        """Mark an exception reviewed, with what the supervisor found (10 characters at least)."""
        if len(body.note.strip()) < 10:
            raise ApiProblem(422, "NOTE_TOO_SHORT", "say what you found in at least 10 characters")
        with write_tx(engine) as conn:
            row = conn.execute(select(compliance_exceptions).where(compliance_exceptions.c.id == exception_id)).first()
            if row is None:
                raise ApiProblem(404, "UNKNOWN_EXCEPTION", f"no compliance exception {exception_id}")
            ensure_member(user, row.agent)
            if row.status != "open":
                raise ApiProblem(409, "ALREADY_REVIEWED", f"{row.reviewed_by} already reviewed it")
            conn.execute(
                update(compliance_exceptions)
                .where(compliance_exceptions.c.id == exception_id)
                .values(
                    status="reviewed",
                    reviewed_by=user.username,
                    reviewed_at=clock.now().isoformat(),
                    review_note=body.note.strip(),
                )
            )
            stored = dict(
                conn.execute(select(compliance_exceptions).where(compliance_exceptions.c.id == exception_id))
                .one()
                ._mapping
            )
        return ComplianceException.model_validate(
            {**stored, "details": json.loads(stored["details"]) if stored["details"] else None}
        )

    def _assignment(account_id: str) -> Assignment:
        with engine.connect() as conn:
            doc = get_doc(conn, "account", account_id)
        if doc is None:
            raise ApiProblem(404, "UNKNOWN_ACCOUNT", f"no account {account_id}")
        return Assignment(account_id=account_id, agent=doc.agent, version=doc.version)

    @app.get(
        "/v1/accounts/{account_id}/assignment",
        response_model=Assignment,
        responses={**problems, 404: {"model": Problem}},
    )
    def assignment(
        account_id: str, response: Response, user: Annotated[auth.User, Depends(supervisor_user)]
    ) -> Assignment:
        """Whose the account is; the ETag is what a reassignment must send in If-Match."""
        found = _assignment(account_id)
        ensure_member(user, found.agent)
        response.headers["ETag"] = f'"{found.version}"'
        return found

    @app.put(
        "/v1/accounts/{account_id}/assignment",
        response_model=Assignment,
        responses={**problems, 404: {"model": Problem}, 412: {"model": Problem}, 428: {"model": Problem}},
    )
    def reassignment(
        account_id: str,
        body: Reassignment,
        user: Annotated[auth.User, Depends(supervisor_user)],
        if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    ) -> Assignment:
        """Give the account to another agent: the loser's workstation gets a revoke, the gainer's the
        account, at their next sync. Only if it is still at the version read (If-Match)."""
        if not if_match or not if_match.strip('"').isdigit():
            raise ApiProblem(
                428, "IF_MATCH_REQUIRED", 'send If-Match with the ETag read (GET .../assignment), such as "3"'
            )
        _receiver(user, body.agent)
        ensure_member(user, _assignment(account_id).agent)
        try:
            reassign(engine, account_id, body.agent, clock.now(), int(if_match.strip('"')))
        except UnknownAccount:
            raise ApiProblem(404, "UNKNOWN_ACCOUNT", f"no account {account_id}") from None
        except VersionMismatch as stale:
            raise ApiProblem(
                412,
                "VERSION_CHANGED",
                "the account changed since it was read; read it again",
                {"current_version": stale.current},
            ) from None
        return _assignment(account_id)

    def _receiver(user: auth.User, agent: str) -> None:
        """The agent who receives accounts: an agent of this server, and of the supervisor's team."""
        with engine.connect() as conn:
            known = conn.execute(
                select(users.c.username).where(users.c.username == agent, users.c.role == "agent")
            ).first()
        if known is None:
            raise ApiProblem(422, "UNKNOWN_AGENT", f"{agent} is not an agent of this server")
        ensure_member(user, agent)

    @app.post("/v1/assignments", response_model=BulkReassignmentResult, responses=problems)
    def reassign_many(
        body: BulkReassignment, user: Annotated[auth.User, Depends(supervisor_user)]
    ) -> BulkReassignmentResult:
        """Give many accounts to one agent in one transaction, each only if it is still at the version
        read; the others are listed (changed since: read again; unknown; another team's) and keep their agent."""
        _receiver(user, body.agent)
        members = team_members(user)
        found: dict[str, list[Any]] = {"moved": [], "stale": [], "unknown": [], "other_team": []}
        now = clock.now()
        with write_tx(engine) as conn:
            for item in body.accounts:
                doc = get_doc(conn, "account", item.account_id)
                if doc is None:
                    found["unknown"].append(item.account_id)
                elif members is not None and doc.agent not in members:
                    found["other_team"].append(item.account_id)
                elif doc.version != item.version:
                    found["stale"].append({"account_id": item.account_id, "current_version": doc.version})
                else:
                    move(conn, item.account_id, body.agent, now, item.version)
                    found["moved"].append(item.account_id)
        return BulkReassignmentResult.model_validate(found)

    @app.get("/v1/team", response_model=TeamQueues, responses=problems)
    def team_view(user: Annotated[auth.User, Depends(supervisor_user)], team: str | None = None) -> TeamQueues:
        """Per agent of the team (every agent without one): accounts by bucket, worked today, promises due today."""
        with engine.connect() as conn:
            return TeamQueues.model_validate(team_queues(conn, team_scope(user, team), clock.now()))

    @app.get("/v1/teams", response_model=list[str], responses=problems)
    def team_list(user: Annotated[auth.User, Depends(supervisor_user)]) -> list[str]:
        """The teams the caller may review: a supervisor's own; every team with agents for a manager."""
        if user.role != "manager":
            return [user.team]
        with engine.connect() as conn:
            return sorted(set(conn.execute(select(users.c.team).where(users.c.role == "agent")).scalars()))

    @app.get(
        "/v1/team/agents/{agent}/accounts",
        response_model=AgentAccounts,
        responses={**problems, 404: {"model": Problem}},
    )
    def agent_account_list(agent: str, user: Annotated[auth.User, Depends(supervisor_user)]) -> AgentAccounts:
        """An agent's accounts, most days past due first, with the version a reassignment sends in If-Match."""
        with engine.connect() as conn:
            team = conn.execute(select(users.c.team).where(users.c.username == agent, users.c.role == "agent")).scalar()
            if team is None:
                raise ApiProblem(404, "UNKNOWN_AGENT", f"{agent} is not an agent of this server")
            ensure_member(user, agent)
            return AgentAccounts.model_validate({"agent": agent, "team": team, "accounts": agent_accounts(conn, agent)})

    @app.get("/v1/workstations", response_model=list[WorkstationHealth], responses=problems)
    def workstations(user: Annotated[auth.User, Depends(supervisor_user)]) -> list[WorkstationHealth]:
        """Every workstation (its latest epoch): whose, which version, last seen, items waiting to be sent."""
        with engine.connect() as conn:
            rows = conn.execute(
                select(sync_clients).order_by(sync_clients.c.device_id, sync_clients.c.device_epoch)
            ).all()
        members = team_members(user)
        latest = {row.device_id: row for row in rows if members is None or row.agent in members}
        fields = WorkstationHealth.model_fields
        return [
            WorkstationHealth.model_validate({k: v for k, v in row._mapping.items() if k in fields})
            for row in sorted(latest.values(), key=lambda r: (r.agent, r.device_id))
        ]

    @app.get("/v1/kpi/portfolio", response_model=PortfolioReport, responses=problems)
    def kpi_portfolio(
        user: Annotated[auth.User, Depends(supervisor_user)],
        since: datetime,
        until: datetime | None = None,
        team: str | None = None,
    ) -> PortfolioReport:
        """Aging at the end of the period, roll rates across it, vintage curves (docs/kpi.md)."""
        end = until or clock.now()
        if since.tzinfo is None or end.tzinfo is None or end <= since:
            raise ApiProblem(
                422, "MALFORMED_REQUEST", "since and until are instants with an offset, since before until"
            )
        with engine.connect() as conn:
            return PortfolioReport.model_validate(kpi.portfolio(conn, since, end, team_scope(user, team)))

    @app.get("/v1/kpi", response_model=KpiReport, responses=problems)
    def kpi_report(
        user: Annotated[auth.User, Depends(supervisor_user)],
        since: datetime,
        until: datetime | None = None,
        team: str | None = None,
    ) -> KpiReport:
        """The KPIs of [since, until) (until: now) for a team's agents, or every agent."""
        end = until or clock.now()
        if since.tzinfo is None or end.tzinfo is None or end <= since:
            raise ApiProblem(
                422, "MALFORMED_REQUEST", "since and until are instants with an offset, since before until"
            )
        with engine.connect() as conn:
            return KpiReport.model_validate(kpi.report(conn, since, end, team_scope(user, team)))

    swept: dict[str, float] = {}

    def _sweep(agent: str) -> None:
        """Promises whose grace ended are judged before an agent's changes are read, once a minute."""
        now = clock.now()
        if now.timestamp() - swept.get(agent, 0.0) >= 60:
            swept[agent] = now.timestamp()
            keeping.sweep(engine, now, agent)

    def _changes(agent: str, cursor: str | None, limit: int) -> ChangesResponse:
        _sweep(agent)
        with engine.connect() as conn:
            try:
                after = parse_cursor(conn, cursor)
            except ResetRequired as reset:
                raise ApiProblem(
                    410, "RESET_REQUIRED", "the workstation must take a new snapshot", {"reason": reset.reason}
                ) from None
            page = changes_after(conn, agent, after, limit)
            return ChangesResponse(
                server_time=clock.now(),
                server_epoch=server_epoch(conn),
                changes=page.changes,
                next_cursor=make_cursor(conn, page.next_seq),
                has_more=page.has_more,
            )

    def _note_health(agent: str, device_id: str | None, pending: int | None, oldest: str | None) -> None:
        """What a workstation says of itself when it reads its changes: seen now, with its pending items."""
        if device_id is None:
            return
        with write_tx(engine) as conn:
            conn.execute(
                update(sync_clients)
                .where(sync_clients.c.device_id == device_id, sync_clients.c.agent == agent)
                .values(last_seen_at=clock.now().isoformat(), pending_items=pending, oldest_pending_at=oldest)
            )

    @app.get("/v1/changes", response_model=ChangesResponse, responses={**problems, 410: {"model": Problem}})
    async def changes(
        user: Annotated[auth.User, Depends(agent_user)],
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
        wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0,
        device_id: Annotated[str | None, Header(alias="Device-Id")] = None,
        pending_items: Annotated[int | None, Header(alias="Pending-Items", ge=0)] = None,
        oldest_pending: Annotated[datetime | None, Header(alias="Oldest-Pending")] = None,
    ) -> ChangesResponse:
        if pending_items is not None:
            await run_in_threadpool(
                _note_health,
                user.username,
                device_id,
                pending_items,
                oldest_pending.isoformat() if oldest_pending else None,
            )
        response = await run_in_threadpool(_changes, user.username, cursor, limit)
        deadline = asyncio.get_running_loop().time() + wait
        while not response.changes and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
            response = await run_in_threadpool(_changes, user.username, cursor, limit)
        return response

    @app.get("/v1/snapshot", response_model=SnapshotPage, responses=problems)
    def snapshot(
        user: Annotated[auth.User, Depends(agent_user)],
        page: str | None = None,
        limit: Annotated[int, Query(ge=1, le=20000)] = 5000,
    ) -> Response:
        with engine.connect() as conn:
            if page:
                try:
                    seq_text, kind_text, after_id = page.split(":", 2)
                    seq, kind_index = int(seq_text), int(kind_text)
                except ValueError:
                    raise ApiProblem(422, "MALFORMED_REQUEST", "page is not a token this server gave") from None
            else:
                seq, kind_index, after_id = head_seq(conn), 0, ""
            items, following = snapshot_page(conn, user.username, kind_index, after_id, limit)
            # The documents are stored as JSON already: the page is assembled as text (the shape is SnapshotPage).
            head = SnapshotPage(
                server_time=clock.now(),
                server_epoch=server_epoch(conn),
                entities=[],
                next_page=None if following is None else f"{seq}:{following[0]}:{following[1]}",
                cursor=make_cursor(conn, seq),
            ).model_dump_json()
        body = head.replace('"entities":[]', '"entities":[' + ",".join(items) + "]", 1)
        return Response(body, media_type="application/json")

    return app
