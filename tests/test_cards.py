"""Card numbers (issue #14, PCI DSS 3.4.1): the server keeps and sends the first six and last four
digits only, the cache holds no more whatever it is sent, and older caches and servers are cut."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from conftest import NOW
from sqlalchemy import Engine, select
from stdnum import luhn
from sync_support import make_station, running_server

from cobro_tui.clock import FixedClock
from cobro_tui.domain.cards import InvalidCardNumber, holdable_number, is_truncated_pan, truncate_pan
from cobro_tui.policy import Policy
from cobro_tui.server.db import MIGRATIONS, migrate, server_engine, write_tx
from cobro_tui.server.feed import Doc, Tx, get_doc
from cobro_tui.server.schema import change_log, entities
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.store.rules import find_account

# A digit run that could be a card number: 13 to 19 digits not inside a longer run or a hex word.
_RUN = re.compile(r"(?<![0-9A-Fa-f])[0-9]{13,19}(?![0-9A-Fa-f])")


def full_pans(text: str) -> list[str]:
    return [run for run in _RUN.findall(text) if luhn.is_valid(run)]


def cache_text(engine: Engine) -> str:
    """Every text and blob value of every table of the cache, one after another."""
    parts: list[str] = []
    with engine.connect() as conn:
        tables = [r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        parts.append(value.decode("latin-1"))
                    elif isinstance(value, str):
                        parts.append(value)
    return "\n".join(parts)


def test_a_card_number_is_cut_to_its_first_six_and_last_four() -> None:
    assert truncate_pan("4111111111111111") == "411111******1111"
    assert truncate_pan("4111 1111 1111 1111") == "411111******1111"
    assert truncate_pan("411111******1111") == "411111******1111"  # already cut: as it is
    assert truncate_pan("6011000990139424") == "601100******9424"
    assert is_truncated_pan("411111******1111") and not is_truncated_pan("4111111111111111")
    with pytest.raises(InvalidCardNumber, match="Luhn"):
        truncate_pan("4111111111111112")
    with pytest.raises(InvalidCardNumber, match="13 to 19"):
        truncate_pan("41111111")
    # What a cache may hold: a loan's 12-digit account number stays; any 13-19 digit run is cut.
    assert holdable_number("711234567890") == "711234567890"
    assert holdable_number("4111111111111112") == "411111******1112"
    assert holdable_number("411111******1111") == "411111******1111"


def test_the_server_keeps_and_the_pulled_cache_holds_no_full_card_number(
    tmp_path: Path, clock: FixedClock, policy: Policy
) -> None:
    with running_server(tmp_path, accounts=300, seed=5) as (server, thread):
        with server.connect() as conn:
            kept = [
                json.loads(d)
                for d in conn.execute(select(entities.c.data).where(entities.c.kind == "account")).scalars()
            ]
            cards = [a["number"] for a in kept if a["product"] == "tarjeta_credito"]
            feed = "\n".join(p for p in conn.execute(select(change_log.c.payload)).scalars() if p)
        assert cards and all(is_truncated_pan(n) for n in cards)
        assert full_pans("\n".join(json.dumps(a) for a in kept)) == [] and full_pans(feed) == []

        station = make_station(tmp_path, "a1", thread.url, "agente01", clock, policy)
        station.round()  # the snapshot
        text = cache_text(station.cache)
        assert "******" in text and full_pans(text) == []

        # A full number sent anyway (a server not yet migrated, a core writing straight in) is cut
        # by the cache on the change path too.
        with station.cache.connect() as conn:
            account_id = conn.exec_driver_sql(
                "SELECT id FROM account WHERE product = 'tarjeta_credito' LIMIT 1"
            ).scalar_one()
        with write_tx(server) as conn:
            doc = get_doc(conn, "account", account_id)
            assert doc is not None
            Tx(conn, NOW).put(
                Doc(
                    "account",
                    doc.id,
                    0,
                    {**doc.data, "number": "4111111111111111"},
                    doc.account_id,
                    doc.customer_id,
                    doc.agent,
                )
            )
        station.round()
        with station.cache.connect() as conn:
            number = conn.exec_driver_sql("SELECT number FROM account WHERE id = ?", (account_id,)).scalar_one()
        assert number == "411111******1111" and full_pans(cache_text(station.cache)) == []
        # The agent may still find it by the number the customer reads out: cut the same way.
        assert find_account(station.cache, "4111111111111111") == account_id


def test_migration_0011_cuts_the_card_numbers_an_older_cache_holds(tmp_path: Path) -> None:
    engine = CacheFile(tmp_path / "old.db", secrets.token_bytes(32)).open()
    assert upgrade(engine, "0010") == (None, "0010")
    columns = (
        "id, customer_id, number, product, currency, principal, interest, fees, vat, past_due, min_to_cure, "
        "dpd, bucket, stage, risk_segment, assigned_agent, opened_on, version, sync_state, server_version"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO customer (id, full_name, rfc, curp, birth_date, sync_state, server_version) "
            "VALUES ('c1', 'Ana Ibarra Ochoa', 'IAOA850101AB1', 'IAOA850101MDFBCN09', '1985-01-01', 'synced', 1)"
        )
        for account_id, number, product in (
            ("a1", "5579100000000008", "tarjeta_credito"),
            ("a2", "711234567890", "prestamo_personal"),
            ("a3", "601100******9424", "tarjeta_credito"),
        ):
            conn.exec_driver_sql(
                f"INSERT INTO account ({columns}) VALUES (?, 'c1', ?, ?, 'MXN', 100, 0, 0, 0, 0, 0, 30, "
                "'B1', 'collection', 'B', 'agente01', '2024-01-01', 1, 'synced', 1)",
                (account_id, number, product),
            )
    assert full_pans(cache_text(engine)) == ["5579100000000008"]
    assert upgrade(engine) == ("0010", "0011")
    with engine.connect() as conn:
        numbers: dict[str, str] = dict(conn.exec_driver_sql("SELECT id, number FROM account").all())
    assert numbers == {"a1": "557910******0008", "a2": "711234567890", "a3": "601100******9424"}
    assert full_pans(cache_text(engine)) == []
    engine.dispose()


def test_migration_s0016_cuts_the_card_numbers_an_older_server_keeps(tmp_path: Path) -> None:
    engine = server_engine(f"sqlite:///{tmp_path / 'server.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "s0015")
        conn.commit()
    account = {"id": "a1", "number": "4111111111111111", "product": "tarjeta_credito"}
    loan = {"id": "a2", "number": "711234567890", "product": "prestamo_personal"}
    with engine.begin() as conn:
        for doc in (account, loan):
            conn.execute(
                entities.insert().values(
                    kind="account",
                    id=doc["id"],
                    account_id=doc["id"],
                    customer_id="c1",
                    agent="agente01",
                    version=1,
                    data=json.dumps(doc),
                )
            )
        conn.execute(
            change_log.insert().values(
                seq=1,
                audience="agente01",
                tx=1,
                kind="account",
                entity_id="a1",
                op="upsert",
                version=1,
                payload=json.dumps(account),
                created_at=NOW.isoformat(),
            )
        )
    migrate(engine)
    with engine.connect() as conn:
        kept = {d["id"]: d["number"] for d in map(json.loads, conn.execute(select(entities.c.data)).scalars())}
        sent = json.loads(conn.execute(select(change_log.c.payload)).scalar_one())
    assert kept == {"a1": "411111******1111", "a2": "711234567890"} and sent["number"] == "411111******1111"
    engine.dispose()
