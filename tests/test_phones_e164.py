"""Phones in E.164 wherever they are stored, searched or dialled: the demo stores them so, the queue's
search finds a customer by a number written in any format, the screen shows the national format,
and the server takes a number from a pushed command only when it is one, in E.164."""

from __future__ import annotations

import json

import pytest
from conftest import NOW
from sync_support import make_station, push_commands, running_server

from cobro_tui.domain import masking
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import ContactKind, ContactPoint, Provenance
from cobro_tui.domain.phones import national, normalize_phone
from cobro_tui.server.feed import get_doc
from cobro_tui.store.queue import search_accounts
from cobro_tui.ui.widgets.account_panels import point_value


@pytest.fixture
def served(tmp_path):
    with running_server(tmp_path, accounts=40, seed=21) as running:
        yield running


@pytest.fixture
def station(tmp_path, served, clock, policy):
    station = make_station(tmp_path, "phones", served[1].url, "agente01", clock, policy)
    assert station.round().ok
    return station


def _a_phone(station) -> tuple[str, str, str, str]:
    """(account id, customer id, contact point id, value) of one of the agent's customers' mobiles."""
    with station.cache.connect() as conn:
        return tuple(
            conn.exec_driver_sql(
                "SELECT a.id, p.customer_id, p.id, p.value FROM contact_point p JOIN account a "
                "ON a.customer_id = p.customer_id WHERE p.kind = 'mobile' AND NOT p.opted_out "
                "ORDER BY p.id LIMIT 1"
            ).one()
        )


def test_the_workstation_gets_every_phone_in_e164(station) -> None:
    with station.cache.connect() as conn:
        values = conn.exec_driver_sql(
            "SELECT value FROM contact_point WHERE kind IN ('mobile', 'home', 'work', 'whatsapp')"
        ).scalars()
        phones = list(values)
    assert phones and all(v.startswith("+52") and len(v) == 13 for v in phones)


def test_a_customer_is_found_by_their_number_written_in_any_format(station) -> None:
    account_id, _, point_id, e164 = _a_phone(station)
    nsn = e164[3:]  # 5512345678
    spaced = f"{nsn[:2]} {nsn[2:6]} {nsn[6:]}" if nsn[:2] in ("55", "33", "81") else f"{nsn[:3]} {nsn[3:6]} {nsn[6:]}"
    for typed in (spaced, f"+52 {spaced}", nsn, e164, f"({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}", nsn[-4:]):
        hits = search_accounts(station.cache, "agente01", typed)
        assert account_id in [h.account_id for h in hits if h.matched == "phone"], typed
    # A cache filled before phones were normalized keeps the national number: still found.
    with station.cache.begin() as conn:
        conn.exec_driver_sql("UPDATE contact_point SET value = ? WHERE id = ?", (nsn, point_id))
    for typed in (spaced, f"+52 {spaced}", nsn):
        assert account_id in [h.account_id for h in search_accounts(station.cache, "agente01", typed)], typed
    # Another agent's search does not reach this customer.
    assert account_id not in [h.account_id for h in search_accounts(station.cache, "agente02", e164)]


def test_a_phone_is_masked_the_same_and_shown_nationally_whatever_its_stored_form() -> None:
    assert masking.phone("+525512345678") == masking.phone("5512345678") == "••••••5678"
    point = ContactPoint(
        id="p",
        customer_id="c",
        kind=ContactKind.MOBILE,
        value="+525512345678",
        provenance=Provenance.CREDITOR,
        state_code="09",
        municipality_code="09015",
        postal_code="06000",
    )
    assert point_value(point, revealed=True) == "55 1234 5678" == national("5512345678")
    assert point_value(point, revealed=False) == "••••••5678"


def _opt_out(customer_id: str, **point: str) -> tuple[str, dict]:
    return (
        "restriction.request@1",
        {"id": new_id(), "customer_id": customer_id, "kind": "opt_out", "created_at": NOW.isoformat(), **point},
    )


def test_an_opt_out_by_phone_is_matched_in_e164_on_the_server(served, station) -> None:
    engine, _ = served
    _, customer_id, point_id, e164 = _a_phone(station)
    nsn = e164[3:]
    (verdict,) = push_commands(station, engine, _opt_out(customer_id, phone=f"+52 ({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}"))
    assert verdict["status"] == "applied", verdict
    with engine.connect() as conn:
        point = get_doc(conn, "contact_point", point_id)
        restrictions = [
            json.loads(d)
            for d in conn.exec_driver_sql("SELECT data FROM entities WHERE kind = 'restriction'").scalars()
        ]
    assert point is not None and point.data["opted_out"] is True
    mine = [r for r in restrictions if r["customer_id"] == customer_id and r["contact_point_id"] == point_id]
    assert mine and "phone" not in mine[-1]


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("123", "INVALID_PHONE"),
        ("hola", "INVALID_PHONE"),
        ("55 1234 5678 9999 0000", "INVALID_PHONE"),
        ("\x1b[2J5512345678", "INVALID_PHONE"),
        ("9" * 500, "INVALID_PHONE"),
        ("+1 212 736 4000", "UNKNOWN_PHONE"),  # a number, but not this customer's
    ],
)
def test_a_pushed_number_that_is_not_a_phone_or_not_theirs_is_refused_clearly(served, station, phone, code) -> None:
    engine, _ = served
    _, customer_id, _, _ = _a_phone(station)
    (verdict,) = push_commands(station, engine, _opt_out(customer_id, phone=phone))
    assert verdict["status"] == "rejected" and verdict["reason"]["code"] == code, verdict
    assert "\x1b" not in json.dumps(verdict)


def test_a_point_named_twice_is_refused(served, station) -> None:
    engine, _ = served
    _, customer_id, point_id, e164 = _a_phone(station)
    (verdict,) = push_commands(station, engine, _opt_out(customer_id, phone=e164, contact_point_id=point_id))
    assert verdict["status"] == "rejected" and verdict["reason"]["code"] == "INVALID_ARGUMENTS", verdict


def test_an_opt_out_by_phone_of_another_agents_customer_is_refused(served, station, tmp_path, clock, policy) -> None:
    engine, thread = served
    other = make_station(tmp_path, "other", thread.url, "agente02", clock, policy)
    assert other.round().ok
    _, customer_id, _, e164 = _a_phone(other)
    (verdict,) = push_commands(station, engine, _opt_out(customer_id, phone=e164))
    assert verdict["status"] == "rejected" and verdict["reason"]["code"] == "NOT_YOUR_ACCOUNT", verdict


def test_normalizing_is_idempotent_on_what_the_demo_stores(station) -> None:
    _, _, _, e164 = _a_phone(station)
    assert normalize_phone(e164) == e164
    assert normalize_phone(national(e164)) == e164
