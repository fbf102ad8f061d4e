"""The audit chain anchored off the workstation (issue #14): its events reach the server with each
sync, the server refuses a chain that does not extend the one it keeps, a truncated tail or a chain
rebuilt from scratch raises an alarm there, and reviewers read each device's chain and its check."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import cli_env
from sqlalchemy import select
from sync_support import NOW, Station, auth_headers, make_station, running_server

from cobro_tui.domain.audit import GENESIS, event_body, link_hash
from cobro_tui.server.auth import add_user
from cobro_tui.server.db import write_tx
from cobro_tui.server.schema import audit_chain, security_events
from cobro_tui.store.sync_store import audit_anchor


@pytest.fixture
def server(tmp_path: Path) -> Iterator:
    with running_server(tmp_path, accounts=30, seed=4) as (engine, thread):
        with write_tx(engine) as conn:
            add_user(conn, "supervisor_sur", "demo", "supervisor", team="sur")
        yield engine, thread


@pytest.fixture
def station(tmp_path: Path, server, clock, policy) -> Station:
    station = make_station(tmp_path, "a1", server[1].url, "agente01", clock, policy)
    assert station.round().ok
    for account in station.accounts()[:3]:
        station.log_contact(account)
    assert station.round().ok
    return station


def _local(station: Station) -> list[tuple[int, str, str]]:
    with station.cache.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT seq, hash, body FROM audit_event ORDER BY seq")]


def _codes(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(security_events.c.code)).scalars())


def test_each_sync_takes_the_new_events_to_the_server_which_keeps_them_as_sent(server, station: Station) -> None:
    engine, thread = server
    local = _local(station)
    assert len(local) == 3
    with engine.connect() as conn:
        kept = [
            tuple(r)
            for r in conn.execute(
                select(audit_chain.c.seq, audit_chain.c.hash, audit_chain.c.body)
                .where(audit_chain.c.device_id == station.device.device_id)
                .order_by(audit_chain.c.seq)
            )
        ]
    assert kept == local
    anchor = audit_anchor(station.cache)
    assert (anchor.seq, anchor.hash, anchor.alarm) == (3, local[-1][1], None)
    device = httpx.get(
        f"{thread.url}/v1/audit/devices/{station.device.device_id}", headers=auth_headers(thread.url, "supervisor01")
    ).json()
    assert device["head_seq"] == 3 and device["intact"] is True and device["alarm"] is None
    events = httpx.get(
        f"{thread.url}/v1/audit/devices/{station.device.device_id}/events",
        headers=auth_headers(thread.url, "auditor01"),
    ).json()
    assert [e["body"]["type"] for e in events] == ["contact.logged"] * 3
    # Another team's supervisor, and the agent themself, read no more than they should.
    south = auth_headers(thread.url, "supervisor_sur")
    assert httpx.get(f"{thread.url}/v1/audit/devices/{station.device.device_id}", headers=south).status_code == 403
    assert station.sync.api.audit_device(station.device.device_id)["head_seq"] == 3
    assert (
        httpx.get(
            f"{thread.url}/v1/audit/devices/{station.device.device_id}/events",
            headers=auth_headers(thread.url, "agente01"),
        ).status_code
        == 403
    )
    other = httpx.get(
        f"{thread.url}/v1/audit/devices/{station.device.device_id}", headers=auth_headers(thread.url, "agente02")
    )
    assert other.status_code == 404
    assert station.round().ok and len(_local(station)) == 3  # nothing new: nothing sent twice


def _tamper(station: Station, sql: str, *params: object) -> None:
    with station.cache.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_no_delete")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_no_update")
        conn.exec_driver_sql(sql, params)


def test_a_truncated_tail_is_found_by_the_server_and_kept_there(server, station: Station) -> None:
    engine, thread = server
    _tamper(station, "DELETE FROM audit_event WHERE seq > 1")
    report = station.round()
    assert report.ok  # the work still syncs
    assert "truncated" in " ".join(report.notes)
    assert "AUDIT_TRUNCATED" in _codes(engine)
    device = httpx.get(f"{thread.url}/v1/audit/devices", headers=auth_headers(thread.url, "gerente01")).json()[0]
    assert device["alarm"] == "truncated" and device["head_seq"] == 3  # the evidence is still on the server
    assert audit_anchor(station.cache).alarm == "truncated"
    station.round()
    assert _codes(engine).count("AUDIT_TRUNCATED") == 1  # an alarm once, not at every round


def test_a_chain_rebuilt_from_scratch_is_refused(server, station: Station) -> None:
    engine, _ = server
    _tamper(station, "DELETE FROM audit_event")
    prev = GENESIS
    for seq in range(1, 5):  # a longer, self-consistent chain written anew
        body = event_body(
            seq=seq,
            prev=prev,
            ts=NOW.isoformat(),
            type="contact.logged",
            actor="agente01",
            device=station.device.device_id,
            data={"n": seq},
        )
        prev = link_hash(body)
        _tamper(station, "INSERT INTO audit_event (seq, body, hash) VALUES (?, ?, ?)", seq, body, prev)
    report = station.round()
    assert report.ok and "AUDIT_CHAIN_FORKED" in " ".join(report.notes)
    assert "AUDIT_FORKED" in _codes(engine)
    with engine.connect() as conn:
        assert conn.execute(select(audit_chain.c.seq).where(audit_chain.c.seq == 4)).first() is None


def test_forged_events_are_refused(server, station: Station) -> None:
    _engine, thread = server
    head = _local(station)[-1]
    device = station.device.device_id

    def event(**changes: object) -> dict[str, object]:
        fields = {
            "seq": 4,
            "prev": head[1],
            "ts": NOW.isoformat(),
            "type": "pii.revealed",
            "actor": "agente01",
            "device": device,
            "data": {},
            **changes,
        }
        body = event_body(**fields)  # type: ignore[arg-type]
        return {"seq": fields["seq"], "hash": link_hash(body), "body": body}

    headers = auth_headers(thread.url, "agente01")
    for forged in (
        event(actor="agente02"),
        event(device="another"),
        event(prev=GENESIS),
        {**event(), "hash": "0" * 64},
        event(seq=9) | {"seq": 9},
    ):
        answer = httpx.post(
            f"{thread.url}/v1/audit/events", json={"device_id": device, "events": [forged]}, headers=headers
        )
        assert answer.status_code == 409, answer.text
    theirs = httpx.post(
        f"{thread.url}/v1/audit/events",
        json={"device_id": device, "events": [event()]},
        headers=auth_headers(thread.url, "agente02"),
    )
    assert theirs.status_code == 403  # another agent's device
    assert (
        httpx.post(
            f"{thread.url}/v1/audit/events", json={"device_id": device, "events": [event()]}, headers=headers
        ).json()["head_seq"]
        == 4
    )


def test_the_valid_events_before_a_forged_one_are_kept_and_the_head_moves_with_them(server, station: Station) -> None:
    engine, thread = server
    device = station.device.device_id
    prev, events = _local(station)[-1][1], []
    for seq in (4, 5):
        body = event_body(
            seq=seq, prev=prev, ts=NOW.isoformat(), type="pii.revealed", actor="agente01", device=device, data={}
        )
        prev = link_hash(body)
        events.append({"seq": seq, "hash": prev, "body": body})
    forged = event_body(
        seq=6, prev=prev, ts=NOW.isoformat(), type="pii.revealed", actor="agente02", device=device, data={}
    )
    headers = auth_headers(thread.url, "agente01")
    answer = httpx.post(
        f"{thread.url}/v1/audit/events",
        headers=headers,
        json={"device_id": device, "events": [*events, {"seq": 6, "hash": link_hash(forged), "body": forged}]},
    )
    assert answer.status_code == 409 and answer.json()["details"]["head_seq"] == 5
    with engine.connect() as conn:
        assert list(
            conn.execute(
                select(audit_chain.c.seq).where(audit_chain.c.device_id == device).order_by(audit_chain.c.seq)
            ).scalars()
        ) == [1, 2, 3, 4, 5]
    again = httpx.post(f"{thread.url}/v1/audit/events", headers=headers, json={"device_id": device, "events": events})
    assert again.status_code == 200 and again.json()["head_seq"] == 5  # a resend of what is kept: taken, once
    twice = httpx.post(
        f"{thread.url}/v1/audit/events",
        headers=headers,
        json={"device_id": device, "events": [events[0], {**events[0], "hash": "0" * 64}]},
    )
    assert twice.status_code == 409  # the same number twice, differently: refused


def _cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "cobro_tui", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=cli_env(home, COBRO_NOW=NOW.isoformat()),
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.mark.slow
def test_audit_verify_compares_with_the_server_and_says_when_it_could_not_ask(tmp_path: Path, server) -> None:
    from cobro_tui.store.engine import CacheFile

    _engine, thread = server
    assert _cli(tmp_path, "login", "--server", thread.url, "--user", "agente03", stdin="demo\n").returncode == 0
    assert _cli(tmp_path, "sync").returncode == 0
    secrets_file = json.loads((tmp_path / "keyring.json").read_text())
    (key,) = [bytes.fromhex(v) for k, v in secrets_file.items() if k.startswith("cobro-tui/cache-key:")]
    cache = CacheFile(tmp_path / "data" / "cache.db", key).open()
    from cobro_tui.clock import FixedClock
    from cobro_tui.domain.models import Channel
    from cobro_tui.policy import load_policy
    from cobro_tui.services.contacts import ContactService
    from cobro_tui.store.device import ensure_device

    contacts = ContactService(cache, FixedClock(NOW), load_policy(), ensure_device(cache, "agente03"))
    with cache.connect() as conn:
        account_id, customer_id = conn.exec_driver_sql("SELECT id, customer_id FROM account LIMIT 1").one()
    for _ in range(2):
        contacts.log(account_id=account_id, customer_id=customer_id, channel=Channel.VOICE, result_code="NC")
    assert _cli(tmp_path, "sync").returncode == 0
    intact = _cli(tmp_path, "audit", "verify")
    assert intact.returncode == 0 and "El servidor conserva 2 de estos eventos y coinciden" in intact.stdout
    with cache.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        conn.exec_driver_sql("DELETE FROM audit_event WHERE seq = 2")
    cache.dispose()
    cut = _cli(tmp_path, "audit", "verify")
    assert cut.returncode == 1 and "RECORTADA: el servidor conserva 2 eventos y esta estación solo 1" in cut.stderr
    thread.stop()  # the server is gone: the head it acknowledged still tells
    offline = _cli(tmp_path, "audit", "verify")
    assert offline.returncode == 1 and "No se pudo consultar al servidor" in offline.stdout
    assert "RECORTADA" in offline.stderr
