"""`cobro-tui doctor`, a damaged cache and `cobro-tui replay`, as a help desk and an agent run them:
separate processes against a real server on a loopback port, real encrypted caches."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import keyring
import pytest
from conftest import NOW
from sqlalchemy import Engine, select
from support.keyrings import FileKeyring
from sync_support import running_server
from test_sync_cli import run

from cobro_tui.bootstrap import open_user_cache
from cobro_tui.clock import FixedClock
from cobro_tui.domain.models import Channel
from cobro_tui.policy import Policy
from cobro_tui.server.run import ServerThread
from cobro_tui.server.schema import entities, mutation_log
from cobro_tui.services.contacts import ContactService
from cobro_tui.settings import load_settings
from cobro_tui.store.device import read_device

CHECKS = ["credentials", "cache", "server", "clock", "tzdata", "disk", "pending"]


@dataclass
class Floor:
    url: str
    server: Engine
    thread: ServerThread
    cache: Path


@pytest.fixture
def floor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Floor]:
    """A server on loopback and agente01 signed in and synced on this workstation; the test shares
    the workstation's keyring file, so it can write to the cache as the workstation does."""
    monkeypatch.setenv("COBRO_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    keyring.set_keyring(FileKeyring())
    with running_server(tmp_path, accounts=40, seed=7) as (server, thread):
        login = run(tmp_path, "login", "--server", thread.url, "--user", "agente01", "--password-stdin", stdin="demo\n")
        assert login.returncode == 0, login.stderr
        synced = run(tmp_path, "sync")
        assert synced.returncode == 0, synced.stderr
        yield Floor(thread.url, server, thread, tmp_path / "data" / "cache.db")


def record_contacts(policy: Policy, count: int) -> list[tuple[str, str]]:
    """`count` contacts logged on the workstation's cache and not sent yet: (mutation id, contact id)."""
    _, engine = open_user_cache(load_settings())
    try:
        with engine.connect() as conn:
            device = read_device(conn)
            accounts = conn.exec_driver_sql("SELECT id, customer_id FROM account ORDER BY id LIMIT ?", (count,)).all()
        assert device is not None and len(accounts) == count
        clock = FixedClock(NOW)
        contacts = ContactService(engine, clock, policy, device)
        ids = []
        for account_id, customer_id in accounts:
            logged = contacts.log(
                account_id=account_id,
                customer_id=customer_id,
                channel=Channel.VOICE,
                result_code="NC",
                started_at=NOW - timedelta(minutes=2),
            )
            ids.append((logged.outbox.mutation_id, logged.outbox.args["id"]))
        return ids
    finally:
        engine.dispose()


def doctor(tmp_path: Path, *args: str, **env: str) -> tuple[int, dict[str, dict[str, Any]], str]:
    """(exit code, check -> its JSON entry, the plain report in the interface language)."""
    plain = run(tmp_path, "doctor", **env)
    found = run(tmp_path, "doctor", "--json", *args, **env)
    assert plain.returncode == found.returncode, (plain.stdout, found.stdout)
    report = json.loads(found.stdout)
    assert report["exit_code"] == found.returncode
    assert [c["check"] for c in report["checks"]] == CHECKS
    return found.returncode, {c["check"]: c for c in report["checks"]}, plain.stdout


def flip_a_page(cache: Path, table: str, policy: Policy) -> None:
    """Spoil a few bytes in the middle of the root page of `table` (the cache closed), as a failing
    disk or a copy cut short would."""
    _, engine = open_user_cache(load_settings())
    with engine.connect() as conn:
        root = conn.exec_driver_sql("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).scalar_one()
        page = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    engine.dispose()
    assert not Path(f"{cache}-wal").exists()  # everything is in the file itself
    with cache.open("r+b") as handle:
        handle.seek((root - 1) * page + page // 2)
        spoilt = bytes(b ^ 0x5A for b in handle.read(16))
        handle.seek((root - 1) * page + page // 2)
        handle.write(spoilt)


def server_has(server: Engine, recorded: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """For each recorded contact: how many times the server logged its mutation, how many contact
    rows it holds of it."""
    with server.connect() as conn:
        return [
            (
                conn.execute(select(mutation_log.c.mutation_id).where(mutation_log.c.mutation_id == m)).all().__len__(),
                conn.execute(select(entities.c.id).where(entities.c.kind == "contact_attempt", entities.c.id == c))
                .all()
                .__len__(),
            )
            for m, c in recorded
        ]


def test_a_healthy_signed_in_workstation_is_all_ok(tmp_path: Path, floor: Floor) -> None:
    code, checks, plain = doctor(tmp_path)
    assert code == 0, plain
    assert {c["status"] for c in checks.values()} == {"ok"}, plain
    assert "FileKeyring" in checks["credentials"]["message"]
    assert checks["cache"]["message"].startswith("íntegra (quick_check de ")
    assert floor.url in checks["server"]["message"]
    assert "skew_seconds" in checks["clock"]["data"]
    assert checks["pending"]["message"] == "nada por enviar"
    lines = plain.splitlines()
    assert len(lines) == len(CHECKS) + 1 and lines[-1] == "Resultado: OK"
    assert all(line.startswith("OK ") for line in lines[:-1])
    english = run(tmp_path, "doctor", COBRO_LANG="en")
    assert english.returncode == 0 and "Result: OK" in english.stdout and "Pending items" in english.stdout


def test_items_waiting_are_counted_and_no_personal_data_is_printed(
    tmp_path: Path, floor: Floor, policy: Policy
) -> None:
    record_contacts(policy, 2)
    code, checks, plain = doctor(tmp_path, COBRO_LANG="en")
    assert code == 0 and checks["pending"]["message"].startswith("2 waiting; the oldest from "), plain
    _, engine = open_user_cache(load_settings())
    with engine.connect() as conn:
        names = conn.exec_driver_sql("SELECT full_name FROM customer").scalars().all()
        numbers = conn.exec_driver_sql("SELECT number FROM account").scalars().all()
        phones = conn.exec_driver_sql("SELECT value FROM contact_point").scalars().all()
    engine.dispose()
    for personal in [*names, *numbers, *phones]:
        assert personal not in plain


def test_with_the_server_down_the_server_fails_and_the_exit_code_is_2(tmp_path: Path, floor: Floor) -> None:
    floor.thread.stop()
    code, checks, plain = doctor(tmp_path)
    assert code == 2, plain
    assert checks["server"]["status"] == "fail" and "no responde" in checks["server"]["message"]
    assert checks["clock"]["status"] == "warn"  # not measured, said so
    assert checks["cache"]["status"] == "ok" and checks["credentials"]["status"] == "ok"
    assert "FALLA  Servidor" in plain and plain.splitlines()[-1] == "Resultado: FALLA"


def test_a_flipped_page_is_found_the_items_saved_and_replayed_exactly_once(
    tmp_path: Path, floor: Floor, policy: Policy
) -> None:
    ids = record_contacts(policy, 3)
    flip_a_page(floor.cache, "account", policy)

    code, checks, plain = doctor(tmp_path)
    assert code == 2, plain
    cache = checks["cache"]
    assert cache["status"] == "fail" and cache["data"]["saved"] == "3"
    saved = Path(cache["data"]["file"])
    assert saved.parent == floor.cache.parent and saved.name.startswith("unsent-") and saved.suffix == ".jsonl"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert "3 elementos sin enviar se guardaron en" in cache["message"] and "cobro-tui replay" in cache["message"]
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    assert [line["mutation_id"] for line in lines] == [m for m, _ in ids]
    assert all("args_sealed" in line and "args" not in line for line in lines)  # what the debtor said stays sealed

    # The workstation's own sync finds the same, saves nothing twice and says the same.
    again = run(tmp_path, "sync")
    assert again.returncode == 65 and "La caché está dañada" in again.stderr and str(saved) in again.stderr
    assert len(saved.read_text().splitlines()) == 3

    # As the message says: move the cache aside and sync again (the cache is rebuilt), then replay.
    floor.cache.rename(floor.cache.with_name("cache.db.damaged"))
    rebuilt = run(tmp_path, "sync")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert server_has(floor.server, ids) == [(0, 0)] * 3
    first = run(tmp_path, "replay", str(saved), COBRO_LANG="en")
    assert first.returncode == 0, first.stderr
    assert "3 items sent: applied 3" in first.stdout and "already received before 0" in first.stdout
    second = run(tmp_path, "replay", str(saved), COBRO_LANG="en")
    assert second.returncode == 0 and "already received before 3" in second.stdout
    assert server_has(floor.server, ids) == [(1, 1)] * 3  # each once
    assert run(tmp_path, "doctor").returncode == 0  # the new cache is whole


def test_a_cache_cut_to_zero_bytes_is_not_an_empty_intact_cache(tmp_path: Path, floor: Floor) -> None:
    os.truncate(floor.cache, 0)
    code, checks, plain = doctor(tmp_path, COBRO_LANG="en")
    assert code == 2, plain
    assert checks["cache"]["status"] == "fail" and "is empty (0 bytes)" in checks["cache"]["message"]
    assert floor.cache.stat().st_size == 0  # nothing was made of it
    audit = run(tmp_path, "audit", "verify")
    assert audit.returncode == 65 and "0 bytes" in audit.stderr  # not "intact"
    floor.cache.rename(floor.cache.with_name("cache.db.damaged"))
    assert run(tmp_path, "sync").returncode == 0
    assert run(tmp_path, "doctor").returncode == 0


def test_a_cache_cut_short_is_found_and_not_opened(tmp_path: Path, floor: Floor) -> None:
    os.truncate(floor.cache, floor.cache.stat().st_size // 2)
    code, checks, plain = doctor(tmp_path, COBRO_LANG="en")
    assert code == 2 and checks["cache"]["status"] == "fail", plain
    assert "damaged" in checks["cache"]["message"] and "wrong key" not in checks["cache"]["message"]
    synced = run(tmp_path, "sync", COBRO_LANG="en")
    assert synced.returncode == 65 and "damaged" in synced.stderr
