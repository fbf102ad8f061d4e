"""The server's validation of intentions, the long-poll, and the client's retry timing."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import NOW
from sqlalchemy import Engine, and_, select, update
from sync_support import Station, auth_headers, make_station, running_server

from cobro_tui.clock import FixedClock
from cobro_tui.domain.ids import new_id
from cobro_tui.policy import Policy
from cobro_tui.server.run import ServerThread
from cobro_tui.server.schema import entities
from cobro_tui.services.sync import SyncService
from cobro_tui.sync.report import SyncReport, backoff


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Engine, ServerThread]]:
    with running_server(tmp_path, accounts=200, seed=6) as running:
        yield running


@pytest.fixture
def station(tmp_path: Path, served, clock: FixedClock, policy: Policy) -> Station:
    station = make_station(tmp_path, "a1", served[1].url, "agente01", clock, policy)
    assert station.round().ok
    return station


def _edit_account(server: Engine, account_id: str, **changes: object) -> None:
    with server.begin() as conn:
        data = json.loads(
            conn.execute(
                select(entities.c.data).where(and_(entities.c.kind == "account", entities.c.id == account_id))
            ).scalar_one()
        )
        data.update(changes)
        conn.execute(
            update(entities)
            .where(and_(entities.c.kind == "account", entities.c.id == account_id))
            .values(data=json.dumps(data))
        )


def _verdict(station: Station) -> dict:
    return [v for _, _, v in station.outbox() if v][-1]


def test_a_promise_on_a_paid_account_is_rejected_with_the_reason(served, station: Station) -> None:
    account_id = station.accounts()[0][0]
    zero = {"centavos": 0, "currency": "MXN"}
    _edit_account(served[0], account_id, principal=zero, interest=zero, fees=zero, vat=zero)
    station.promise(account_id, 100)
    assert station.round().rejected == 1
    assert _verdict(station)["reason"]["code"] == "ACCOUNT_PAID"


def test_a_promise_on_a_disputed_account_is_rejected(served, station: Station) -> None:
    account_id, customer_id = station.accounts()[1]
    with served[0].begin() as conn:
        conn.execute(
            entities.insert().values(
                kind="restriction",
                id=new_id(),
                account_id=None,
                customer_id=customer_id,
                agent=None,
                version=1,
                data=json.dumps(
                    {
                        "id": "r-hold",
                        "customer_id": customer_id,
                        "kind": "dispute",
                        "created_at": NOW.isoformat(),
                        "source": "debtor",
                        "contact_point_id": None,
                        "channel": None,
                        "note": "",
                    }
                ),
            )
        )
    station.promise(account_id, 100)
    assert station.round().rejected == 1
    assert _verdict(station)["reason"]["code"] == "ACCOUNT_ON_HOLD"


@pytest.mark.parametrize(("days", "code"), [(-1, "DUE_DATE_OUT_OF_RANGE"), (31, "DUE_DATE_OUT_OF_RANGE")])
def test_a_promise_due_outside_the_window_is_rejected(station: Station, days: int, code: str) -> None:
    station.promise(station.accounts()[2][0], 100, due=NOW.date() + timedelta(days=days))
    assert station.round().rejected == 1
    assert _verdict(station)["reason"]["code"] == code


def test_a_promise_above_the_balance_is_rejected(station: Station) -> None:
    station.promise(station.accounts()[3][0], 10_000_000)
    assert station.round().rejected == 1
    assert _verdict(station)["reason"]["code"] == "AMOUNT_ABOVE_BALANCE"


def test_a_long_poll_returns_as_soon_as_a_change_arrives(
    served,
    station: Station,
    tmp_path: Path,
    clock: FixedClock,
    policy: Policy,
) -> None:
    other = make_station(tmp_path, "a1-bis", served[1].url, "agente01", clock, policy)
    assert other.round().ok
    with station.cache.connect() as conn:
        cursor = conn.exec_driver_sql("SELECT cursor FROM sync_meta").scalar_one()
    answer: dict = {}

    def poll() -> None:
        started = time.monotonic()
        answer.update(station.sync.api.changes(cursor, 100, wait=10))
        answer["waited"] = time.monotonic() - started

    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(0.5)
    other.log_contact(other.accounts()[0])
    assert other.round().ok
    waiting.join()
    assert answer["changes"] and 0.4 < answer["waited"] < 5


def test_backoff_grows_with_failures_stays_under_the_cap_and_honours_retry_after() -> None:
    rng = random.Random(1)
    for failures in range(12):
        for _ in range(50):
            wait = backoff(failures, base=1, cap=60, rng=rng)
            assert 0 <= wait <= min(60, 2**failures)
    assert max(backoff(10, rng=rng) for _ in range(200)) > 30  # jitter spreads over the whole range
    service = SyncService(engine=None, interval_seconds=5)  # type: ignore[arg-type]
    assert service.next_delay(SyncReport()) == 5
    assert service.next_delay(SyncReport(error="busy", retry_after=17)) == 17
    service.failures = 3
    assert 1 <= service.next_delay(SyncReport(error="down")) <= 8


def test_the_server_refuses_malformed_requests_with_a_code(served) -> None:
    url = served[1].url
    token = httpx.post(f"{url}/v1/auth/login", json={"username": "agente01", "password": "demo"}).json()["token"]
    answer = httpx.post(f"{url}/v1/mutations", json={"mutations": "nope"}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422 and answer.json()["code"] == "MALFORMED_REQUEST"
    page = httpx.get(f"{url}/v1/snapshot", params={"page": "garbage"}, headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 422


def _phone_of(station: Station, customer_id: str) -> str:
    with station.cache.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT id FROM contact_point WHERE customer_id = ? AND kind IN ('mobile', 'home') "
            "AND NOT opted_out AND NOT wrong_number ORDER BY is_primary DESC LIMIT 1",
            (customer_id,),
        ).scalar_one()


def _exceptions(server: Engine) -> list[dict]:
    from cobro_tui.server.schema import compliance_exceptions

    with server.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(compliance_exceptions))]


def test_a_contact_after_an_opt_out_the_workstation_had_not_seen_is_recorded_and_flagged(
    served, station: Station
) -> None:
    from cobro_tui.domain.models import Channel

    account_id, customer_id = station.accounts()[2]
    phone = _phone_of(station, customer_id)
    # The back office records the opt-out; this workstation has not synced since.
    with served[0].begin() as conn:
        conn.execute(
            entities.insert().values(
                kind="restriction",
                id=new_id(),
                account_id=None,
                customer_id=customer_id,
                agent=None,
                version=1,
                data=json.dumps(
                    {
                        "id": "r-opt",
                        "customer_id": customer_id,
                        "kind": "opt_out",
                        "created_at": (NOW - timedelta(hours=1)).isoformat(),
                        "source": "debtor",
                        "contact_point_id": phone,
                        "channel": None,
                        "note": "",
                    }
                ),
            )
        )
    logged = station.contacts.log(
        account_id=account_id,
        customer_id=customer_id,
        channel=Channel.VOICE,
        result_code="NC",
        contact_point_id=phone,
        started_at=NOW - timedelta(minutes=5),
    )
    report = station.round()
    assert report.warned == 1 and report.rejected == 0  # a fact is never rejected
    warning = _verdict(station)["warnings"][0]
    assert warning["code"] == "COMPLIANCE_EXCEPTION" and "MX-OPT" in warning["message"]
    [flagged] = _exceptions(served[0])
    details = json.loads(flagged["details"])
    assert flagged["account_id"] == account_id and details["contact_id"] == logged.attempt.id
    assert ["MX-OPT", "block", "rules.opted_out"] in details["rules"]
    assert details["ruleset"].startswith("mx_condusef@") and details["tz_version"]


def test_a_contact_made_at_night_is_flagged_and_one_in_hours_is_not(served, station: Station) -> None:
    from cobro_tui.domain.models import Channel

    (first, c1), (second, c2) = station.accounts()[3:5]
    # 02:00 in Mexico City: outside 07:00-22:00; 10:25: inside.
    night = NOW.replace(hour=8, minute=0)
    station.contacts.log(
        account_id=first,
        customer_id=c1,
        channel=Channel.VOICE,
        result_code="NC",
        contact_point_id=_phone_of(station, c1),
        started_at=night,
    )
    station.contacts.log(
        account_id=second,
        customer_id=c2,
        channel=Channel.VOICE,
        result_code="NC",
        contact_point_id=_phone_of(station, c2),
        started_at=NOW - timedelta(minutes=5),
    )
    report = station.round()
    assert report.warned == 1 and report.applied == 1 and report.rejected == 0
    [flagged] = _exceptions(served[0])
    assert flagged["account_id"] == first and "MX-1" in flagged["message"]


def test_a_supervisor_reviews_the_flagged_contacts_and_an_agent_cannot(served, station: Station) -> None:
    from cobro_tui.domain.models import Channel

    account_id, customer_id = station.accounts()[3]
    station.contacts.log(
        account_id=account_id,
        customer_id=customer_id,
        channel=Channel.VOICE,
        result_code="NC",
        contact_point_id=_phone_of(station, customer_id),
        started_at=NOW.replace(hour=8, minute=0),
    )
    assert station.round().warned == 1
    url = served[1].url

    assert httpx.get(f"{url}/v1/compliance-exceptions", headers=auth_headers(url, "agente01")).status_code == 403
    supervisor = auth_headers(url, "supervisor01")
    [flagged] = httpx.get(f"{url}/v1/compliance-exceptions", headers=supervisor).json()
    assert flagged["account_id"] == account_id and flagged["status"] == "open" and "MX-1" in flagged["message"]
    assert flagged["details"]["ruleset"].startswith("mx_condusef@")
    review = f"{url}/v1/compliance-exceptions/{flagged['id']}"
    assert httpx.post(review, json={"note": "ok"}, headers=supervisor).status_code == 422
    done = httpx.post(
        review, json={"note": "llamada fuera de horario; se habló con el agente"}, headers=supervisor
    ).json()
    assert done["status"] == "reviewed" and done["reviewed_by"] == "supervisor01"
    assert httpx.post(review, json={"note": "otra revisión más tarde"}, headers=supervisor).status_code == 409
    assert httpx.get(f"{url}/v1/compliance-exceptions", headers=supervisor).json() == []
    everything = httpx.get(f"{url}/v1/compliance-exceptions", params={"status": "all"}, headers=supervisor).json()
    assert [e["review_note"] for e in everything] == ["llamada fuera de horario; se habló con el agente"]


async def test_the_supervisor_reviews_an_exception_from_the_queue_screen(served, station: Station) -> None:
    from textual.widgets import DataTable, Static
    from ui_support import supervisor_app, wait_for

    from cobro_tui.domain.models import Channel
    from cobro_tui.ui.screens.exceptions import ExceptionsScreen, ReviewForm

    account_id, customer_id = station.accounts()[4]
    station.contacts.log(
        account_id=account_id,
        customer_id=customer_id,
        channel=Channel.VOICE,
        result_code="NC",
        contact_point_id=_phone_of(station, customer_id),
        started_at=NOW.replace(hour=8, minute=0),
    )
    assert station.round().warned == 1
    url = served[1].url
    app = supervisor_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("e")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ExceptionsScreen) and app.screen.query_one(DataTable).row_count == 1
        )
        screen = app.screen
        row = screen.query_one(DataTable).get_row_at(0)
        with station.cache.connect() as conn:
            name = conn.exec_driver_sql("SELECT full_name FROM customer WHERE id = ?", (customer_id,)).scalar_one()
        assert row[1] == name and " d · $" in row[2] and "MX-1" in str(row[3])  # whose contact, and the rule it broke
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewForm))
        await pilot.press(*"horario mal configurado en la estación", "enter")
        await wait_for(pilot, lambda: app.screen is screen and screen.query_one(DataTable).row_count == 0)
        assert "nada por revisar" in str(screen.query_one("#exceptions-heading", Static).render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExceptionsScreen))
