"""Logs on both sides (issue #15): the workstation's rotating private file, the server's JSON lines
with request ids, and never a debtor's personal data in either."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import NOW, cli_env
from sqlalchemy import create_engine, text
from sync_support import make_station

from cobro_tui.clock import FixedClock
from cobro_tui.domain.models import Channel
from cobro_tui.logs import ROTATE_BYTES, get, redacted, start_workstation_log
from cobro_tui.policy import Policy
from cobro_tui.server.run import free_port

CARD = "4111111111111111"
PHONE = "+525512345678"
RFC = "GOLA800101AB1"
CURP = "GOLA800101HDFRPN09"
EMAIL = "ana.gomez@example.com"


def test_phones_and_cards_are_masked_however_they_are_written_and_ids_are_not() -> None:
    for value in ("+52 744 687 2677", "(744) 687-2677", "744.687.2677", "4111 1111 1111 1111", "4111-1111-1111-1111"):
        assert redacted(f"x {value} y") == "x <number> y", value
    for value in ("411111XXXXXX1111", "4111 **** **** 1111"):
        assert redacted(value) == "<number>", value
    for hostile in ("1000 " + "x" * 5000, "1" * 5000 + "x", "4111 " + "* " * 2000 + "y", "4111" + "Xx" * 3000):
        redacted(hostile)  # no pattern backtracks without end on a long run (this once hung the log)
    for kept in ("0158972c-1b44-7abc-8def-0123456789ab", "ebda803f7.1234567", "pushed 1234567", "bytes=10485760"):
        assert redacted(kept) == kept


def test_a_message_cannot_forge_a_line_or_move_the_terminal(tmp_path: Path) -> None:
    path = start_workstation_log()
    get("sync").warning("refused: %s", "ok\r\n2026-11-22T16:30:00.000Z INFO sync: forged\x1b[2J\x1b]0;pwned\x07")
    try:
        raise ValueError("Clemente Cintrón, 744 687 2677")
    except ValueError:
        get("ui").error("worker failed", exc_info=True)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and "\x1b" not in path.read_text() and "\\x1b[2J" in lines[0]
    assert lines[1].endswith("worker failed (ValueError)")  # the type, not its words


def test_a_named_log_folder_keeps_its_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cobro_tui.crash import write_crash_report

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setenv("COBRO_LOG_DIR", str(shared))
    start_workstation_log()
    get("test").info("hello")
    write_crash_report(RuntimeError("boom"))
    assert oct(shared.stat().st_mode & 0o7777) == "0o1777"
    assert all(oct(f.stat().st_mode & 0o777) == "0o600" for f in shared.iterdir())


def test_what_looks_like_personal_data_is_masked_in_any_message() -> None:
    line = redacted(f"refused: {CARD} / {PHONE} / 5512345678 / {RFC} / {CURP} / {EMAIL} / 411111******1111")
    for value in (CARD, PHONE, "5512345678", RFC, CURP, EMAIL, "411111******1111"):
        assert value not in line
    assert line.count("<number>") == 4 and "<rfc>" in line and "<curp>" in line and "<e-mail>" in line
    kept = "round: pushed 200 (applied 198, rejected 2) in 1234 ms at 2026-12-03T16:00:00Z, device 0193-ab"
    assert redacted(kept) == kept  # counts, times and ids are what logs are for


def test_the_workstation_log_rotates_and_every_file_is_private(tmp_path: Path) -> None:
    path = start_workstation_log()
    log = get("test")
    for n in range(ROTATE_BYTES // 100 + 50):
        log.info("line %d %s", n, "x" * 90)
    files = sorted(path.parent.glob("cobro-tui.log*"))
    assert len(files) == 2 and all(oct(f.stat().st_mode & 0o777) == "0o600" for f in files)
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    first = path.read_text().splitlines()[0]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO test: line \d+ x+$", first)  # UTC, says so


def _serve(tmp_path: Path, stderr: Path) -> tuple[subprocess.Popen[bytes], str]:
    port, db = free_port(), f"sqlite:///{tmp_path / 'server.db'}"
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "cobro_tui", "serve", "--port", str(port), "--demo", "60", "--db", db],
            env=cli_env(tmp_path / "server-side", COBRO_NOW=NOW.isoformat()),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/health").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"the server did not come up: {stderr.read_text()}")


def _personal_data(db: Path) -> set[str]:
    """Every name, phone, e-mail, RFC, CURP and account number the server holds."""
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, data FROM entities WHERE kind IN ('customer', 'contact_point', 'account')")
        )
        found: set[str] = set()
        for kind, data in rows:
            record = json.loads(data)
            if kind == "customer":
                found |= {record["full_name"], record["rfc"], record["curp"]}
            elif kind == "contact_point":
                found.add(record["value"])
            else:
                found.add(record["number"])
    engine.dispose()
    return {value for value in found if value and len(value) >= 6}


@pytest.mark.slow
def test_no_log_line_on_either_side_holds_personal_data(tmp_path: Path, policy: Policy) -> None:
    server_err = tmp_path / "server.stderr"
    process, url = _serve(tmp_path, server_err)
    try:
        workstation_log = start_workstation_log()
        station = make_station(tmp_path, "logs", url, "agente01", FixedClock(NOW), policy)
        assert station.round().ok
        hostile = f"Ana Gómez {PHONE} {RFC} {CURP} {CARD} {EMAIL}"
        for account in station.accounts()[:5]:
            station.contacts.log(
                account_id=account[0],
                customer_id=account[1],
                channel=Channel.VOICE,
                result_code="NC",
                notes=hostile,
            )
        account_id = station.accounts()[0][0]
        station.promise(account_id, 300)
        station.promise(account_id, 400)  # the server refuses the second: a reason comes back
        report = station.round()
        assert report.applied >= 6 and report.rejected == 1
        # Hostile requests too: a login with a name for a user, a request id that is not one.
        httpx.post(f"{url}/v1/auth/login", json={"username": f"Ana Gómez {PHONE}", "password": CARD})
        httpx.get(f"{url}/v1/changes", headers={"X-Request-ID": f"{EMAIL} {CARD}"})
        looks_like_a_card = httpx.get(f"{url}/v1/health", headers={"X-Request-ID": CARD})
        assert looks_like_a_card.headers["x-request-id"] != CARD  # replaced, never logged
        token = httpx.post(f"{url}/v1/auth/login", json={"username": "agente01", "password": "demo"}).json()["token"]
        huge = httpx.get(f"{url}/v1/changes", headers={"Authorization": f"Bearer {token}", "Pending-Items": "9" * 20})
        assert huge.status_code == 422, huge.text  # was a 500
        traced = httpx.get(f"{url}/v1/health", headers={"X-Request-ID": "floor-7f3a9c21"})
        assert traced.headers["x-request-id"] == "floor-7f3a9c21"
        cli = subprocess.run(
            [sys.executable, "-m", "cobro_tui", "sync"],
            env=cli_env(tmp_path, COBRO_NOW=NOW.isoformat()),
            capture_output=True,
            timeout=120,
        )
        assert cli.returncode != 0  # this home never signed in: said, and logged
    finally:
        process.terminate()
        process.wait(timeout=20)
    logging.getLogger("cobro_tui").handlers[0].flush()
    secrets = _personal_data(tmp_path / "server.db") | {"Ana Gómez", PHONE, PHONE[3:], RFC, CURP, CARD, EMAIL}
    lines = server_err.read_text().splitlines()
    requests = [json.loads(line) for line in lines if line.startswith("{") and '"event": "request"' in line]
    assert {r["route"] for r in requests} >= {"/v1/mutations", "/v1/changes", "/v1/auth/login", "/v1/health"}
    assert all(re.fullmatch(r"[A-Za-z0-9._:-]{8,64}", r["request_id"]) for r in requests)
    assert any(r["request_id"] == "floor-7f3a9c21" for r in requests)
    assert any(r.get("user") == "agente01" and r["route"] == "/v1/mutations" for r in requests)
    signs = [json.loads(line) for line in lines if '"event": "sign_in"' in line]
    assert {s.get("reason") for s in signs} >= {"BAD_CREDENTIALS"} and any(s.get("user") == "agente01" for s in signs)
    assert all(line.startswith("{") for line in lines), lines[:3]  # JSON lines only, uvicorn's too
    written = workstation_log.read_text().splitlines()  # this process's and the CLI's (the same COBRO_LOG_DIR)
    assert any("sync: round: pushed" in line for line in written) and any("INFO cli: sync:" in line for line in written)
    assert len(secrets) > 200  # the check below has something to find
    for line in lines + written:
        leaked = [value for value in secrets if value in line]
        assert not leaked, f"{leaked} in a log line: {line}"
