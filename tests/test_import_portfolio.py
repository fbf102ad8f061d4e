"""The portfolio import end to end: `cobro-tui import portfolio` and PUT /v1/portfolio against a real
server on loopback with a real SQLite file, and agents' workstations syncing what came in."""

from __future__ import annotations

import csv
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import NOW
from sqlalchemy import Engine, func, select
from sync_support import auth_headers, integration_headers, make_station

from cobro_tui.cli import main
from cobro_tui.clock import FixedClock
from cobro_tui.domain import portfolio_ids as ids
from cobro_tui.server.run import ServerThread, free_port, prepare
from cobro_tui.server.schema import account_closures, bucket_facts, change_log, entities
from cobro_tui.server.seed import ensure_demo_users

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "institution"
FILES = ("customers.csv", "accounts.csv", "contacts.csv", "references.csv")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Engine, ServerThread]]:
    """A server with the demo's people and no portfolio: what an institution starts from."""
    engine = prepare(f"sqlite:///{tmp_path / 'server.db'}", FixedClock(NOW))
    ensure_demo_users(engine)
    try:
        with ServerThread(engine, FixedClock(NOW)) as thread:
            yield engine, thread
    finally:
        engine.dispose()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLES, folder)
    return folder


def cli(url: str, key: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("COBRO_INTEGRATION_KEY", key)
    return main(["import", "portfolio", "--server", url, *args])


def key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def head(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(change_log.c.seq), 0))).scalar_one())


def report(path: Path) -> list[dict[str, str]]:
    with path.with_name(path.name + ".report.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def put(url: str, headers: dict[str, str], rows: list[dict[str, Any]], **run: Any) -> httpx.Response:
    body = {"layout": 1, "run_id": run.pop("run_id", str(uuid.uuid4())), "rows": rows, **run}
    # ASCII JSON: a lone surrogate travels as its escape (\ud800), as an attacker would send it.
    content = json.dumps(body)
    return httpx.put(
        f"{url}/v1/portfolio", content=content, headers={**headers, "Content-Type": "application/json"}, timeout=60
    )


def test_the_example_files_go_in_and_the_same_files_again_add_nothing(
    server, files: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, thread = server
    key = key_of(integration_headers(thread.url, ("portfolio",)))
    paths = [str(files / name) for name in FILES]
    assert cli(thread.url, key, *paths, monkeypatch=monkeypatch) == 0
    first = capsys.readouterr().out
    assert "nuevas 14" in first and "nuevas 20" in first and "rechazadas 0" in first
    with engine.connect() as conn:
        kinds = dict(conn.execute(select(entities.c.kind, func.count()).group_by(entities.c.kind)).all())
        unassigned = conn.execute(
            select(func.count()).where(entities.c.kind == "account", entities.c.agent.is_(None))
        ).scalar_one()
    assert kinds["customer"] == 14 and kinds["account"] == 20 and kinds["contact_point"] == 39
    assert kinds["reference"] == 25 and kinds["bucket_history"] == 20
    assert unassigned == 0
    assert all(report(files / name) == [] for name in FILES)
    seq = head(engine)
    assert seq > 0
    assert cli(thread.url, key, *paths, monkeypatch=monkeypatch) == 0
    second = capsys.readouterr().out
    assert "sin cambios 14" in second and "sin cambios 20" in second and "sin cambios 39" in second
    assert head(engine) == seq  # nothing new in the change feed


def test_an_agent_syncing_after_the_import_sees_the_accounts_and_a_delta_changes_only_what_changed(
    tmp_path: Path, server, files: Path, monkeypatch: pytest.MonkeyPatch, policy
) -> None:
    engine, thread = server
    headers = integration_headers(thread.url, ("portfolio",))
    assert cli(thread.url, key_of(headers), *(str(files / n) for n in FILES), monkeypatch=monkeypatch) == 0
    accounts = rows_of(files / "accounts.csv")
    account_id = ids.account_id(accounts[0]["account_number"])
    with engine.connect() as conn:
        agent = conn.execute(select(entities.c.agent).where(entities.c.id == account_id)).scalar_one()
        theirs = set(
            conn.execute(select(entities.c.id).where(entities.c.kind == "account", entities.c.agent == agent)).scalars()
        )
    station = make_station(tmp_path, "ws", thread.url, agent, FixedClock(NOW), policy)
    station.round()
    assert {a for a, _ in station.accounts()} == theirs
    with station.cache.connect() as conn:
        phones = [r[0] for r in conn.exec_driver_sql("SELECT value FROM contact_point WHERE kind = 'mobile'")]
    assert phones and all(p.startswith("+52") for p in phones)

    # A delta: one account falls further behind (a new bucket); everything else as it was.
    before = head(engine)
    changed = {**accounts[0], "dpd": "75", "past_due": "9000.00"}
    answer = put(thread.url, headers, [{"kind": "accounts", "data": a} for a in (changed, *accounts[1:])]).json()
    assert [r["status"] for r in answer["rows"]].count("changed") == 1
    assert answer["counts"]["unchanged"] == len(accounts) - 1
    with engine.connect() as conn:
        new = conn.execute(select(change_log).where(change_log.c.seq > before)).all()
        stays = conn.execute(
            select(bucket_facts.c.bucket, bucket_facts.c.left_on).where(bucket_facts.c.account_id == account_id)
        ).all()
    assert {r.audience for r in new} == {agent}
    assert {r.entity_id for r in new if r.kind == "account"} == {account_id}
    assert sorted(s.bucket for s in stays) == ["30-59", "60-89"]
    assert [s.bucket for s in stays if s.left_on is None] == ["60-89"]
    station.round()
    with station.cache.connect() as conn:
        dpd, bucket = conn.exec_driver_sql("SELECT dpd, bucket FROM account WHERE id = ?", (account_id,)).one()
    assert (dpd, bucket) == (75, "60-89")


def test_bad_rows_are_reported_with_line_column_and_what_is_expected_and_the_good_rows_go_in(
    server, files: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, thread = server
    key = key_of(integration_headers(thread.url, ("portfolio",)))
    assert cli(thread.url, key, str(files / "customers.csv"), monkeypatch=monkeypatch) == 0
    good = rows_of(files / "accounts.csv")[:3]
    bad = [
        {**good[0], "account_number": "9900000001", "principal": "1,500.00"},  # line 5
        {**good[0], "account_number": "9900000002", "customer_ref": "NADIE"},  # line 6
        {**good[0], "account_number": "9900000003", "creditor": "Banco\x1b[2J\x07"},  # line 7
        {**good[0], "account_number": "9900000004", "dpd": "cuarenta"},  # line 8
    ]
    path = write(files / "accounts-cut.csv", [*good, *bad])
    assert cli(thread.url, key, str(path), monkeypatch=monkeypatch) == 1
    out = capsys.readouterr().out
    assert "nuevas 3" in out and "rechazadas 4" in out
    lines = report(path)
    assert [(r["line"], r["column"], r["code"]) for r in lines] == [
        ("5", "principal", "money"),
        ("6", "customer_ref", "unknown_customer"),
        ("7", "creditor", "controls"),
        ("8", "dpd", "integer"),
    ]
    assert lines[0]["message"].startswith("un número entero de centavos")  # Spanish by default
    assert all(r["file"] == "accounts-cut.csv" and r["severity"] == "error" for r in lines)
    assert "\x1b" not in "".join(r["value"] for r in lines)  # the report shows, never sends, a control
    with engine.connect() as conn:
        stored = set(conn.execute(select(entities.c.id).where(entities.c.kind == "account")).scalars())
    assert stored == {ids.account_id(a["account_number"]) for a in good}


def test_more_than_5000_rows_are_refused_whole_with_a_clear_problem(server) -> None:
    engine, thread = server
    headers = integration_headers(thread.url, ("portfolio",))
    row = {"kind": "customers", "data": {"customer_ref": "C", "full_name": "Ana", "birth_date": "1984-02-11"}}
    answer = put(thread.url, headers, [row] * 5001)
    assert answer.status_code == 413
    assert answer.json()["code"] == "TOO_MANY_ROWS" and "5,000" in answer.json()["message"]
    assert head(engine) == 0
    assert put(thread.url, headers, [row] * 5000).status_code == 200


def test_only_an_integration_credential_of_the_portfolio_scope_may_import(server) -> None:
    _, thread = server
    rows = [{"kind": "customers", "data": {"customer_ref": "C", "full_name": "Ana", "birth_date": "1984-02-11"}}]
    assert put(thread.url, {}, rows).status_code == 401
    for user in ("agente01", "supervisor01", "gerente01"):
        refused = put(thread.url, auth_headers(thread.url, user), rows)
        assert refused.status_code == 403 and refused.json()["code"] == "INTEGRATION_ONLY"
    payments_only = put(thread.url, integration_headers(thread.url, ("payments",), name="pagos"), rows)
    assert payments_only.status_code == 403 and payments_only.json()["code"] == "SCOPE_MISSING"


def test_forged_fields_hostile_text_huge_numbers_and_wrong_types_are_refused_row_by_row_never_a_500(server) -> None:
    engine, thread = server
    headers = integration_headers(thread.url, ("portfolio",))
    customer = {"customer_ref": "C-1", "full_name": "Ana López", "birth_date": "1984-02-11"}
    account = {
        "account_number": "7100000001",
        "customer_ref": "C-1",
        "product": "nomina",
        "principal": "100.00",
        "interest": 0,
        "fees": 0,
        "vat": 0,
        "past_due": 0,
        "min_to_cure": 0,
        "dpd": 10,
        "segment": "A",
        "opened_on": "2020-01-01",
    }
    hostile = [
        {**customer, "customer_ref": "C-2", "id": "forged", "_former_agents": ["agente02"]},
        {**customer, "customer_ref": "C-3", "full_name": "\x1b]0;pwned\x07Ana"},
        {**customer, "customer_ref": "../../etc/passwd"},
        {**customer, "customer_ref": "C-4", "full_name": ["a"]},
        {**customer, "customer_ref": "C-5", "full_name": {"x": 1}},
        {**customer, "customer_ref": "C-6", "birth_date": 19840211},
        {**customer, "customer_ref": "C-7", "full_name": "A" * 100_000},
        {**customer, "customer_ref": "C-8", "full_name": "Ana\ud800"},
    ]
    money = [
        {**account, "principal": 10**30},
        {**account, "principal": "9" * 4000},
        {**account, "principal": 1.5},
        {**account, "principal": -1},
        {**account, "dpd": 2**63},
        {**account, "dpd": True},
        {**account, "agent": "gerente01"},
    ]
    rows = [
        {"kind": "customers", "data": customer},
        *({"kind": "customers", "data": d} for d in hostile),
        *({"kind": "accounts", "data": d} for d in money),
    ]
    answer = put(thread.url, headers, rows)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    statuses = [r["status"] for r in answer.json()["rows"]]
    assert statuses == ["new"] + ["refused"] * (len(hostile) + len(money))
    assert answer.json()["rows"][1]["problems"][0]["code"] == "not_a_column"
    assert answer.json()["rows"][-1]["problems"][0]["code"] == "unknown_agent"  # a manager holds no accounts
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(entities)).scalar_one() == 1
    # Bodies that are not the schema at all: the one status for a bad body, never a 500.
    for body in (
        {"layout": 2, "run_id": "r", "rows": []},
        {"layout": 1, "run_id": "../x", "rows": []},
        {"layout": 1, "run_id": "r", "rows": "x"},
        {"layout": 1, "run_id": "r", "rows": [{"kind": "accounts", "data": [1]}]},
        {"layout": 1, "run_id": "r", "rows": [{"kind": "payments", "data": {}}]},
    ):
        assert httpx.put(f"{thread.url}/v1/portfolio", json=body, headers=headers).status_code == 422, body
    huge = '{"layout": 1, "run_id": "r", "rows": [{"kind": "accounts", "data": {"dpd": ' + "9" * 5000 + "}}]}"
    raw = httpx.put(f"{thread.url}/v1/portfolio", content=huge, headers={**headers, "Content-Type": "application/json"})
    assert raw.status_code in (200, 422), raw.text


def test_full_close_missing_closes_and_revokes_and_never_deletes(
    tmp_path: Path, server, files: Path, monkeypatch: pytest.MonkeyPatch, policy
) -> None:
    engine, thread = server
    key = key_of(integration_headers(thread.url, ("portfolio",)))
    paths = [str(files / n) for n in FILES]
    assert cli(thread.url, key, *paths, monkeypatch=monkeypatch) == 0
    accounts = rows_of(files / "accounts.csv")
    gone = [ids.account_id(a["account_number"]) for a in accounts[:2]]
    with engine.connect() as conn:
        agent = conn.execute(select(entities.c.agent).where(entities.c.id == gone[0])).scalar_one()
    station = make_station(tmp_path, "ws", thread.url, agent, FixedClock(NOW), policy)
    station.round()
    assert gone[0] in {a for a, _ in station.accounts()}
    cut = write(tmp_path / "accounts-full.csv", accounts[2:])

    # --full alone closes nothing; --close-missing alone is a usage error.
    assert cli(thread.url, key, str(cut), "--full", monkeypatch=monkeypatch) == 0
    assert cli(thread.url, key, str(cut), "--close-missing", monkeypatch=monkeypatch) == 2
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(account_closures)).scalar_one() == 0

    assert cli(thread.url, key, str(cut), "--full", "--close-missing", monkeypatch=monkeypatch) == 0
    with engine.connect() as conn:
        closed = dict(conn.execute(select(account_closures.c.account_id, account_closures.c.reason)).all())
        kept = conn.execute(select(entities.c.id, entities.c.agent).where(entities.c.id.in_(gone))).all()
    assert closed == dict.fromkeys(gone, "missing")
    assert sorted((r.id, r.agent) for r in kept) == sorted((g, None) for g in gone)  # kept, held by nobody
    station.round()
    assert not set(gone) & {a for a, _ in station.accounts()}

    seq = head(engine)
    assert cli(thread.url, key, str(cut), "--full", "--close-missing", monkeypatch=monkeypatch) == 0
    assert head(engine) == seq  # closing again what is closed adds nothing

    # Back in a later file: open again, and assigned again.
    assert cli(thread.url, key, str(files / "accounts.csv"), monkeypatch=monkeypatch) == 0
    with engine.connect() as conn:
        reopened = conn.execute(select(entities.c.agent).where(entities.c.id.in_(gone))).scalars().all()
        open_closures = conn.execute(select(func.count()).where(account_closures.c.reopened_on.is_(None))).scalar_one()
    assert all(reopened) and open_closures == 0


def test_a_row_can_close_an_account_and_the_agent_column_moves_one(server, files: Path, monkeypatch) -> None:
    engine, thread = server
    headers = integration_headers(thread.url, ("portfolio",))
    assert cli(thread.url, key_of(headers), *(str(files / n) for n in FILES), monkeypatch=monkeypatch) == 0
    first, second = rows_of(files / "accounts.csv")[:2]
    moved, closing = ids.account_id(first["account_number"]), ids.account_id(second["account_number"])
    with engine.connect() as conn:
        holders = dict(
            conn.execute(select(entities.c.id, entities.c.agent).where(entities.c.id.in_([moved, closing]))).all()
        )
    target = "agente09" if holders[moved] != "agente09" else "agente08"
    before = head(engine)
    answer = put(
        thread.url,
        headers,
        [
            {"kind": "accounts", "data": {**first, "agent": target}},
            {"kind": "accounts", "data": {**second, "closed": "1"}},
        ],
    ).json()
    assert [r["status"] for r in answer["rows"]] == ["changed", "closed"]
    with engine.connect() as conn:
        new = conn.execute(select(change_log).where(change_log.c.seq > before)).all()
        now_held = dict(
            conn.execute(select(entities.c.id, entities.c.agent).where(entities.c.id.in_([moved, closing]))).all()
        )
    revokes = {(r.audience, r.entity_id, json.loads(r.payload)["reason"]) for r in new if r.op == "revoke"}
    assert revokes == {(holders[moved], moved, "reassigned"), (holders[closing], closing, "closed")}
    assert now_held == {moved: target, closing: None}
    # The same rows again: nothing moves, nothing is sent.
    seq = head(engine)
    again = put(
        thread.url,
        headers,
        [
            {"kind": "accounts", "data": {**first, "agent": target}},
            {"kind": "accounts", "data": {**second, "closed": "1"}},
        ],
    ).json()
    assert [r["status"] for r in again["rows"]] == ["unchanged", "unchanged"]
    assert head(engine) == seq


def test_usage_errors_and_an_unreachable_server_have_their_exit_codes(
    tmp_path: Path, files: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert cli(url, "k", str(files / "customers.csv"), monkeypatch=monkeypatch) == 4
    assert cli(url, "k", str(tmp_path / "cartera.csv"), monkeypatch=monkeypatch) == 2
    typo = tmp_path / "accounts.csv"
    typo.write_text("account_number,customer_ref,principle\n1,2,3\n", encoding="utf-8")
    assert cli(url, "k", str(typo), monkeypatch=monkeypatch) == 2  # refused before anything is sent
    assert "principle" in capsys.readouterr().err
    monkeypatch.delenv("COBRO_INTEGRATION_KEY")
    assert main(["import", "portfolio", "--server", url, str(files / "customers.csv")]) == 2
    assert main(["import", "portfolio", str(files / "customers.csv"), "--dry-run"]) == 0
