"""Random schedules of agent work, network faults, duplicate deliveries and reassignments; after the
network heals and sync runs to the end, nothing is lost, nothing exists twice, and each cache equals
the server's view for its agent (hypothesis stateful testing against a real server)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from conftest import NOW
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select
from support.fault_proxy import FaultProxy
from sync_support import Station, make_station, server_view

from cobro_tui.clock import FixedClock
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import Restriction, RestrictionKind
from cobro_tui.policy import load_policy
from cobro_tui.server.assign import reassign
from cobro_tui.server.run import ServerThread, prepare
from cobro_tui.server.schema import entities, mutation_log
from cobro_tui.store.actions import record_restriction

FAULTS = ("pass", "refuse", "drop_response", "cut_response", "reset", "cut_request")
AGENTS = ("agente01", "agente02")


class SyncSchedule(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="cobro-stateful-"))
        clock = FixedClock(NOW)
        self.server = prepare(f"sqlite:///{self.folder / 'server.db'}", clock, demo_accounts=60, seed=9)
        self.thread = ServerThread(self.server, clock).start()
        self.proxy = FaultProxy(self.thread.port)
        policy = load_policy()
        self.stations = [
            make_station(self.folder, f"s{n}", self.proxy.url, agent, clock, policy, timeout=3)
            for n, agent in enumerate(AGENTS)
        ]
        for station in self.stations:
            assert station.round().ok
        self.logged: set[str] = set()

    def teardown(self) -> None:
        self.proxy.close()
        self.thread.stop()
        for station in self.stations:
            station.cache.dispose()
        self.server.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _station(self, index: int) -> Station:
        return self.stations[index % len(self.stations)]

    @precondition(lambda self: True)
    @rule(which=st.integers(0, 1), pick=st.integers(0, 100), code=st.sampled_from(["NC", "PP", "BZ", "NEG"]))
    def log_contact(self, which: int, pick: int, code: str) -> None:
        station = self._station(which)
        accounts = station.accounts()
        if accounts:
            self.logged.add(station.log_contact(accounts[pick % len(accounts)], code).attempt.id)

    @rule(which=st.integers(0, 1), pick=st.integers(0, 100), pesos=st.integers(50, 900))
    def take_promise(self, which: int, pick: int, pesos: int) -> None:
        station = self._station(which)
        accounts = station.accounts()
        if accounts:
            station.promise(accounts[pick % len(accounts)][0], pesos)

    @rule(which=st.integers(0, 1), pick=st.integers(0, 100))
    def opt_out(self, which: int, pick: int) -> None:
        station = self._station(which)
        accounts = station.accounts()
        if accounts:
            customer = accounts[pick % len(accounts)][1]
            restriction = Restriction(
                id=new_id(), customer_id=customer, kind=RestrictionKind.OPT_OUT, created_at=NOW, source="debtor"
            )
            record_restriction(
                station.cache,
                restriction,
                actor=station.agent,
                device=station.device,
                at=NOW,
                config_hash=station.policy.config_hash,
            )

    @rule(fault=st.sampled_from(FAULTS))
    def network(self, fault: str) -> None:
        self.proxy.mode = fault

    @rule(which=st.integers(0, 1))
    def sync(self, which: int) -> None:
        self._station(which).round()  # may fail under a fault: that is the point

    @rule(which=st.integers(0, 1), pick=st.integers(0, 100))
    def reassign_away(self, which: int, pick: int) -> None:
        station = self._station(which)
        other = AGENTS[(which + 1) % len(AGENTS)]
        with self.server.connect() as conn:
            owned = (
                conn.execute(
                    select(entities.c.id)
                    .where(entities.c.kind == "account", entities.c.agent == station.agent)
                    .order_by(entities.c.id)
                )
                .scalars()
                .all()
            )
        if len(owned) > 2:
            reassign(self.server, owned[pick % len(owned)], other, NOW)

    @invariant()
    def outbox_items_are_never_lost(self) -> None:
        for station in self.stations:
            with station.cache.connect() as conn:
                seqs = conn.exec_driver_sql("SELECT client_seq FROM outbox ORDER BY client_seq").scalars().all()
            assert seqs == list(range(1, len(seqs) + 1))

    def heal_and_check(self) -> None:
        self.proxy.mode = "pass"
        for _ in range(3):
            for station in self.stations:
                station.round()
        total_items = 0
        for station in self.stations:
            assert station.round().ok
            states = [state for _, state, _ in station.outbox()]
            total_items += len(states)
            assert set(states) <= {"applied", "applied_with_warnings", "rejected", "deferred"}, states
            assert station.view() == server_view(self.server, station.agent)
        with self.server.connect() as conn:
            assert conn.execute(select(func.count()).select_from(mutation_log)).scalar_one() == total_items
            contacts = conn.execute(select(entities.c.id).where(entities.c.kind == "contact_attempt")).scalars().all()
        assert len(contacts) == len(set(contacts))
        assert self.logged <= set(contacts)


# Hypothesis calls teardown after each run; the final check runs there, before the server stops.
_teardown = SyncSchedule.teardown


def _checked_teardown(self: SyncSchedule) -> None:
    try:
        self.heal_and_check()
    finally:
        _teardown(self)


SyncSchedule.teardown = _checked_teardown  # type: ignore[method-assign]

TestSyncSchedule = SyncSchedule.TestCase
# Each example starts a server; no shrinking phase keeps the suite's time bounded in CI (a failure
# still prints its whole schedule and seed).
TestSyncSchedule.settings = settings(
    max_examples=8,
    stateful_step_count=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
