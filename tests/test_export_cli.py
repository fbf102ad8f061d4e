"""`cobro-tui export events` as a scheduler runs it: every page to a 0600 file in JSON Lines or CSV,
the cursor to resume from alone on the last line of stderr, resumed exactly once; hostile text in a
note comes out as the server stored it (JSON escaped, CSV cells that a spreadsheet would run as a
formula prefixed with an apostrophe); mistakes in the command line say how to fix them."""

from __future__ import annotations

import csv
import io
import json
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW, cli_env
from export_support import export_headers, read_all
from sync_support import make_station, push_commands, running_server

from cobro_tui.commands.export import COLUMNS
from cobro_tui.domain.ids import new_id
from cobro_tui.server.feed import get_doc

HOSTILE = '=cmd|" /C calc"!A0, "comillas", coma,\nsegunda línea; +1; -2; @A1 \x1b]0;título\x07 ñ'


@pytest.fixture
def floor(tmp_path: Path, clock, policy):
    """A server with the CRM's key, an agent's workstation, and the export read once (the seed's judging)."""
    with running_server(tmp_path, accounts=40, seed=13) as (engine, thread):
        station = make_station(tmp_path, "agent", thread.url, "agente01", clock, policy)
        assert station.round().ok
        headers = export_headers(thread.url)
        _, start = read_all(thread.url, headers)
        yield engine, thread, station, headers["Authorization"].removeprefix("Bearer "), start


def _cli(tmp_path: Path, url: str, key: str | None, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    extra = {"COBRO_INTEGRATION_KEY": key} if key else {}
    result = subprocess.run(
        [sys.executable, "-m", "cobro_tui", "export", "events", "--server", url, *args],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path, **extra, **env),
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _note(station, engine, text: str) -> str:
    account_id = station.accounts()[0][0]
    note_id = new_id()
    (verdict,) = push_commands(station, engine, ("note.add@1", {"id": note_id, "account_id": account_id, "text": text}))
    assert verdict["status"] == "applied"
    with engine.connect() as conn:
        return get_doc(conn, "note", note_id).data["text"]  # type: ignore[union-attr]


def test_jsonl_to_a_private_file_then_resumed_by_its_cursor_exactly_once(tmp_path: Path, floor) -> None:
    engine, thread, station, key, _ = floor
    stored = _note(station, engine, HOSTILE)
    assert "\x1b" not in stored and stored.startswith("=cmd")
    since = (NOW - timedelta(days=1)).astimezone().isoformat()
    out = tmp_path / "exports" / "eventos.jsonl"
    out.parent.mkdir()
    first = _cli(tmp_path, thread.url, key, "--since", since, "--format", "jsonl", "--output", str(out))
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    raw = out.read_bytes()
    assert raw.isascii() and b"\x1b" not in raw and b"\x07" not in raw  # escaped, never a control
    lines = [json.loads(line) for line in raw.decode().splitlines()]
    expected, head = read_all(thread.url, export_headers(thread.url), since=since)
    assert lines == expected
    assert [e["data"]["text"] for e in lines if e["kind"] == "note.added"] == [stored]  # round-trips exactly
    cursor = first.stderr.strip().splitlines()[-1]
    assert cursor == head
    assert "eventos exportados" in first.stderr

    # The scheduler's next run: only what came after.
    later = _note(station, engine, "segunda nota")
    second = _cli(tmp_path, thread.url, key, "--cursor", cursor, "--format", "jsonl", "--output", str(out))
    assert second.returncode == 0, second.stderr
    assert [json.loads(line)["data"]["text"] for line in out.read_text().splitlines()] == [later]
    again = _cli(tmp_path, thread.url, key, "--cursor", second.stderr.strip().splitlines()[-1], "--format", "jsonl")
    assert again.returncode == 0 and again.stdout == ""  # nothing twice
    assert again.stderr.strip().splitlines()[-1] == second.stderr.strip().splitlines()[-1]


def test_csv_has_the_documented_columns_and_cells_a_spreadsheet_cannot_run(tmp_path: Path, floor) -> None:
    engine, thread, station, key, start = floor
    stored = _note(station, engine, HOSTILE)
    minus = _note(station, engine, "-5 pesos de descuento")
    result = _cli(tmp_path, thread.url, key, "--cursor", start, "--format", "csv", "--page-size", "1")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert tuple(rows[0]) == COLUMNS
    body = [dict(zip(COLUMNS, row)) for row in rows[1:]]
    assert [r["kind"] for r in body] == ["note.added", "note.added"]
    hostile, negative = body
    assert hostile["text"] == "'" + stored and json.loads(hostile["data"])["text"] == stored
    assert negative["text"] == "'" + minus and json.loads(negative["data"])["text"] == minus
    assert hostile["account_id"] == station.accounts()[0][0] and hostile["agent"] == "agente01"
    assert int(hostile["seq"]) < int(negative["seq"])


def test_a_failed_run_leaves_the_previous_file_and_every_mistake_says_how_to_fix_it(tmp_path: Path, floor) -> None:
    _, thread, _, key, _ = floor
    out = tmp_path / "eventos.csv"
    out.write_text("lo de ayer\n")
    forged = _cli(tmp_path, thread.url, key, "--cursor", "inventado", "--format", "csv", "--output", str(out))
    assert forged.returncode == 2 and "cursor" in forged.stderr
    assert out.read_text() == "lo de ayer\n" and not list(tmp_path.glob(".eventos.csv.*"))
    naive = _cli(tmp_path, thread.url, key, "--since", "2026-11-01T00:00:00", "--format", "csv")
    assert naive.returncode == 2 and "desfase" in naive.stderr and "-06:00" in naive.stderr
    english = _cli(tmp_path, thread.url, key, "--since", "2026-11-01T00:00:00", "--format", "csv", COBRO_LANG="en")
    assert english.returncode == 2 and "has no offset" in english.stderr
    nowhere = _cli(tmp_path, thread.url, key, "--format", "jsonl")
    assert nowhere.returncode == 2 and "--since" in nowhere.stderr and "--cursor" in nowhere.stderr
    garbage = _cli(tmp_path, thread.url, key, "--since", "ayer", "--format", "jsonl")
    assert garbage.returncode == 2 and "ISO-8601" in garbage.stderr
    keyless = _cli(tmp_path, thread.url, None, "--since", NOW.isoformat(), "--format", "jsonl")
    assert keyless.returncode == 2 and "COBRO_INTEGRATION_KEY" in keyless.stderr
    huge = _cli(tmp_path, thread.url, key, "--since", NOW.isoformat(), "--format", "jsonl", "--page-size", "99999")
    assert huge.returncode == 2 and "5000" in huge.stderr
    wrong_format = _cli(tmp_path, thread.url, key, "--since", NOW.isoformat(), "--format", "xlsx")
    assert wrong_format.returncode == 2
