"""The same server code on PostgreSQL: sync, faults and reassignment give the same guarantees."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import NOW
from sqlalchemy import func, select
from support.fault_proxy import FaultProxy
from support.postgres import postgres_cluster
from sync_support import make_station, server_view

from cobro_tui.clock import FixedClock
from cobro_tui.policy import Policy
from cobro_tui.server.assign import reassign
from cobro_tui.server.run import ServerThread, free_port, prepare
from cobro_tui.server.schema import entities, mutation_log


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("initdb") is None and not os.environ.get("CI"),
    reason="needs PostgreSQL's server tools (initdb, pg_ctl); .ci/run installs them, so CI always runs this",
)
def test_the_server_on_postgresql_keeps_every_promise_of_the_protocol(
    tmp_path: Path, clock: FixedClock, policy: Policy
) -> None:
    with postgres_cluster(free_port()) as url:
        engine = prepare(url, FixedClock(NOW), demo_accounts=200, seed=8)
        assert engine.dialect.name == "postgresql"
        with ServerThread(engine, FixedClock(NOW)) as server:
            proxy = FaultProxy(server.port)
            try:
                station = make_station(tmp_path, "pg1", proxy.url, "agente01", clock, policy)
                other = make_station(tmp_path, "pg2", server.url, "agente02", clock, policy)
                assert station.round().ok and other.round().ok
                assert station.view() == server_view(engine, "agente01")
                accounts = station.accounts()
                for account in accounts[:5]:
                    station.log_contact(account)
                station.promise(accounts[0][0], 300)
                station.promise(accounts[0][0], 400)  # overlaps: rejected
                proxy.mode = "drop_response"
                assert not station.round().ok
                proxy.mode = "pass"
                report = station.round()
                assert report.ok, report.error
                reassign(engine, accounts[1][0], "agente02", NOW)
                assert station.round().ok and other.round().ok
                with engine.connect() as conn:
                    assert conn.execute(select(func.count()).select_from(mutation_log)).scalar_one() == 7
                    statuses: dict[str, int] = dict(
                        conn.execute(select(mutation_log.c.status, func.count()).group_by(mutation_log.c.status)).all()
                    )
                    owner = conn.execute(select(entities.c.agent).where(entities.c.id == accounts[1][0])).scalar_one()
                assert statuses.get("rejected") == 1 and owner == "agente02"
                assert station.view() == server_view(engine, "agente01")
                assert other.view() == server_view(engine, "agente02")
            finally:
                proxy.close()
        engine.dispose()
