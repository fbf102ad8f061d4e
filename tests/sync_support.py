"""Real servers and real workstations for the sync tests: uvicorn on loopback, encrypted caches."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import NOW
from sqlalchemy import Engine, select

from cobro_tui.clock import Clock, FixedClock
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import Channel, Promise
from cobro_tui.domain.money import Money
from cobro_tui.policy import Policy
from cobro_tui.server.feed import CUSTOMER_KINDS
from cobro_tui.server.run import ServerThread, prepare
from cobro_tui.server.schema import entities
from cobro_tui.services.contacts import ContactService, LoggedContact
from cobro_tui.settings import ServerSettings
from cobro_tui.store.account_file import read_account_file
from cobro_tui.store.actions import record_promise
from cobro_tui.store.device import Device, ensure_device
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.store.outbox import OutboxItem
from cobro_tui.store.sync_store import set_server
from cobro_tui.sync.client import ApiClient
from cobro_tui.sync.engine import SyncEngine, SyncReport

CACHE_TABLES = {
    "customer": "customer",
    "contact_point": "contact_point",
    "restriction": "restriction",
    "account": "account",
    "reference": "reference",
    "payment": "payment",
    "promise": "promise",
    "payment_plan": "payment_plan",
    "contact_attempt": "contact_attempt",
    "bucket_history": "bucket_history",
    "note": "note",
}


# A whole PCR, for codes the offer policy wants it with.
PCR: dict[str, Any] = {
    "problem_code": "desempleo",
    "circumstance": "perdió el empleo en octubre",
    "resolution": "promesa de pago",
}


@dataclass
class Station:
    """One agent's workstation: its cache, its device and its sync engine (through `url`)."""

    agent: str
    cache_file: CacheFile
    cache: Engine
    device: Device
    sync: SyncEngine
    contacts: ContactService
    clock: Clock
    policy: Policy

    def round(self) -> SyncReport:
        return self.sync.run_round()

    def accounts(self) -> list[tuple[str, str]]:
        with self.cache.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql("SELECT id, customer_id FROM account ORDER BY id")]

    def log_contact(self, account: tuple[str, str], code: str = "NC") -> LoggedContact:
        # Codes the policy wants the PCR with (a promise) get one.
        pcr = PCR if code in self.policy.offers.pcr_required else {}
        return self.contacts.log(
            account_id=account[0],
            customer_id=account[1],
            channel=Channel.VOICE,
            result_code=code,
            started_at=self.clock.now() - timedelta(minutes=3),
            **pcr,
        )

    def promise(self, account_id: str, pesos: int = 500, due: date | None = None) -> tuple[Promise, OutboxItem]:
        """A promise of `pesos` (raised to the offer policy's minimum for the account, so the server takes it)."""
        file = read_account_file(self.cache, account_id)
        least = self.policy.offers.promise.minimum(file.account).centavos if file is not None else 0
        promise = Promise(
            id=new_id(),
            account_id=account_id,
            amount=Money(max(pesos * 100, least)),
            due_on=due or self.clock.now().date() + timedelta(days=5),
            channel="spei",
            created_at=self.clock.now(),
            created_by=self.agent,
            grace_days=2,
        )
        item = record_promise(
            self.cache, promise, device=self.device, at=self.clock.now(), config_hash=self.policy.config_hash
        )
        return promise, item

    def outbox(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(mutation id, state, the server's verdict or {} while none came back), in the order recorded."""
        with self.cache.connect() as conn:
            rows = conn.exec_driver_sql("SELECT mutation_id, state, verdict_json FROM outbox ORDER BY client_seq").all()
        return [(r[0], r[1], json.loads(r[2]) if r[2] else {}) for r in rows]

    def view(self) -> dict[tuple[str, str], int]:
        """(kind, id) -> server version of everything this cache mirrors. Rows the server refused or
        holds stay on the workstation until the agent acknowledges them; they are not the server's."""
        out: dict[tuple[str, str], int] = {}
        with self.cache.connect() as conn:
            for kind, table in CACHE_TABLES.items():
                for entity_id, version in conn.exec_driver_sql(
                    f"SELECT id, server_version FROM {table} WHERE sync_state NOT IN ('rejected', 'held')"
                ):
                    out[(kind, entity_id)] = version
        return out


def make_station(
    tmp_path: Path, name: str, url: str, agent: str, clock: Clock, policy: Policy, timeout: float = 5.0
) -> Station:
    cache = CacheFile(tmp_path / f"{name}.db", secrets.token_bytes(32))
    engine = cache.open()
    upgrade(engine)
    device = ensure_device(engine, agent)
    set_server(engine, url)
    token = ApiClient(url, timeout=timeout).login(agent, "demo")["token"]
    sync = SyncEngine(engine, ApiClient(url, token, device.device_id, timeout), clock)
    return Station(agent, cache, engine, device, sync, ContactService(engine, clock, policy, device), clock, policy)


def reopen(station: Station) -> Station:
    """The same workstation after its cache file was closed (and perhaps replaced) and opened again."""
    engine = station.cache_file.open()
    upgrade(engine)
    device = ensure_device(engine, station.agent)
    sync = SyncEngine(engine, station.sync.api, station.clock)
    return Station(
        station.agent,
        station.cache_file,
        engine,
        device,
        sync,
        ContactService(engine, station.clock, station.policy, device),
        station.clock,
        station.policy,
    )


@contextmanager
def running_server(
    folder: Path, accounts: int, seed: int, clock: Clock | None = None, settings: ServerSettings | None = None
) -> Iterator[tuple[Engine, ServerThread]]:
    """A seeded reference server on a loopback port, in a thread of this process."""
    engine = prepare(f"sqlite:///{folder / 'server.db'}", FixedClock(NOW), demo_accounts=accounts, seed=seed)
    try:
        with ServerThread(engine, clock or FixedClock(NOW), settings=settings) as thread:
            yield engine, thread
    finally:
        engine.dispose()


def server_view(server: Engine, agent: str) -> dict[tuple[str, str], int]:
    """(kind, id) -> version of everything the server lets `agent` see."""
    with server.connect() as conn:
        mine = select(entities.c.customer_id).where(entities.c.kind == "account", entities.c.agent == agent)
        rows = conn.execute(
            select(entities.c.kind, entities.c.id, entities.c.version).where(
                ((entities.c.kind.in_(CUSTOMER_KINDS)) & entities.c.customer_id.in_(mine))
                | ((~entities.c.kind.in_(CUSTOMER_KINDS)) & (entities.c.agent == agent))
            )
        ).all()
    return {(r.kind, r.id): r.version for r in rows}


def seen_at(now: datetime, minutes: int) -> datetime:
    return now - timedelta(minutes=minutes)


def auth_headers(url: str, user: str, password: str = "demo") -> dict[str, str]:
    """A bearer header for `user` on the server at `url` (demo users share one password)."""
    import httpx

    token = httpx.post(f"{url}/v1/auth/login", json={"username": user, "password": password}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def integration_headers(url: str, scopes: tuple[str, ...] = ("payments",), name: str = "core") -> dict[str, str]:
    """A bearer header with a machine credential for `scopes`, made by the demo's manager as an
    institution's administrator would (POST /v1/admin/integrations)."""
    import httpx

    made = httpx.post(
        f"{url}/v1/admin/integrations",
        json={"name": name, "scopes": list(scopes)},
        headers=auth_headers(url, "gerente01"),
    )
    made.raise_for_status()
    return {"Authorization": f"Bearer {made.json()['key']}"}


def push_commands(
    station: Station,
    server_engine: Engine,
    *mutations: tuple[str, dict],
    at: datetime = NOW,
) -> list[dict]:
    """Hand-made commands pushed from the station's device after what it has already pushed, as a
    workstation (or an attacker holding its token) would; the server's verdicts."""
    from cobro_tui.server.schema import sync_clients

    with server_engine.connect() as conn:
        last = conn.execute(
            select(sync_clients.c.last_client_seq).where(sync_clients.c.device_id == station.device.device_id)
        ).scalar_one()
    body = {
        "device_id": station.device.device_id,
        "device_epoch": 1,
        "client_time": at.isoformat(),
        "mutations": [
            {
                "mutation_id": new_id(),
                "client_seq": last + i,
                "name": name,
                "args": args,
                "occurred_at_client": at.isoformat(),
            }
            for i, (name, args) in enumerate(mutations, 1)
        ],
    }
    return station.sync.api.push(body)["results"]
