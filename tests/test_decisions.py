"""Decision snapshots: what the agent saw at a promise, a plan or a refusal reaches the server as
evidence, and the workstation's audit log keeps the same hash."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sync_support import make_station, running_server

from cobro_tui.clock import FixedClock
from cobro_tui.domain.decisions import digest
from cobro_tui.domain.money import Money
from cobro_tui.errors import UserFacingError
from cobro_tui.policy import Policy
from cobro_tui.server.schema import decisions


@pytest.fixture
def server(tmp_path: Path):
    with running_server(tmp_path, accounts=30, seed=11) as running:
        yield running


def _audited(station, event: str) -> list[dict[str, object]]:
    with station.cache.connect() as conn:
        bodies = conn.exec_driver_sql("SELECT body FROM audit_event").scalars().all()
    return [json.loads(b)["data"] for b in bodies if json.loads(b)["type"] == event]


def test_a_promise_and_a_refusal_carry_what_the_agent_saw_to_the_server(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    from sqlalchemy import select

    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.settings import load_settings

    engine, thread = server
    station = make_station(tmp_path, "evidence", thread.url, "agente01", clock, policy)
    assert station.round().ok
    ws = build_workstation(station.cache, load_settings(), clock, policy, "agente01", "live")
    account_id = next(a for a, _ in station.accounts() if not ws.accounts.open(a).file.open_promises())
    view = ws.accounts.open(account_id)
    least = policy.offers.promise.minimum(view.file.account)
    due = view.debtor_now.date() + timedelta(days=2)
    with pytest.raises(UserFacingError):
        ws.promises.take(account_id, Money(least.centavos - 1), due, "spei", ("saludo", "problema"))
    promise = ws.promises.take(account_id, least, due, "spei", ("saludo", "problema", "resolucion"))
    assert station.round().ok
    with engine.connect() as conn:
        rows = {r.kind: r for r in conn.execute(select(decisions).where(decisions.c.account_id == account_id))}
    assert set(rows) == {"refusal", "promise"}
    kept = json.loads(rows["promise"].snapshot)
    assert rows["promise"].subject_id == promise.id and rows["promise"].agent == "agente01"
    assert (
        kept["account"]["balance"] == view.file.account.balance.centavos
        and kept["account"]["bucket"] == view.file.account.bucket
    )
    assert kept["offer"] == {
        "type": "promise",
        "amount": {"centavos": least.centavos, "currency": "MXN"},
        "due_on": due.isoformat(),
        "channel": "spei",
    }
    assert kept["eligibility"] == {"allowed": True, "problems": [], "approval": None, "why": []}
    assert kept["script_steps"] == ["saludo", "problema", "resolucion"]
    assert (
        kept["contact_rule"]["outcome"] in ("allowed", "warn", "blocked") and kept["config_hash"] == policy.config_hash
    )
    refused = json.loads(rows["refusal"].snapshot)
    assert [p["rule"] for p in refused["eligibility"]["problems"]] == ["promise.too_small"]
    assert refused["eligibility"]["problems"][0]["limit"] == {
        "minimum": {"centavos": least.centavos, "currency": "MXN"}
    }
    # The workstation's tamper-evident log holds the same hashes, and no amounts or names of the person.
    assert [e["decision_sha256"] for e in _audited(station, "promise.created")] == [rows["promise"].sha256]
    assert [e["decision_sha256"] for e in _audited(station, "offer.refused")] == [rows["refusal"].sha256]
    assert digest(kept) == rows["promise"].sha256
    assert _audited(station, "offer.refused")[0]["rules"] == ["promise.too_small"]
