"""CSP/1 against a real uvicorn server on loopback, through a fault proxy: nothing lost, nothing twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import NOW
from sqlalchemy import Engine, func, select, update
from support.fault_proxy import FaultProxy
from sync_support import Station, make_station, running_server, server_view

from cobro_tui.clock import FixedClock
from cobro_tui.policy import Policy
from cobro_tui.server.assign import reassign
from cobro_tui.server.run import ServerThread
from cobro_tui.server.schema import entities, meta, mutation_log


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Engine, ServerThread]]:
    with running_server(tmp_path, accounts=400, seed=3) as running:
        yield running


@pytest.fixture
def proxy(server: tuple[Engine, ServerThread]) -> Iterator[FaultProxy]:
    fault = FaultProxy(server[1].port)
    yield fault
    fault.close()


@pytest.fixture
def station(tmp_path: Path, proxy: FaultProxy, clock: FixedClock, policy: Policy) -> Station:
    return make_station(tmp_path, "a1", proxy.url, "agente01", clock, policy)


def _count(server: Engine, kind: str) -> int:
    with server.connect() as conn:
        return conn.execute(select(func.count()).select_from(entities).where(entities.c.kind == kind)).scalar_one()


def test_first_sync_brings_exactly_the_agents_portfolio(server, station: Station) -> None:
    report = station.round()
    assert report.ok, report.error
    assert report.snapshot_entities > 0
    assert station.view() == server_view(server[0], "agente01")
    assert all(agent == "agente01" for agent in _agents(station))
    assert station.round().pulled == 0  # nothing new: the cursor is current


def _agents(station: Station) -> set[str]:
    with station.cache.connect() as conn:
        return set(conn.exec_driver_sql("SELECT DISTINCT assigned_agent FROM account").scalars())


def test_offline_work_reaches_the_server_once_when_it_returns(server, proxy: FaultProxy, station: Station) -> None:
    station.round()
    account = station.accounts()[0]
    before = _count(server[0], "contact_attempt")
    proxy.mode = "refuse"
    logged = [station.log_contact(account) for _ in range(3)]
    report = station.round()
    assert not report.ok and "did not answer" in (report.error or "")
    assert [state for _, state, _ in station.outbox()] == ["pending"] * 3
    proxy.mode = "pass"
    report = station.round()
    assert report.ok and report.applied == 3
    assert _count(server[0], "contact_attempt") == before + 3
    with station.cache.connect() as conn:
        states = set(
            conn.exec_driver_sql(
                f"SELECT sync_state FROM contact_attempt WHERE id IN ({','.join('?' * 3)})",
                tuple(c.attempt.id for c in logged),
            ).scalars()
        )
    assert states == {"synced"}
    assert station.view() == server_view(server[0], "agente01")


@pytest.mark.parametrize("fault", ["drop_response", "cut_response", "reset", "cut_request", "delay_past_timeout"])
def test_any_broken_exchange_is_retried_with_the_same_ids_and_recorded_once(
    server, proxy: FaultProxy, station: Station, fault: str
) -> None:
    station.round()
    account = station.accounts()[1]
    before = _count(server[0], "contact_attempt")
    for _ in range(4):
        station.log_contact(account)
    proxy.mode, proxy.delay_s = ("delay", 7.0) if fault == "delay_past_timeout" else (fault, 0.0)
    assert not station.round().ok
    proxy.mode = "pass"
    for _ in range(3):
        report = station.round()
        if report.ok:
            break
    assert report.ok, report.error
    assert _count(server[0], "contact_attempt") == before + 4
    with server[0].connect() as conn:
        assert conn.execute(select(func.count()).select_from(mutation_log)).scalar_one() == 4
    assert {state for _, state, _ in station.outbox()} == {"applied"}
    assert station.view() == server_view(server[0], "agente01")


def test_duplicate_and_concurrent_delivery_gets_one_verdict(server, station: Station) -> None:
    station.round()
    account = station.accounts()[2]
    for _ in range(5):
        station.log_contact(account)
    from cobro_tui.store.sync_store import take_batch

    batch = take_batch(station.cache, 100)
    body = {
        "device_id": station.device.device_id,
        "device_epoch": 1,
        "client_time": NOW.isoformat(),
        "mutations": [
            {
                "mutation_id": p.mutation_id,
                "client_seq": p.client_seq,
                "name": p.name,
                "args": p.args,
                "occurred_at_client": p.occurred_at,
                "observed_cursor": p.observed_cursor,
                "base_version": p.base_version,
            }
            for p in batch
        ],
    }
    answers: list[dict] = []

    def push() -> None:
        try:
            answers.append(station.sync.api.push(body))
        except Exception as exc:  # a concurrent push may be told to wait; it must never double-apply
            answers.append({"error": str(exc)})

    threads = [threading.Thread(target=push) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    verdicts: dict[str, set[tuple[str, int | None]]] = {}
    for answer in answers:
        for result in answer.get("results", []):
            verdicts.setdefault(result["mutation_id"], set()).add((result["status"], result["server_seq"]))
    assert all(len(v) == 1 for v in verdicts.values())  # the same verdict however often it is asked
    with server[0].connect() as conn:
        assert conn.execute(select(func.count()).select_from(mutation_log)).scalar_one() == 5
    assert station.round().ok
    assert station.view() == server_view(server[0], "agente01")


def test_a_rejected_promise_stays_visible_with_its_reason(server, station: Station) -> None:
    station.round()
    account_id = station.accounts()[3][0]
    first, _ = station.promise(account_id, 300)
    second, _ = station.promise(account_id, 400)
    report = station.round()
    assert report.applied == 1 and report.rejected == 1
    with station.cache.connect() as conn:
        states: dict[str, str] = dict(
            conn.exec_driver_sql("SELECT id, sync_state FROM promise WHERE id IN (?, ?)", (first.id, second.id)).all()
        )
    assert states == {first.id: "synced", second.id: "rejected"}
    rejected = [verdict for _, state, verdict in station.outbox() if state == "rejected"]
    assert rejected[0]["reason"]["code"] == "PROMISE_OVERLAP"
    assert "promesa abierta" in rejected[0]["reason"]["message"]
    assert station.round().ok  # a rejection does not wedge the queue


def test_reassignment_while_the_agent_is_offline(
    tmp_path: Path,
    server,
    proxy: FaultProxy,
    station: Station,
    clock: FixedClock,
    policy: Policy,
) -> None:
    other = make_station(tmp_path, "a2", server[1].url, "agente02", clock, policy)
    station.round()
    other.round()
    account = station.accounts()[0]
    proxy.mode = "refuse"
    station.log_contact(account, "PP")
    promise, _ = station.promise(account[0], 250)
    reassign(server[0], account[0], "agente02", NOW)
    proxy.mode = "pass"
    report = station.round()
    assert report.ok and report.revoked == 1
    verdicts = [verdict for _, _, verdict in station.outbox() if verdict]
    # The contact is a fact of a moment the agent held the account: recorded, with a word that it moved.
    # The promise is an intention: only whoever holds the account now may take one.
    assert [v["status"] for v in verdicts] == ["applied_with_warnings", "rejected"]
    assert verdicts[0]["warnings"][0]["code"] == "ACCOUNT_REASSIGNED"
    assert verdicts[1]["reason"]["code"] == "ACCOUNT_REASSIGNED"
    assert account[0] not in dict(station.accounts())
    assert station.view() == server_view(server[0], "agente01")
    assert other.round().ok
    assert account[0] in dict(other.accounts())
    assert other.view() == server_view(server[0], "agente02")
    with other.cache.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM promise WHERE id = ?", (promise.id,)).scalar() == 0
    # A first sync after the move brings the account without what only the server keeps about it.
    fresh = make_station(tmp_path, "a2-fresh", server[1].url, "agente02", clock, policy)
    fresh.sync.api.register(fresh.device.device_id, 1, 1)
    page = json.loads(fresh.sync.api.snapshot_text(None, 20000))
    moved = [e["data"] for e in page["entities"] if e["id"] == account[0]]
    assert moved and moved[0]["assigned_agent"] == "agente02" and not any(k.startswith("_") for k in moved[0])
    assert fresh.round().ok and fresh.view() == other.view()


def test_an_opt_out_arriving_while_a_promise_is_pending(
    tmp_path: Path,
    server,
    station: Station,
    clock: FixedClock,
    policy: Policy,
) -> None:
    from cobro_tui.domain.ids import new_id
    from cobro_tui.domain.models import Restriction, RestrictionKind
    from cobro_tui.store.actions import record_restriction

    second = make_station(tmp_path, "a1-desk2", server[1].url, "agente01", clock, policy)
    station.round()
    second.round()
    account_id, customer_id = station.accounts()[4]
    promise, _ = station.promise(account_id, 200)
    with second.cache.connect() as conn:
        point = conn.exec_driver_sql(
            "SELECT id FROM contact_point WHERE customer_id = ? LIMIT 1", (customer_id,)
        ).scalar_one()
    opt_out = Restriction(
        id=new_id(),
        customer_id=customer_id,
        kind=RestrictionKind.OPT_OUT,
        created_at=NOW,
        source="debtor",
        contact_point_id=point,
    )
    record_restriction(
        second.cache, opt_out, actor="agente01", device=second.device, at=NOW, config_hash=policy.config_hash
    )
    with second.cache.connect() as conn:  # effective on that desk at once, before any sync
        assert conn.exec_driver_sql("SELECT opted_out FROM contact_point WHERE id = ?", (point,)).scalar_one() == 1
    assert second.round().ok
    report = station.round()
    assert report.ok and report.applied == 1
    with station.cache.connect() as conn:
        assert conn.exec_driver_sql("SELECT opted_out FROM contact_point WHERE id = ?", (point,)).scalar_one() == 1
        assert (
            conn.exec_driver_sql("SELECT sync_state FROM promise WHERE id = ?", (promise.id,)).scalar_one() == "synced"
        )
    assert station.view() == server_view(server[0], "agente01")


def test_a_client_clock_hours_off_changes_nothing_that_matters(tmp_path: Path, server, policy: Policy) -> None:
    from datetime import timedelta

    skewed = FixedClock(NOW - timedelta(hours=7))
    station = make_station(tmp_path, "skewed", server[1].url, "agente03", skewed, policy)
    assert station.round().ok
    station.log_contact(station.accounts()[0])
    assert station.round().applied == 1
    assert station.view() == server_view(server[0], "agente03")


def test_a_reset_order_takes_a_new_snapshot_and_keeps_the_outbox(server, station: Station) -> None:
    station.round()
    logged = station.log_contact(station.accounts()[0])
    with server[0].begin() as conn:  # the server's history was rebuilt (say, restored from a backup)
        conn.execute(update(meta).where(meta.c.key == "epoch").values(value="erestored"))
    report = station.round()
    assert report.ok and report.applied == 1 and report.snapshot_entities > 0
    assert any("snapshot" in note for note in report.notes)
    with station.cache.connect() as conn:
        assert conn.exec_driver_sql("SELECT cursor FROM sync_meta").scalar_one().startswith("erestored.")
        assert (
            conn.exec_driver_sql(
                "SELECT sync_state FROM contact_attempt WHERE id = ?", (logged.attempt.id,)
            ).scalar_one()
            == "synced"
        )
    assert station.view() == server_view(server[0], "agente01")


def test_roles_and_ownership_are_decided_by_the_server(server, station: Station) -> None:
    url = server[1].url
    supervisor = httpx.post(f"{url}/v1/auth/login", json={"username": "supervisor01", "password": "demo"}).json()[
        "token"
    ]
    answer = httpx.get(f"{url}/v1/changes", headers={"Authorization": f"Bearer {supervisor}"})
    assert answer.status_code == 403 and answer.json()["code"] == "AGENTS_ONLY"
    assert httpx.get(f"{url}/v1/changes").status_code == 401
    assert httpx.post(f"{url}/v1/auth/login", json={"username": "agente01", "password": "nope"}).status_code == 401
    station.round()
    with server[0].connect() as conn:
        foreign = conn.execute(
            select(entities.c.id, entities.c.customer_id)
            .where(entities.c.kind == "account", entities.c.agent == "agente05")
            .limit(1)
        ).one()
    # The workstation would refuse it locally (the account is not in its cache); a hand-made push must
    # be refused by the server too.
    contact = {
        "id": "c-foreign",
        "account_id": foreign.id,
        "customer_id": foreign.customer_id,
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
    pushed = station.sync.api.push(
        {
            "device_id": station.device.device_id,
            "device_epoch": 1,
            "client_time": NOW.isoformat(),
            "mutations": [
                {
                    "mutation_id": "m-foreign",
                    "client_seq": 1,
                    "name": "contact.log@1",
                    "args": contact,
                    "occurred_at_client": NOW.isoformat(),
                }
            ],
        }
    )
    assert pushed["results"][0]["status"] == "rejected"
    assert pushed["results"][0]["reason"]["code"] == "NOT_YOUR_ACCOUNT"
    assert (("account", foreign.id)) not in station.view()


def test_an_id_that_could_break_a_page_is_refused(server, station: Station) -> None:
    station.round()
    account_id, _customer_id = station.accounts()[0]
    note = {"id": 'n"1', "account_id": account_id, "text": "hola"}
    answer = station.sync.api.push(
        {
            "device_id": station.device.device_id,
            "device_epoch": 1,
            "client_time": NOW.isoformat(),
            "mutations": [
                {
                    "mutation_id": "m-quote",
                    "client_seq": 1,
                    "name": "note.add@1",
                    "args": note,
                    "occurred_at_client": NOW.isoformat(),
                }
            ],
        }
    )
    # The command gets a verdict of its own (the rest of the outbox is not held up), and nothing is stored.
    verdict = answer["results"][0]
    assert verdict["status"] == "rejected" and verdict["reason"]["code"] == "INVALID_ARGUMENTS"
    assert "note.add@1: id" in verdict["reason"]["message"]
    assert station.round().ok


def test_a_cache_restored_from_an_older_copy_continues_under_a_new_epoch(
    server, station: Station, tmp_path: Path
) -> None:
    import shutil

    from sync_support import reopen

    station.round()
    accounts = station.accounts()
    station.log_contact(accounts[0])
    assert station.round().ok
    station.cache.dispose()
    shutil.copy(station.cache_file.path, tmp_path / "backup.db")
    station = reopen(station)
    after_backup = station.log_contact(accounts[1])
    assert station.round().ok
    station.cache.dispose()
    for suffix in ("", "-wal", "-shm"):  # the agent's PC is restored from last night's copy
        Path(f"{station.cache_file.path}{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "backup.db", station.cache_file.path)
    station = reopen(station)
    fresh = [station.log_contact(accounts[2]), station.log_contact(accounts[3])]
    report = station.round()
    assert report.ok, report.error
    assert any("epoch 2" in note for note in report.notes)
    with server[0].connect() as conn:
        contacts = set(conn.execute(select(entities.c.id).where(entities.c.kind == "contact_attempt")).scalars())
        assert conn.execute(select(func.count()).select_from(mutation_log)).scalar_one() == 4
    assert {after_backup.attempt.id, *(f.attempt.id for f in fresh)} <= contacts
    assert station.view() == server_view(server[0], "agente01")


def test_a_server_that_forgot_the_device_is_told_again_and_nothing_is_lost(server, station: Station) -> None:
    from cobro_tui.server.schema import sync_clients

    station.round()
    accounts = station.accounts()
    station.log_contact(accounts[0])
    assert station.round().ok
    with server[0].begin() as conn:  # rebuilt server: the device table is empty again
        conn.execute(sync_clients.delete())
    later = station.log_contact(accounts[1])
    report = station.round()
    assert report.ok, report.error
    assert any("registered again" in note for note in report.notes)
    with server[0].connect() as conn:
        assert conn.execute(select(func.count()).select_from(mutation_log)).scalar_one() == 2
        assert conn.execute(select(entities.c.id).where(entities.c.id == later.attempt.id)).scalar_one()
    assert station.view() == server_view(server[0], "agente01")
