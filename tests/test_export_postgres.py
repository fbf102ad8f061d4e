"""The export on PostgreSQL with concurrent writers: a reader paging while several workstations and the
payments feed write never skips an event committed later with a smaller seq, nor reads one twice;
a transaction that took its seq and has not committed holds every later writer and every cursor
behind it."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import NOW
from export_support import export_headers, read_all
from support.postgres import postgres_cluster
from sync_support import integration_headers, make_station, push_commands

from cobro_tui.clock import FixedClock
from cobro_tui.domain.ids import new_id
from cobro_tui.policy import Policy
from cobro_tui.server.db import write_tx
from cobro_tui.server.export import export_event
from cobro_tui.server.feed import Tx
from cobro_tui.server.run import ServerThread, free_port, prepare

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("initdb") is None and not os.environ.get("CI"),
        reason="needs PostgreSQL's server tools (initdb, pg_ctl); .ci/run installs them, so CI always runs this",
    ),
]


def test_concurrent_writers_on_postgresql_reach_the_reader_in_commit_order_exactly_once(
    tmp_path: Path, clock: FixedClock, policy: Policy
) -> None:
    with postgres_cluster(free_port()) as url:
        engine = prepare(url, FixedClock(NOW), demo_accounts=60, seed=8)
        assert engine.dialect.name == "postgresql"
        with ServerThread(engine, FixedClock(NOW)) as server:
            crm = export_headers(server.url)
            _, start = read_all(server.url, crm)
            stations = [make_station(tmp_path, f"pg{i}", server.url, f"agente0{i}", clock, policy) for i in (1, 2, 3)]
            for station in stations:
                assert station.round().ok
            feed = integration_headers(server.url)
            done = threading.Event()
            errors: list[BaseException] = []

            def agent(station) -> None:
                try:
                    account_id = station.accounts()[0][0]
                    for _ in range(8):
                        notes = [
                            ("note.add@1", {"id": new_id(), "account_id": account_id, "text": "n"}) for _ in range(4)
                        ]
                        assert {v["status"] for v in push_commands(station, engine, *notes)} == {"applied"}
                except BaseException as exc:  # reported by the main thread
                    errors.append(exc)

            def payments() -> None:
                try:
                    account_id = stations[0].accounts()[1][0]
                    for _ in range(6):
                        body = {
                            "id": new_id(),
                            "account_id": account_id,
                            "amount_centavos": 100,
                            "paid_on": NOW.date().isoformat(),
                            "channel": "spei",
                            "reference": "SPEI",
                        }
                        assert httpx.post(f"{server.url}/v1/payments", json=body, headers=feed).status_code == 200
                except BaseException as exc:
                    errors.append(exc)

            writers = [threading.Thread(target=agent, args=(s,)) for s in stations]
            writers.append(threading.Thread(target=payments))
            seen: list[int] = []

            def reader() -> None:
                cursor = start
                try:
                    while True:
                        finished = done.is_set()
                        page = httpx.get(
                            f"{server.url}/v1/export/events", params={"cursor": cursor, "limit": 4}, headers=crm
                        ).json()
                        seen.extend(e["seq"] for e in page["events"])
                        cursor = page["next_cursor"]
                        if finished and not page["has_more"]:
                            return
                except BaseException as exc:
                    errors.append(exc)

            reading = threading.Thread(target=reader)
            reading.start()
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join()
            done.set()
            reading.join()
            assert not errors, errors
            everything, _ = read_all(server.url, crm, cursor=start)
            assert seen == [e["seq"] for e in everything]
            assert len(seen) == len(set(seen)) and seen == sorted(seen)
            assert sum(e["kind"] == "note.added" for e in everything) == 3 * 8 * 4
        engine.dispose()


def test_an_open_transaction_holds_later_writers_and_every_cursor_behind_it_on_postgresql() -> None:
    with postgres_cluster(free_port()) as url:
        engine = prepare(url, FixedClock(NOW), demo_accounts=5, seed=8)
        with ServerThread(engine, FixedClock(NOW)) as server:
            crm = export_headers(server.url)
            _, start = read_all(server.url, crm)
            slow = engine.connect().execution_options(write=True)
            slow.begin()
            first = export_event(Tx(slow, NOW), "note.added", {"id": "slow", "account_id": None, "text": "primero"})
            # A reader now sees nothing of it, and its cursor stays behind it.
            early, cursor = read_all(server.url, crm, cursor=start)
            assert early == []
            later: list[int] = []

            def fast() -> None:
                with write_tx(engine) as conn:
                    later.append(
                        export_event(
                            Tx(conn, NOW + timedelta(seconds=1)), "note.added", {"id": "fast", "account_id": None}
                        )
                    )

            writer = threading.Thread(target=fast)
            writer.start()  # waits on the counter the slow transaction holds
            still, cursor = read_all(server.url, crm, cursor=cursor)
            assert still == [] and later == []
            slow.commit()
            slow.close()
            writer.join()
            events, _ = read_all(server.url, crm, cursor=cursor)
            assert [(e["seq"], e["data"]["id"]) for e in events] == [(first, "slow"), (later[0], "fast")]
            assert first < later[0]
        engine.dispose()
