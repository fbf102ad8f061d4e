"""Cache rows and the entities they hold: the table classes (store/tables.py) say which columns
there are, and every entity fills and reads back each of them by name, the same from an entity as
from its wire record."""

from __future__ import annotations

from dataclasses import MISSING, fields, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from cobro_tui.domain.models import (
    Account,
    BucketHistoryEntry,
    Channel,
    ContactAttempt,
    ContactKind,
    ContactPoint,
    Customer,
    Direction,
    Installment,
    InstallmentStatus,
    Note,
    Payment,
    PaymentPlan,
    PlanKind,
    PlanStatus,
    Product,
    Promise,
    PromiseStatus,
    Provenance,
    Reference,
    ReferenceRole,
    Restriction,
    RestrictionKind,
    Stage,
    SyncState,
)
from cobro_tui.domain.money import Money
from cobro_tui.domain.records import KIND_OF, KINDS, to_record
from cobro_tui.store import rows as R
from cobro_tui.store.engine import CacheFile, write_connection
from cobro_tui.store.rules import PHONE_COLUMNS
from cobro_tui.store.tables import KEPT_BY_STORE, cache_table

AT = datetime(2026, 3, 4, 15, 16, 17, 123456, tzinfo=UTC)


def _pesos(centavos: int) -> Money:
    return Money(centavos, "MXN")


# One entity of every kind with every field set, none to its default: a column the row mapping
# dropped or mixed up could not come back equal.
SAMPLES: tuple[Any, ...] = (
    Customer(
        id="c1",
        full_name="Ana Ibarra Ochoa",
        rfc="IAOA850101AB1",
        curp="IAOA850101MDFBCN09",
        birth_date=date(1985, 1, 1),
    ),
    Account(
        id="a1",
        customer_id="c1",
        number="7100-2233-4455",
        product=Product.AUTO_LOAN,
        principal=_pesos(1_000_01),
        interest=_pesos(2_000_02),
        fees=_pesos(3_000_03),
        vat=_pesos(4_000_04),
        past_due=_pesos(5_000_05),
        min_to_cure=_pesos(6_000_06),
        dpd=47,
        bucket="30-59",
        stage=Stage.LEGAL,
        risk_segment="C",
        assigned_agent="agente07",
        opened_on=date(2021, 5, 6),
        last_payment_on=date(2026, 1, 2),
        last_contact_at=AT,
        version=9,
    ),
    ContactPoint(
        id="p1",
        customer_id="c1",
        kind=ContactKind.WORK,
        value="5512345678",
        provenance=Provenance.SKIP_TRACE,
        state_code="09",
        municipality_code="09015",
        postal_code="06700",
        consent_sms=True,
        consent_whatsapp=True,
        consent_email=True,
        opted_out=True,
        wrong_number=True,
        is_primary=True,
    ),
    Reference(
        id="r1",
        account_id="a1",
        role=ReferenceRole.GUARANTOR,
        full_name="Luis Ochoa",
        phone="5598765432",
        relationship="tío",
    ),
    Payment(
        id="y1", account_id="a1", amount=_pesos(12_345), paid_on=date(2026, 2, 3), channel="oxxo", reference="REF-9"
    ),
    Promise(
        id="m1",
        account_id="a1",
        amount=_pesos(50_000),
        due_on=date(2026, 3, 20),
        channel="spei",
        created_at=AT,
        created_by="agente07",
        status=PromiseStatus.PARTIAL,
        paid=_pesos(10_000),
        grace_days=3,
    ),
    PaymentPlan(
        id="pl1",
        account_id="a1",
        down_payment=_pesos(20_000),
        installments=(
            Installment(number=1, due_on=date(2026, 4, 1), amount=_pesos(30_000), status=InstallmentStatus.PARTIAL),
            Installment(number=2, due_on=date(2026, 5, 1), amount=_pesos(30_001), status=InstallmentStatus.PARTIAL),
        ),
        created_at=AT,
        created_by="agente07",
        status=PlanStatus.ACTIVE,
        kind=PlanKind.SETTLEMENT,
        forgiven=_pesos(7_000),
    ),
    ContactAttempt(
        id="k1",
        account_id="a1",
        customer_id="c1",
        channel=Channel.WHATSAPP,
        direction=Direction.INBOUND,
        started_at=AT,
        ended_at=AT.replace(minute=20),
        result_code="PP",
        agent="agente07",
        contact_point_id="p1",
        problem_code="desempleo",
        circumstance="perdió el trabajo",
        resolution="promesa",
        notes="llamar el lunes",
        script_steps=("saludo", "identificación", "oferta"),
        callback_at=AT.replace(day=9),
        override_reason="supervisor: acuerdo firmado",
    ),
    Note(id="n1", account_id="a1", author="agente07", created_at=AT, text="pidió estado de cuenta"),
    Restriction(
        id="s1",
        customer_id="c1",
        kind=RestrictionKind.CEASE,
        created_at=AT,
        source="agent",
        contact_point_id="p1",
        channel=Channel.SMS,
        note="por escrito",
    ),
    BucketHistoryEntry(id="b1", account_id="a1", bucket="30-59", entered_on=date(2026, 2, 1), left_on=date(2026, 3, 1)),
)


def _sample(cls: type) -> Any:
    return next(e for e in SAMPLES if type(e) is cls)


def _named(row: R.Row) -> dict[str, Any]:
    _, columns, values = row
    return dict(zip(columns, values, strict=True))


def _entity_columns(table: str) -> set[str]:
    return {c.name for c in cache_table(table).columns if not c.info.get(KEPT_BY_STORE)}


def test_the_samples_hold_every_kind_with_every_field_off_its_default() -> None:
    assert sorted(KIND_OF[type(e)] for e in SAMPLES) == sorted(KINDS)
    for entity in (*SAMPLES, *_sample(PaymentPlan).installments):
        for f in fields(entity):
            value, where = getattr(entity, f.name), f"{type(entity).__name__}.{f.name}"
            assert value is not None, f"{where} is left empty"
            if f.default is not MISSING:
                assert value != f.default, f"{where} is left at its default"
            if f.default_factory is not MISSING:
                assert value != f.default_factory(), f"{where} is left at its default"


@pytest.mark.parametrize("entity", SAMPLES, ids=lambda e: KIND_OF[type(e)])
def test_an_entity_fills_every_column_of_its_table_and_comes_back_the_same(entity: Any) -> None:
    kind = KIND_OF[type(entity)]
    head, *children = R.rows_of(entity, SyncState.SYNCED_WITH_WARNINGS, 5)
    table, _, _ = head
    assert table == kind
    row = _named(head)
    # Every column the table class defines, but those the store keeps itself, and no other.
    assert set(row) == _entity_columns(table)
    assert (row["sync_state"], row["server_version"]) == ("synced_with_warnings", 5)
    for child in children:
        assert child[0] == R.CHILD_TABLES["installments"]
        assert set(_named(child)) == _entity_columns(child[0])
    assert R.entity_from_row(kind, row, [_named(c) for c in children]) == entity


@pytest.mark.parametrize("entity", SAMPLES, ids=lambda e: KIND_OF[type(e)])
def test_an_entity_and_its_wire_record_give_the_same_rows(entity: Any) -> None:
    kind = KIND_OF[type(entity)]
    from_entity = [_named(r) for r in R.rows_of(entity, SyncState.PENDING, 0)]
    from_record = [_named(r) for r in R.rows_from_record(kind, to_record(entity), 0, SyncState.PENDING)]
    assert from_entity == from_record
    assert R.record_from_row(kind, from_entity[0], from_entity[1:]) == to_record(entity)


def test_a_record_from_an_older_server_fills_the_fields_it_lacks_with_their_defaults() -> None:
    plan = to_record(_sample(PaymentPlan))
    del plan["kind"], plan["forgiven"]
    (row, *_) = R.rows_from_record("payment_plan", plan, 1)
    assert (_named(row)["kind"], _named(row)["forgiven"]) == ("plan", None)


def test_the_account_keeps_its_version_as_the_servers_unless_told_otherwise() -> None:
    account, customer = _sample(Account), _sample(Customer)
    assert _named(R.rows_of(account)[0])["server_version"] == account.version
    assert _named(R.rows_of(customer)[0])["server_version"] == 1


def test_a_card_number_is_held_truncated_from_an_entity_and_from_a_record() -> None:
    card = replace(_sample(Account), number="4111111111111111", product=Product.CREDIT_CARD)
    assert _named(R.rows_of(card)[0])["number"] == "411111******1111"
    assert _named(R.rows_from_record("account", to_record(card), 1)[0])["number"] == "411111******1111"


def test_every_sample_goes_into_a_migrated_cache_and_reads_back_by_name(cache_file: CacheFile) -> None:
    engine = cache_file.open()
    with write_connection(engine) as conn:
        R.insert_rows(conn, [row for entity in SAMPLES for row in R.rows_of(entity)])
    with engine.connect() as conn:
        for entity in SAMPLES:
            kind = KIND_OF[type(entity)]
            (row,) = conn.exec_driver_sql(f"SELECT * FROM {R.table_of(kind)} WHERE id = ?", (entity.id,)).mappings()
            items = conn.exec_driver_sql(
                "SELECT * FROM plan_installment WHERE plan_id = ? ORDER BY number", (entity.id,)
            ).mappings()
            assert R.entity_from_row(kind, row, items.all()) == entity
        # What the store keeps itself is left to it.
        assert conn.exec_driver_sql("SELECT priority, contact_from FROM account").one() == (0, None)
    engine.dispose()


def test_the_phone_columns_the_queue_reads_are_columns_of_the_contact_point_table() -> None:
    assert set(PHONE_COLUMNS) <= {c.name for c in cache_table("contact_point").columns}


def test_every_table_mirrored_from_the_server_is_the_table_of_an_entity_kind() -> None:
    from sqlmodel import SQLModel

    mirrored = {t.name for t in SQLModel.metadata.tables.values() if "sync_state" in t.columns}
    assert mirrored == {R.table_of(kind) for kind in KINDS}
    with pytest.raises(KeyError):
        R.table_of("outbox")


def test_only_the_fields_a_table_added_later_may_be_missing_from_its_records() -> None:
    from cobro_tui.store.rows import wire_fields

    assert "kind" not in wire_fields("payment_plan")  # plans before kinds existed read as "plan"
    assert "kind" in wire_fields("contact_point") and "kind" in wire_fields("restriction")  # never defaulted
    assert "callback_at" not in wire_fields("contact_attempt")


def test_preparing_writes_makes_the_row_makers_of_every_table_from_entities_and_from_records() -> None:
    # What the app runs in the background after its start, so that the first write waits for nothing.
    R.prepare_writes()
    assert set(R._ENTITY_ROWS) == set(KINDS.values())
    assert set(R._RECORD_ROWS) == set(KINDS)
    made = R._ENTITY_ROWS[KINDS["contact_attempt"]][0]
    R.prepare_writes()  # a second call keeps what the first made
    assert R._ENTITY_ROWS[KINDS["contact_attempt"]][0] is made
