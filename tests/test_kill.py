"""SIGKILL at any instant keeps a logged contact, its outbox row and its audit event, or none of them."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from conftest import TESTS
from portfolio_fixtures import fill

from cobro_tui.policy import Policy
from cobro_tui.store.audit_log import verify
from cobro_tui.store.engine import CacheFile


@pytest.mark.slow
def test_killing_the_writer_loses_no_acknowledged_contact_and_leaves_no_half(
    cache_file: CacheFile, policy: Policy
) -> None:
    fill(cache_file, policy, accounts=3)
    env = dict(os.environ, CACHE_PATH=str(cache_file.path), CACHE_KEY=cache_file.key.hex(), PYTHONPATH=str(TESTS))
    acknowledged: list[str] = []
    rng = random.Random(1)
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, str(TESTS / "support" / "record_loop.py")], env=env, stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        acknowledged += [line for line in out.splitlines() if line]
    assert len(acknowledged) > 20
    engine = cache_file.open()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        contacts = set(conn.exec_driver_sql("SELECT id FROM contact_attempt WHERE sync_state = 'pending'").scalars())
        outbox = conn.exec_driver_sql("SELECT client_seq, args_json FROM outbox ORDER BY client_seq").all()
        events = conn.exec_driver_sql(
            "SELECT count(*) FROM audit_event WHERE body LIKE '%contact.logged%'"
        ).scalar_one()
    assert set(acknowledged) <= contacts  # nothing acknowledged is lost
    assert len(contacts) <= len(acknowledged) + 6  # at most one committed-but-unacknowledged per kill
    assert len(outbox) == len(contacts) == events  # never a contact without its outbox row and audit event
    assert [seq for seq, _ in outbox] == list(range(1, len(outbox) + 1))  # gapless client_seq
    assert {json.loads(args)["id"] for _, args in outbox} == contacts
    assert verify(engine).intact
    engine.dispose()
