"""Approvals through the real server: a promise the offer policy sends to a supervisor is held,
the supervisor approves or denies it with a reason (agents may not), and the agent's workstation
sees the outcome at its next sync."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import NOW
from sync_support import Station, auth_headers, make_station, push_commands, running_server

from cobro_tui.clock import FixedClock
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import Promise, PromiseStatus
from cobro_tui.domain.money import Money
from cobro_tui.domain.records import to_record
from cobro_tui.policy import Policy
from cobro_tui.server.db import write_tx
from cobro_tui.server.feed import Doc, Tx, get_doc


@pytest.fixture
def server(tmp_path: Path):
    with running_server(tmp_path, accounts=40, seed=5) as running:
        yield running


def _two_broken_promises(engine, account_id: str) -> None:
    """On the server: the account's debtor broke two promises this month."""
    with write_tx(engine) as conn:
        account = get_doc(conn, "account", account_id)
        assert account is not None
        tx = Tx(conn, NOW)
        for days in (5, 20):
            broken = Promise(
                id=new_id(),
                account_id=account_id,
                amount=Money(50_000),
                due_on=NOW.date() - timedelta(days=days),
                channel="spei",
                created_at=NOW - timedelta(days=days + 3),
                created_by="agente01",
                status=PromiseStatus.BROKEN,
            )
            tx.put(
                Doc("promise", broken.id, 0, to_record(broken), account_id, account.customer_id, account.agent),
                current=None,
            )


def _held_promise(tmp_path: Path, server, clock: FixedClock, policy: Policy) -> tuple[Station, str, Promise]:
    """agente01's workstation, synced, with a promise the server holds for a supervisor (two broken before)."""
    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.settings import load_settings

    server_engine, thread = server
    station = make_station(tmp_path, "agent", thread.url, "agente01", clock, policy)
    assert station.round().ok

    ws = build_workstation(station.cache, load_settings(), clock, policy, "agente01", "live")
    account_id = next(
        a
        for a, _ in station.accounts()
        if not ws.accounts.open(a).file.open_promises()
        and not [p for p in ws.accounts.open(a).file.promises if p.item.status is PromiseStatus.BROKEN]
    )
    _two_broken_promises(server_engine, account_id)
    assert station.round().ok
    least = policy.offers.promise.minimum(ws.accounts.open(account_id).file.account)
    due = ws.accounts.open(account_id).debtor_now.date() + timedelta(days=3)
    verdict = ws.promises.verdict(account_id, least, due)
    assert verdict.allowed and verdict.approval == "supervisor"  # the workstation says so before it is sent
    from cobro_tui.services.promises import approval_text

    assert approval_text(verdict) == (
        "Espera autorización de un supervisor: 2 promesas incumplidas en 90 días (desde 2 requiere autorización)."
    )
    promise = ws.promises.take(account_id, least, due, "spei")
    report = station.round()
    assert report.ok and report.held == 1
    with station.cache.connect() as conn:
        assert conn.exec_driver_sql("SELECT sync_state FROM promise WHERE id = ?", (promise.id,)).scalar_one() == "held"
    return station, account_id, promise


def test_a_promise_after_broken_ones_waits_for_a_supervisor_who_approves_it(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    engine, thread = server
    station, account_id, promise = _held_promise(tmp_path, server, clock, policy)
    # An agent can neither see nor decide approvals.
    agent = auth_headers(thread.url, "agente01")
    assert httpx.get(f"{thread.url}/v1/approvals", headers=agent).status_code == 403
    mutation_id = next(m for m, state, _ in station.outbox() if state == "deferred")
    refused = httpx.post(
        f"{thread.url}/v1/approvals/{mutation_id}",
        headers=agent,
        json={"decision": "approve", "reason": "me lo apruebo yo mismo"},
    )
    assert refused.status_code == 403
    supervisor = auth_headers(thread.url, "supervisor01")
    waiting = httpx.get(f"{thread.url}/v1/approvals", headers=supervisor).json()
    assert [(w["mutation_id"], w["agent"], w["account_id"], w["level"]) for w in waiting] == [
        (mutation_id, "agente01", account_id, "supervisor")
    ]
    assert "2 promesas incumplidas" in waiting[0]["why"]
    short = httpx.post(
        f"{thread.url}/v1/approvals/{mutation_id}", headers=supervisor, json={"decision": "approve", "reason": "ok"}
    )
    assert short.status_code == 422 and short.json()["code"] == "REASON_TOO_SHORT"
    decided = httpx.post(
        f"{thread.url}/v1/approvals/{mutation_id}",
        headers=supervisor,
        json={"decision": "approve", "reason": "cliente con nuevo empleo, paga el día 26"},
    )
    assert decided.status_code == 200 and decided.json()["status"] == "applied"
    again = httpx.post(
        f"{thread.url}/v1/approvals/{mutation_id}",
        headers=supervisor,
        json={"decision": "deny", "reason": "cambio de opinión tardío"},
    )
    assert again.status_code == 409
    assert httpx.get(f"{thread.url}/v1/approvals", headers=supervisor).json() == []
    report = station.round()
    assert report.ok and report.decided == 1
    with station.cache.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT sync_state FROM promise WHERE id = ?", (promise.id,)).scalar_one() == "synced"
        )
    with engine.connect() as conn:
        stored = get_doc(conn, "promise", promise.id)
    assert stored is not None and stored.data["status"] == "open"


def test_a_denied_promise_comes_back_rejected_with_the_supervisors_reason(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    engine, thread = server
    station, _, promise = _held_promise(tmp_path, server, clock, policy)
    supervisor = auth_headers(thread.url, "supervisor01")
    mutation_id = next(m for m, state, _ in station.outbox() if state == "deferred")
    decided = httpx.post(
        f"{thread.url}/v1/approvals/{mutation_id}",
        headers=supervisor,
        json={"decision": "deny", "reason": "ya incumplió dos veces; ofrecer convenio"},
    )
    assert decided.json()["status"] == "rejected"
    report = station.round()
    assert report.ok and report.decided == 1
    verdict = {m: v for m, _, v in station.outbox()}[mutation_id]
    assert verdict is not None and verdict["reason"]["code"] == "DENIED"
    assert verdict["reason"]["message"] == "supervisor01: ya incumplió dos veces; ofrecer convenio"
    with station.cache.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT sync_state FROM promise WHERE id = ?", (promise.id,)).scalar_one()
            == "rejected"
        )
    with engine.connect() as conn:
        assert get_doc(conn, "promise", promise.id) is None  # nothing was applied
    history = httpx.get(f"{thread.url}/v1/approvals", headers=supervisor, params={"status": "all"}).json()
    assert [(h["status"], h["decided_by"]) for h in history] == [("denied", "supervisor01")]


def test_only_a_manager_decides_what_needs_a_manager() -> None:
    from cobro_tui.server.approvals import may_decide

    assert (
        may_decide("supervisor", "supervisor")
        and may_decide("manager", "supervisor")
        and may_decide("manager", "manager")
    )
    assert not may_decide("supervisor", "manager") and not may_decide("agent", "supervisor")


@pytest.fixture
def bigger_server(tmp_path: Path):
    with running_server(tmp_path, accounts=300, seed=5) as running:
        yield running


def test_settlements_within_the_agents_discount_apply_above_it_and_restructures_wait(
    tmp_path: Path,
    bigger_server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.domain.models import PlanKind
    from cobro_tui.domain.plans import Frequency
    from cobro_tui.settings import load_settings

    engine, thread = bigger_server
    station = make_station(tmp_path, "settle", thread.url, "agente01", clock, policy)
    assert station.round().ok
    ws = build_workstation(station.cache, load_settings(), clock, policy, "agente01", "live")
    late = [
        a
        for a, _ in station.accounts()
        if ws.accounts.open(a).file.account.bucket in ("120+", "castigo") and not ws.accounts.open(a).file.plans
    ]
    middle = [
        a
        for a, _ in station.accounts()
        if ws.accounts.open(a).file.account.bucket in ("60-89", "90-119") and not ws.accounts.open(a).file.plans
    ]
    assert len(late) >= 2 and middle
    late = [*late[:2], middle[0]]
    first_due = NOW.date() + timedelta(days=5)

    def settle(account_id: str, percent_off: int):
        account = ws.accounts.open(account_id).file.account
        pay = Money(account.balance.centavos - account.balance.centavos * percent_off // 100)
        return account, ws.plans.propose(
            account_id, pay, Money(0), 1, first_due, Frequency.MONTHLY, kind=PlanKind.SETTLEMENT
        )

    limits = policy.offers.settlement.discounts("120+", 0)
    account, mine = settle(late[0], 10)  # well within the agent's discount
    preview = ws.plans.preview(late[1], Money(1), Money(0), 1, first_due, Frequency.MONTHLY, PlanKind.SETTLEMENT)
    assert [p.key for p in preview.problems] == ["settlement.discount_too_big"]  # 99.99 % off: nobody may
    _, above = settle(late[1], limits["agent"] + 5)  # above the agent's, within the supervisor's
    restructure_account = ws.accounts.open(late[2]).file.account
    down = Money(-(-restructure_account.balance.centavos * policy.offers.restructure.min_down_percent // 100))
    restructure = ws.plans.propose(
        late[2], restructure_account.balance, down, 24, first_due, Frequency.MONTHLY, kind=PlanKind.RESTRUCTURE
    )
    report = station.round()
    assert report.ok and report.held == 2 and report.applied >= 1
    with engine.connect() as conn:
        applied = get_doc(conn, "payment_plan", mine.id)
    assert applied is not None and applied.data["kind"] == "settlement"
    assert applied.data["forgiven"]["centavos"] == account.balance.centavos - mine.total.centavos
    supervisor = auth_headers(thread.url, "supervisor01")
    waiting = {w["args"]["id"]: w for w in httpx.get(f"{thread.url}/v1/approvals", headers=supervisor).json()}
    assert set(waiting) == {above.id, restructure.id}
    assert "excede su límite" in waiting[above.id]["why"] and "supervisor" in waiting[restructure.id]["why"]
    for plan_id in (above.id, restructure.id):
        answer = httpx.post(
            f"{thread.url}/v1/approvals/{waiting[plan_id]['mutation_id']}",
            headers=supervisor,
            json={"decision": "approve", "reason": "revisado con el cliente por teléfono"},
        )
        assert answer.json()["status"] == "applied"
    assert station.round().decided == 2
    states = {p.item.id: (p.item.kind, p.sync_state) for a in late[:3] for p in ws.accounts.open(a).file.plans}
    assert states[above.id] == (PlanKind.SETTLEMENT, "synced") and states[restructure.id] == (
        PlanKind.RESTRUCTURE,
        "synced",
    )


async def test_the_supervisor_approves_from_the_inbox_and_the_agent_sees_it(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    from textual.widgets import DataTable, Input, Select, Static
    from ui_support import supervisor_app, wait_for

    from cobro_tui.ui.screens.approvals import ApprovalsScreen, DecisionForm

    _engine, thread = server
    station, _, promise = _held_promise(tmp_path, server, clock, policy)
    app = supervisor_app(thread.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen.query_one(DataTable).row_count == 1
        )
        screen = app.screen
        assert "1 pendientes" in str(screen.query_one("#approvals-heading", Static).render())
        assert "2 promesas incumplidas" in str(screen.query_one("#approvals-why", Static).render())
        row = screen.query_one(DataTable).get_row_at(0)  # whose debt, how late, how much: the account as it is now
        with station.cache.connect() as conn:
            name, bucket, dpd = conn.exec_driver_sql(
                "SELECT c.full_name, a.bucket, a.dpd FROM account a JOIN customer c ON c.id = a.customer_id WHERE a.id = ?",
                (promise.account_id,),
            ).one()
        assert row[1] == name and row[2].startswith(f"{bucket} · {dpd} d · $")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionForm))
        form = app.screen
        assert app.focused is form.query_one("#decision-reason", Input)
        await pilot.press(*"corto", "ctrl+s")
        await wait_for(pilot, lambda: "al menos 10" in str(form.query_one(".form-check", Static).render()))
        form.query_one("#decision-choice", Select).value = "approve"
        form.query_one("#decision-reason", Input).value = "nuevo empleo, paga en quincena"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen and screen.query_one(DataTable).row_count == 0)
        assert "nada pendiente" in str(screen.query_one("#approvals-heading", Static).render())
    report = station.round()
    assert report.decided == 1
    with station.cache.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT sync_state FROM promise WHERE id = ?", (promise.id,)).scalar_one() == "synced"
        )


def test_a_supervisor_signing_in_is_remembered_as_one(tmp_path: Path, server) -> None:
    from cobro_tui.bootstrap import open_user_cache, sign_in
    from cobro_tui.settings import load_settings
    from cobro_tui.store.sync_store import read_meta

    _, thread = server
    settings = load_settings()
    sign_in(settings, thread.url, "supervisor01", "demo")
    _, engine = open_user_cache(settings)
    meta = read_meta(engine)
    engine.dispose()
    assert meta is not None and meta.role == "supervisor" and meta.agent_id == "supervisor01"


def test_a_supervisor_reassigns_an_account_with_if_match_and_both_workstations_follow(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    _engine, thread = server
    first = make_station(tmp_path, "first", thread.url, "agente01", clock, policy)
    second = make_station(tmp_path, "second", thread.url, "agente02", clock, policy)
    assert first.round().ok and second.round().ok
    account_id = first.accounts()[0][0]
    assert account_id not in dict(second.accounts())
    supervisor = auth_headers(thread.url, "supervisor01")
    where = f"{thread.url}/v1/accounts/{account_id}/assignment"
    assert httpx.get(where, headers=auth_headers(thread.url, "agente01")).status_code == 403
    read = httpx.get(where, headers=supervisor)
    assert read.json()["agent"] == "agente01" and read.headers["ETag"] == f'"{read.json()["version"]}"'
    assert httpx.put(where, json={"agent": "agente02"}, headers=supervisor).status_code == 428  # no If-Match
    stale = httpx.put(
        where, json={"agent": "agente02"}, headers={**supervisor, "If-Match": f'"{read.json()["version"] - 1}"'}
    )
    assert stale.status_code == 412 and stale.json()["details"]["current_version"] == read.json()["version"]
    nobody = httpx.put(where, json={"agent": "supervisor01"}, headers={**supervisor, "If-Match": read.headers["ETag"]})
    assert nobody.status_code == 422
    moved = httpx.put(where, json={"agent": "agente02"}, headers={**supervisor, "If-Match": read.headers["ETag"]})
    assert moved.status_code == 200 and moved.json()["agent"] == "agente02"
    assert first.round().revoked == 1 and account_id not in dict(first.accounts())
    assert second.round().ok and account_id in dict(second.accounts())
    again = httpx.put(where, json={"agent": "agente01"}, headers={**supervisor, "If-Match": read.headers["ETag"]})
    assert again.status_code == 412  # the version moved with the reassignment


async def test_a_supervisor_moves_marked_accounts_from_the_team_screen_and_both_workstations_follow(
    tmp_path: Path, server, clock: FixedClock, policy: Policy
) -> None:
    from textual.widgets import Select, Static
    from ui_support import supervisor_app, text_of, wait_for

    from cobro_tui.ui.screens.reassign import AgentAccountsScreen, ReassignForm
    from cobro_tui.ui.screens.team import TeamScreen

    _engine, thread = server
    first = make_station(tmp_path, "first", thread.url, "agente01", clock, policy)
    second = make_station(tmp_path, "second", thread.url, "agente02", clock, policy)
    assert first.round().ok and second.round().ok
    app = supervisor_app(thread.url, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.view is not None)
        await pilot.press("enter")  # the first row: agente01
        await wait_for(pilot, lambda: isinstance(app.screen, AgentAccountsScreen) and bool(app.screen.accounts))
        screen = app.screen
        assert screen.agent == "agente01" and set(screen.accounts) == {a for a, _ in first.accounts()}
        chosen = list(screen.accounts)[:3]
        await pilot.press("space", "space", "space")
        assert screen.marked == set(chosen)
        assert "3 marcadas" in str(screen.query_one("#agent-accounts-heading", Static).render())
        # Meanwhile the agent works the third account: it changes on the server after the list was read.
        first.log_contact(next(a for a in first.accounts() if a[0] == chosen[2]), "NC")
        assert first.round().ok
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReassignForm))
        assert app.screen.query_one("#reassign-to", Select).value == "agente02"
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: app.screen is screen and chosen[0] not in screen.accounts and bool(screen.accounts)
        )
        said = [n.message for n in app._notifications]
        assert any("2 cuentas pasaron a agente02" in m and "1 cambiaron desde que se leyeron" in m for m in said)
        assert chosen[2] in screen.accounts and not screen.marked  # the stale one stayed, read again
        await pilot.press("f1")  # the keys of this screen, as in the agent's app
        from cobro_tui.ui.screens.help import HelpScreen

        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        listed = text_of(app.screen.query_one("#help-keys", Static))
        assert "Marcar todas" in listed and "Reasignar" in listed
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("a")  # every account of the agent, then none
        assert screen.marked == set(screen.accounts) and f"{len(screen.accounts)} marcadas" in str(
            screen.query_one("#agent-accounts-heading", Static).render()
        )
        await pilot.press("a")
        assert not screen.marked
        await pilot.press("c")
        await wait_for(pilot, lambda: (tmp_path / "kpi" / "accounts_agente01.csv").exists())
    assert first.round().revoked == 2
    mine = {a for a, _ in first.accounts()}
    assert chosen[2] in mine and not {chosen[0], chosen[1]} & mine
    assert second.round().ok and {chosen[0], chosen[1]} <= {a for a, _ in second.accounts()}


def test_a_cancellation_waits_behind_its_held_promise_and_runs_once_it_is_approved(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    engine, thread = server
    station, account_id, promise = _held_promise(tmp_path, server, clock, policy)
    customer_id = dict(station.accounts())[account_id]
    other = next(a for a, _ in station.accounts() if a != account_id)
    contact: dict[str, object] = {
        "id": new_id(),
        "account_id": account_id,
        "customer_id": customer_id,
        "contact_point_id": None,
        "channel": "voice",
        "direction": "outbound",
        "started_at": NOW.isoformat(),
        "ended_at": None,
        "result_code": "NC",
        "problem_code": None,
        "circumstance": "",
        "resolution": "",
        "notes": "",
        "script_steps": [],
    }
    cancel, logged, elsewhere = push_commands(
        station,
        engine,
        ("promise.cancel@1", {"promise_id": promise.id}),
        ("contact.log@1", contact),
        ("note.add@1", {"id": new_id(), "account_id": other, "text": "otra cuenta"}),
    )
    # The cancellation waits for the decision on its promise; the contact (a fact) and the other account do not.
    assert cancel["status"] == "deferred" and cancel["reason"]["code"] == "BLOCKED_BY"
    assert "oferta anterior de esta cuenta" in cancel["reason"]["message"]
    assert logged["status"] == "applied" and elsewhere["status"] == "applied"
    supervisor = auth_headers(thread.url, "supervisor01")
    inbox = httpx.get(f"{thread.url}/v1/approvals", headers=supervisor).json()
    assert [item["mutation_id"] for item in inbox] == [
        next(i["mutation_id"] for i in inbox)
    ]  # only the offer is decided
    decided = httpx.post(
        f"{thread.url}/v1/approvals/{inbox[0]['mutation_id']}",
        headers=supervisor,
        json={"decision": "approve", "reason": "nuevo empleo, paga en quincena"},
    )
    assert decided.json()["status"] == "applied"
    # The promise was created, then the cancellation ran in its turn.
    with engine.connect() as conn:
        assert get_doc(conn, "promise", promise.id).data["status"] == "cancelled"  # type: ignore[union-attr]
    assert station.sync.api.verdict(cancel["mutation_id"])["status"] == "applied"
    report = station.round()
    assert report.decided == 1  # the promise's verdict, read again; the feed brings it cancelled
    with station.cache.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT status FROM promise WHERE id = ?", (promise.id,)).scalar_one() == "cancelled"
        )
    everything = httpx.get(f"{thread.url}/v1/approvals", params={"status": "all"}, headers=supervisor).json()
    assert {i["mutation_id"]: i["status"] for i in everything}[cancel["mutation_id"]] == "released"


def test_a_second_offer_behind_a_denied_one_is_judged_then_and_may_wait_for_a_decision_itself(
    tmp_path: Path, server, clock: FixedClock, policy: Policy
) -> None:
    engine, thread = server
    station, _account_id, promise = _held_promise(tmp_path, server, clock, policy)
    supervisor = auth_headers(thread.url, "supervisor01")
    first = httpx.get(f"{thread.url}/v1/approvals", headers=supervisor).json()[0]
    again = {**first["args"], "id": new_id()}  # the agent promises again on the same account, still offline
    (second,) = push_commands(station, engine, ("promise.create@1", again))
    assert second["status"] == "deferred" and second["reason"]["code"] == "BLOCKED_BY"
    httpx.post(
        f"{thread.url}/v1/approvals/{first['mutation_id']}",
        headers=supervisor,
        json={"decision": "deny", "reason": "ya incumplió dos veces este mes"},
    ).raise_for_status()
    # Judged once the first was denied: two broken promises still send it to a supervisor.
    verdict = station.sync.api.verdict(second["mutation_id"])
    assert verdict["status"] == "deferred" and verdict["reason"]["code"] == "NEEDS_APPROVAL"
    inbox = httpx.get(f"{thread.url}/v1/approvals", headers=supervisor).json()
    assert [i["mutation_id"] for i in inbox] == [second["mutation_id"]]
    with engine.connect() as conn:
        assert get_doc(conn, "promise", promise.id) is None and get_doc(conn, "promise", again["id"]) is None


def test_held_verdicts_are_read_again_many_at_a_time_and_only_the_agents_own(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    _engine, thread = server
    station, _, _ = _held_promise(tmp_path, server, clock, policy)
    with station.cache.connect() as conn:
        held = conn.exec_driver_sql("SELECT mutation_id FROM outbox WHERE state = 'deferred'").scalars().all()
    assert len(held) == 1
    found = station.sync.api.verdicts([*held, "no-such-mutation"])
    assert [(v["mutation_id"], v["status"]) for v in found] == [(held[0], "deferred")]
    other = httpx.post(
        f"{thread.url}/v1/mutations/verdicts", json={"mutation_ids": held}, headers=auth_headers(thread.url, "agente02")
    )
    assert other.status_code == 200 and other.json() == []  # another agent's items are not theirs to read
    assert (
        httpx.post(
            f"{thread.url}/v1/mutations/verdicts",
            json={"mutation_ids": []},
            headers=auth_headers(thread.url, "agente01"),
        ).status_code
        == 422
    )


async def test_a_large_book_shows_its_most_overdue_accounts_and_a_marks_every_one(
    tmp_path: Path,
    server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from textual.widgets import DataTable, Static
    from ui_support import supervisor_app, wait_for

    from cobro_tui.ui.screens import reassign
    from cobro_tui.ui.screens.reassign import AgentAccountsScreen
    from cobro_tui.ui.screens.team import TeamScreen

    monkeypatch.setattr(reassign, "SHOWN", 2)  # the test portfolio's books are small: draw two rows of each
    _, thread = server
    app = supervisor_app(thread.url, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.view is not None)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AgentAccountsScreen) and bool(app.screen.accounts))
        screen = app.screen
        assert screen.query_one(DataTable).row_count == 2 < len(screen.accounts)
        dpd = [a.dpd for a in screen.accounts.values()]
        assert [int(screen.query_one(DataTable).get_row_at(i)[4]) for i in range(2)] == sorted(dpd, reverse=True)[:2]
        heading = screen.query_one("#agent-accounts-heading", Static)
        assert "Se muestran las 2 más atrasadas" in str(heading.render())
        await pilot.press("a")
        assert screen.marked == set(screen.accounts) and f"{len(screen.accounts)} marcadas" in str(heading.render())


def test_an_agent_cancels_a_promise_still_held_and_both_are_settled_in_order(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.settings import load_settings

    engine, thread = server
    station, account_id, promise = _held_promise(tmp_path, server, clock, policy)
    ws = build_workstation(station.cache, load_settings(), clock, policy, "agente01", "live")
    assert ws.promises.cancel(account_id).id == promise.id  # the debtor calls back: it will not be paid that way
    report = station.round()
    assert report.held == 1  # the cancellation waits behind its promise
    supervisor = auth_headers(thread.url, "supervisor01")
    held = httpx.get(f"{thread.url}/v1/approvals", headers=supervisor).json()
    assert [h["name"] for h in held] == ["promise.create@1"]  # the supervisor decides the offer only
    httpx.post(
        f"{thread.url}/v1/approvals/{held[0]['mutation_id']}",
        headers=supervisor,
        json={"decision": "approve", "reason": "aprobada, el deudor la cancela luego"},
    ).raise_for_status()
    report = station.round()
    assert report.decided == 2  # the promise applied, then its cancellation
    with station.cache.connect() as conn:
        status, state = conn.exec_driver_sql("SELECT status, sync_state FROM promise WHERE id = ?", (promise.id,)).one()
    assert (status, state) == ("cancelled", "synced")
    with engine.connect() as conn:
        assert get_doc(conn, "promise", promise.id).data["status"] == "cancelled"  # type: ignore[union-attr]
