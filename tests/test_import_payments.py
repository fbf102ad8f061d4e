"""`cobro-tui import payments`: the bank's payments file into a real server on loopback, named by
the institution's account numbers; idempotent by payment id; promises judged as the API does."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import NOW
from sqlalchemy import select
from sync_support import auth_headers, integration_headers, running_server

from cobro_tui.cli import main
from cobro_tui.commands.import_payments import report_path
from cobro_tui.domain.models import Promise
from cobro_tui.domain.money import Money
from cobro_tui.domain.portfolio_ids import account_id as imported_id
from cobro_tui.domain.records import to_record
from cobro_tui.server.db import write_tx
from cobro_tui.server.feed import Doc, Tx, get_doc
from cobro_tui.server.schema import entities

HEADER = "payment_id,account_number,amount,currency,paid_on,channel,reference\n"
DAY = NOW.date().isoformat()
IMPORTED = "4152-0000-0001"  # an account as `import portfolio` stores it: its id from its number
SECOND = "4152-0000-0002"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("payments-server")
    with running_server(folder, accounts=20, seed=16) as (engine, thread):
        _imported_account(engine, IMPORTED)
        _imported_account(engine, SECOND)
        yield engine, thread


@pytest.fixture(scope="module")
def feed_key(server) -> str:
    _, thread = server
    return integration_headers(thread.url, name="banco")["Authorization"].removeprefix("Bearer ")


def _imported_account(engine, number: str) -> None:
    """An account stored as the portfolio import stores it (id = portfolio_ids.account_id(number)):
    a copy of a demo account of agente01 under that id and number, with no history of its own."""
    with write_tx(engine) as conn:
        row = conn.execute(
            select(entities.c.data, entities.c.customer_id)
            .where(entities.c.kind == "account", entities.c.agent == "agente01")
            .order_by(entities.c.id)
            .limit(1)
        ).one()
        data = {**json.loads(row.data), "id": imported_id(number), "number": number, "product": "personal_loan"}
        Tx(conn, NOW).put(Doc("account", data["id"], 0, data, data["id"], row.customer_id, "agente01"), current=None)


def _promise(engine, number: str, pesos: int, due_in: int = 3) -> str:
    promise = Promise(
        id=f"promesa-{number}-{pesos}",
        account_id=imported_id(number),
        amount=Money(pesos * 100),
        due_on=NOW.date() + timedelta(days=due_in),
        channel="spei",
        created_at=NOW - timedelta(days=1),
        created_by="agente01",
        grace_days=2,
    )
    with write_tx(engine) as conn:
        account = get_doc(conn, "account", promise.account_id)
        assert account is not None
        doc = Doc("promise", promise.id, 0, to_record(promise), account.id, account.customer_id, "agente01")
        Tx(conn, NOW).put(doc, current=None)
    return promise.id


def _status(engine, kind: str, entity_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        doc = get_doc(conn, kind, entity_id)
    return None if doc is None else doc.data


def _found(engine, kind: str, entity_id: str) -> dict[str, Any]:
    data = _status(engine, kind, entity_id)
    assert data is not None, f"no {kind} {entity_id}"
    return data


def _payments(engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(entities.c.id).where(entities.c.kind == "payment")).all())


def _import(monkeypatch, key: str | None, url: str, *paths: Path, extra: tuple[str, ...] = ()) -> int:
    if key is None:
        monkeypatch.delenv("COBRO_INTEGRATION_KEY", raising=False)
    else:
        monkeypatch.setenv("COBRO_INTEGRATION_KEY", key)
    return main(["import", "payments", *map(str, paths), "--server", url, *extra])


def _report(path: Path) -> list[dict[str, str]]:
    with report_path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_payments_file_goes_in_once_and_keeps_the_promise_it_pays(tmp_path, server, feed_key, monkeypatch, capsys):
    engine, thread = server
    kept = _promise(engine, IMPORTED, 1000)
    partial = _promise(engine, SECOND, 2000)
    before = _payments(engine)
    path = tmp_path / "pagos.csv"
    path.write_text(
        HEADER
        + f"P-100,{IMPORTED},100000,MXN,{DAY},spei,SPEI-1\n"  # 1,000.00 in centavos: pays the promise in full
        + f"P-101,{SECOND},750.00,MXN,{DAY},oxxo,OXXO 7\n",  # pesos with two decimals: part of 2,000
        encoding="utf-8",
    )
    assert _import(monkeypatch, feed_key, thread.url, path) == 0
    out = capsys.readouterr().out
    assert "2 pagos registrados, 0 ya registrados, 0 filas rechazadas" in out
    assert f"promesa {kept} cumplida (pagado $1,000.00)" in out
    assert f"promesa {partial} cumplida en parte (pagado $750.00)" in out
    assert _found(engine, "promise", kept)["status"] == "kept"
    assert _found(engine, "promise", partial)["status"] == "partial"
    assert _payments(engine) == before + 2
    assert [r["result"] for r in _report(path)] == ["recorded", "recorded"]

    # The same file again (a rerun after a cut): all already recorded, nothing doubled or judged again.
    assert _import(monkeypatch, feed_key, thread.url, path) == 0
    out = capsys.readouterr().out
    assert "0 pagos registrados, 2 ya registrados, 0 filas rechazadas" in out
    assert "cumplida" not in out
    assert _payments(engine) == before + 2
    assert [r["result"] for r in _report(path)] == ["already_recorded", "already_recorded"]


def test_json_lines_name_a_demo_account_by_its_number_too(tmp_path, server, feed_key, monkeypatch, capsys):
    engine, thread = server
    with engine.connect() as conn:
        rows = conn.execute(select(entities.c.id, entities.c.data).where(entities.c.kind == "account")).all()
    # A demo account (its id is not the uuid5 of its number; the server's account_keys maps it).
    demo_id, data = next((r.id, json.loads(r.data)) for r in rows if "*" not in json.loads(r.data)["number"])
    assert imported_id(data["number"]) != demo_id
    path = tmp_path / "pagos.jsonl"
    lines = [
        {
            "payment_id": "J-1",
            "account_number": data["number"],
            "amount": 5000,
            "currency": "MXN",
            "paid_on": DAY,
            "channel": "SPEI",
            "reference": "ref",
        },
        {
            "payment_id": "J-2",
            "account_number": IMPORTED,
            "amount": "12.50",
            "paid_on": DAY,
            "channel": "tarjeta",
            "reference": "",
        },
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    assert _import(monkeypatch, feed_key, thread.url, path) == 0
    assert "2 pagos registrados" in capsys.readouterr().out
    assert _found(engine, "payment", "J-1")["account_id"] == demo_id
    assert _found(engine, "payment", "J-2")["amount"] == {"centavos": 1250, "currency": "MXN"}


def test_every_bad_row_is_reported_by_line_and_column_and_the_good_rows_go_in(
    tmp_path, server, feed_key, monkeypatch, capsys
):
    engine, thread = server
    path = tmp_path / "malos.csv"
    path.write_text(
        HEADER
        + f"B-1,{IMPORTED},100.5,MXN,{DAY},spei,r\n"  # one decimal: neither centavos nor two places
        + f"B-2,{IMPORTED},1e5,MXN,22/11/2026,paypal,r\n"  # three problems in one row
        + f"B-3,9999-NO-EXISTE,1000,MXN,{DAY},spei,r\n"  # the server has no such account
        + f"B-4,{IMPORTED},1000,USD,{DAY},spei,r\n"  # not the account's currency
        + f"B-5,{IMPORTED},1000,MXN,{(NOW.date() + timedelta(days=3)).isoformat()},spei,r\n"  # not yet
        + f"B-6,{IMPORTED},0,MXN,{DAY},spei,r\n"
        + f"B-7,{IMPORTED},99999999999999999999,MXN,{DAY},spei,r\n"  # huge: a clear refusal
        + f"B-8,{IMPORTED},1000,MXN,{DAY},spei\n"  # a field short
        + f"B-9,{IMPORTED},2500,MXN,{DAY},ventanilla,bueno\n",
        encoding="utf-8",
    )
    assert _import(monkeypatch, feed_key, thread.url, path) == 1
    captured = capsys.readouterr()
    assert "1 pagos registrados, 0 ya registrados, 8 filas rechazadas" in captured.out
    err = captured.err
    assert "malos.csv:2 [amount] se esperaba el monto en centavos enteros" in err
    assert "malos.csv:3 [amount]" in err and "malos.csv:3 [paid_on]" in err and "malos.csv:3 [channel]" in err
    assert "malos.csv:4 [account_number] el servidor no tiene esa cuenta" in err
    assert "malos.csv:5 [currency] la moneda no es la de la cuenta" in err
    assert "malos.csv:6 [paid_on] la fecha del pago está fuera" in err
    assert "malos.csv:7 [amount] el monto debe ser mayor que cero" in err
    assert "malos.csv:8 [amount] el monto '99999999999999999999' pasa del máximo" in err
    assert "malos.csv:9 [] la fila tiene 6 campos y el encabezado 7" in err
    report = _report(path)
    assert [(r["line"], r["column"]) for r in report if r["result"] == "refused"][:4] == [
        ("2", "amount"),
        ("3", "amount"),
        ("3", "paid_on"),
        ("3", "channel"),
    ]
    assert [r["payment_id"] for r in report if r["result"] == "recorded"] == ["B-9"]
    assert _status(engine, "payment", "B-9") is not None and _status(engine, "payment", "B-3") is None

    # The same id with other values is refused by the server; the report says which column.
    path.write_text(HEADER + f"B-9,{IMPORTED},2600,MXN,{DAY},ventanilla,bueno\n", encoding="utf-8")
    assert _import(monkeypatch, feed_key, thread.url, path) == 1
    assert "malos.csv:2 [payment_id] ese id de pago ya se recibió con otros datos" in capsys.readouterr().err


def test_hostile_text_reaches_neither_the_terminal_nor_a_spreadsheet(tmp_path, server, feed_key, monkeypatch, capsys):
    engine, thread = server
    path = tmp_path / "hostil.csv"
    path.write_text(
        HEADER
        + f'H-1,{IMPORTED},1000,MXN,{DAY},spei,"\x1b]0;pwned\x07\x1b[2Jref\u202e"\n'
        + f'=HYPERLINK("http://x"),{IMPORTED},1000,MXN,{DAY},spei,r\n'
        + f"H-3,{IMPORTED},\x1b[31m12,MXN,{DAY},spei,r\n",
        encoding="utf-8",
    )
    assert _import(monkeypatch, feed_key, thread.url, path) == 1
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err and "\u202e" not in captured.out + captured.err
    assert _found(engine, "payment", "H-1")["reference"] == "]0;pwned[2Jref"
    cells = [cell for row in _report(path) for cell in row.values()]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert not any("\x1b" in cell for cell in cells)


def test_a_file_that_is_not_utf8_or_lacks_columns_is_said_so(tmp_path, server, feed_key, monkeypatch, capsys):
    _, thread = server
    latin = tmp_path / "latin1.csv"
    latin.write_bytes((HEADER + f"L-1,{IMPORTED},1000,MXN,{DAY},spei,Peña\n").encode("latin-1"))
    assert _import(monkeypatch, feed_key, thread.url, latin) == 1
    assert "latin1.csv:2 [reference] el valor no es texto UTF-8" in capsys.readouterr().err
    short = tmp_path / "corto.csv"
    short.write_text("payment_id,amount\nX,1\n", encoding="utf-8")
    assert _import(monkeypatch, feed_key, thread.url, short) == 2
    assert "le faltan columnas: account_number, paid_on, channel" in capsys.readouterr().err
    assert _import(monkeypatch, feed_key, thread.url, tmp_path / "no-hay.csv") == 2


def test_a_dry_run_checks_every_row_and_sends_nothing(tmp_path, server, monkeypatch, capsys):
    engine, _ = server
    path = tmp_path / "prueba.csv"
    path.write_text(HEADER + f"D-1,{IMPORTED},1000,MXN,{DAY},spei,r\nD-2,{IMPORTED},x,MXN,{DAY},spei,r\n")
    # No key and no server are needed to check a file.
    assert main(["import", "payments", str(path), "--dry-run"]) == 1
    assert "1 filas correctas, 1 filas rechazadas" in capsys.readouterr().out
    assert _status(engine, "payment", "D-1") is None
    assert [r["result"] for r in _report(path)] == ["checked", "refused"]


def test_only_an_integration_key_with_the_payments_scope_may_send_payments(tmp_path, server, monkeypatch, capsys):
    _, thread = server
    path = tmp_path / "pagos.csv"
    path.write_text(HEADER + f"K-1,{IMPORTED},1000,MXN,{DAY},spei,r\n")
    agent = auth_headers(thread.url, "agente01")["Authorization"].removeprefix("Bearer ")
    assert _import(monkeypatch, agent, thread.url, path) == 2
    assert "rechazó la llave de integración (INTEGRATION_ONLY)" in capsys.readouterr().err
    export = integration_headers(thread.url, ("export",), name="crm")["Authorization"].removeprefix("Bearer ")
    assert _import(monkeypatch, export, thread.url, path) == 2
    assert "(SCOPE_MISSING)" in capsys.readouterr().err
    assert _import(monkeypatch, "not-a-key", thread.url, path) == 2
    assert _import(monkeypatch, None, thread.url, path) == 2
    assert "COBRO_INTEGRATION_KEY" in capsys.readouterr().err


def test_a_server_that_does_not_answer_exits_4(tmp_path, feed_key, monkeypatch, capsys):
    path = tmp_path / "pagos.csv"
    path.write_text(HEADER + f"U-1,{IMPORTED},1000,MXN,{DAY},spei,r\n")
    assert _import(monkeypatch, feed_key, "http://127.0.0.1:9", path) == 4
    assert "no respondió" in capsys.readouterr().err


def test_the_api_refuses_huge_or_forged_payments_with_a_problem_not_a_500(server, feed_key):
    _, thread = server
    headers = {"Authorization": f"Bearer {feed_key}"}
    good = {
        "id": "A-1",
        "account_number": IMPORTED,
        "amount_centavos": 100,
        "paid_on": DAY,
        "channel": "spei",
        "reference": "",
    }
    forged = [
        {**good, "amount_centavos": 10**30},
        {**good, "amount_centavos": -5},
        {**good, "channel": "bitcoin"},
        {**good, "account_id": imported_id(IMPORTED)},  # both ways of naming the account at once
        {k: v for k, v in good.items() if k != "account_number"},  # neither
        {**good, "account_number": "x" * 500},
        {**good, "account_number": "\x1b[2J"},
        {**good, "paid_on": "99999-01-01"},
    ]
    for body in forged:
        answer = httpx.post(f"{thread.url}/v1/payments", json=body, headers=headers)
        assert answer.status_code == 422, body
        assert answer.json()["code"] == "MALFORMED_REQUEST"
    unknown = httpx.post(f"{thread.url}/v1/payments", json={**good, "account_number": "NO-1"}, headers=headers)
    assert unknown.status_code == 404 and "numbered NO-1" in unknown.json()["message"]
    assert httpx.post(f"{thread.url}/v1/payments", json=good, headers=headers).json()["new"] is True


def test_the_example_file_is_a_valid_payments_file(tmp_path, monkeypatch, capsys):
    example = Path(__file__).resolve().parent.parent / "examples" / "institution" / "payments.csv"
    copy = tmp_path / "payments.csv"
    copy.write_bytes(example.read_bytes())
    assert main(["import", "payments", str(copy), "--dry-run"]) == 0
    assert "5 filas correctas, 0 filas rechazadas" in capsys.readouterr().out


def test_messages_follow_the_language_setting(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COBRO_LANG", "en")
    path = tmp_path / "p.csv"
    path.write_text(HEADER + f"E-1,{IMPORTED},12.5,MXN,{DAY},spei,r\n")
    assert main(["import", "payments", str(path), "--dry-run"]) == 1
    assert "expected the amount in whole centavos" in capsys.readouterr().err


def test_migration_s0021_maps_the_numbers_of_accounts_stored_before_it(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from cobro_tui.server.account_keys import resolve
    from cobro_tui.server.db import MIGRATIONS, migrate, server_engine

    engine = server_engine(f"sqlite:///{tmp_path / 'server.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "s0016")
        conn.commit()
    docs = [
        {"id": "demo-1", "number": "711234567890"},  # made under another id: mapped
        {"id": imported_id("4152-9"), "number": "4152-9"},  # already under its number's id: no row needed
        {"id": "card-1", "number": "411111******1111"},  # a truncated card number names no account alone
    ]
    with engine.begin() as conn:
        for doc in docs:
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
    migrate(engine)
    with engine.connect() as conn:
        assert resolve(conn, "711234567890") == "demo-1"
        assert resolve(conn, "4152-9") == imported_id("4152-9")
        assert conn.exec_driver_sql("SELECT count(*) FROM account_keys").scalar() == 1
    engine.dispose()
