"""The portfolio import at an institution's size (issue #16): N accounts with their customers, contact
points and references as the layout's CSV files, imported through a real server (its own process, a
SQLite file) by `cobro-tui import portfolio` (its own process): first into an empty portfolio (cold),
then the same files again (warm: nothing changes). Quoted against a raw SQLite bulk insert of the
same rows in the same run. Peak memory is each process's own high-water mark (server + client).

    PYTHONPATH=src python bench/import_portfolio.py [--accounts 100000]

Targets: cold at most 60 s, warm at most 20 s, at most 500 MB peak.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import figure

from cobro_tui.demo.identity import curp, luhn_complete, rfc
from cobro_tui.demo.places import PLACES
from cobro_tui.domain.portfolio_file import COLUMNS

NOW = "2026-11-22T10:30:00-06:00"
CUT = date(2026, 11, 15)
FIRST = ("Ana", "José", "María", "Juan", "Luis", "Rosa", "Carmen", "Jorge", "Elena", "Miguel", "Laura", "Pedro")
LAST = ("López", "García", "Hernández", "Martínez", "Pérez", "Sánchez", "Ramírez", "Torres", "Flores", "Díaz")
PRODUCTS = ("tarjeta_credito", "prestamo_personal", "nomina", "automotriz")
FILES = ("customers", "accounts", "contacts", "references")


def generate(folder: Path, accounts: int, seed: int = 16) -> dict[str, int]:
    """The four files of the layout for `accounts` accounts (about 1.3 a customer); rows per file."""
    rng = random.Random(seed)
    handles = {kind: (folder / f"{kind}.csv").open("w", encoding="utf-8", newline="") for kind in FILES}
    writers = {kind: csv.writer(handles[kind]) for kind in FILES}
    for kind in FILES:
        writers[kind].writerow(COLUMNS[kind])
    counts = dict.fromkeys(FILES, 0)

    def phone(lada: str) -> str:
        digits = 10 - len(lada)
        return lada + str(rng.randint(2 * 10 ** (digits - 1), 10**digits - 1))

    made, person = 0, 0
    while made < accounts:
        person += 1
        place = PLACES[rng.randrange(len(PLACES))]
        first, paternal, maternal = rng.choice(FIRST), rng.choice(LAST), rng.choice(LAST)
        female = rng.random() < 0.5
        birth = CUT - timedelta(days=rng.randint(21 * 365, 78 * 365))
        ref = f"CLI-{person:08d}"
        writers["customers"].writerow(
            (
                ref,
                f"{first} {paternal} {maternal}",
                birth.isoformat(),
                rfc(first, paternal, maternal, birth, rng.randint(0, 1155)),
                curp(first, paternal, maternal, birth, female, place.curp_state, rng.randint(0, 9)),
            )
        )
        counts["customers"] += 1
        state, municipality = place.inegi_code[:2], place.inegi_code[2:]
        postal = place.postal_prefix + f"{rng.randint(0, 999):03d}"
        mobile = phone(place.lada)
        points = [("mobile", mobile, "1", "", "", "1"), ("whatsapp", mobile, "", "1", "", "")]
        if rng.random() < 0.5:
            points.append(("home", phone(place.lada), "", "", "", ""))
        if rng.random() < 0.6:
            points.append(("email", f"{first.lower()}.{person}@correo.com.mx", "", "", "1", ""))
        for kind, value, sms, whatsapp, email, primary in points:
            where = ("", "", "") if kind == "email" else (state, municipality, postal)
            writers["contacts"].writerow((ref, kind, value, "creditor", *where, sms, whatsapp, email, primary))
            counts["contacts"] += 1
        for _ in range(1 if rng.random() < 0.7 else 2):
            if made >= accounts:
                break
            made += 1
            product = PRODUCTS[rng.randrange(4)]
            dpd = rng.choice((-5, 0, 3, 15, 28, 33, 47, 61, 80, 95, 115, 130, 170, 200, 400))
            principal = rng.randint(5_000, 250_000) * 100
            months = max(0, -(-dpd // 30))
            interest, fees = principal * 35 // 1000 * max(months, 1), 45_000 * min(months, 4)
            vat, past_due = (interest + fees) * 16 // 100, min(principal // 24 * months, principal)
            if product == "tarjeta_credito":
                number = luhn_complete("557910" + f"{made:09d}")
            else:
                number = f"71{made:010d}"
            opened = CUT - timedelta(days=rng.randint(max(dpd, 0) + 120, 3000))

            def money(c: int) -> str:
                return f"{c // 100}.{c % 100:02d}"

            writers["accounts"].writerow(
                (
                    number,
                    ref,
                    product,
                    money(principal),
                    money(interest),
                    money(fees),
                    money(vat),
                    money(past_due),
                    money(past_due + fees),
                    dpd,
                    "ABCDE"[min(4, max(0, dpd // 45))],
                    opened.isoformat(),
                    "",
                    (CUT - timedelta(days=max(dpd, 0) + 5)).isoformat(),
                    money(principal // 24),
                    "MXN",
                    "Banco Ejemplo",
                    "",
                    "",
                )
            )
            counts["accounts"] += 1
            for role in ("referencia",) + (("aval",) if product == "automotriz" and rng.random() < 0.5 else ()):
                writers["references"].writerow(
                    (number, f"{rng.choice(FIRST)} {rng.choice(LAST)}", phone(place.lada), role, "amigo(a)")
                )
                counts["references"] += 1
    for handle in handles.values():
        handle.close()
    return counts


PREPARE = """
import sys
from cobro_tui.server.db import migrate, server_engine
from cobro_tui.server.seed import ensure_demo_users
engine = server_engine(sys.argv[1])
migrate(engine)
ensure_demo_users(engine)
"""


def start_server(folder: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    url = f"sqlite:///{folder / 'server.db'}"
    env = {**os.environ, "COBRO_NOW": NOW, "COBRO_DATA_DIR": str(folder), "COBRO_LOG_DIR": str(folder / "logs")}
    subprocess.run([sys.executable, "-c", PREPARE, url], check=True, env=env)
    process = subprocess.Popen(
        [sys.executable, "-m", "cobro_tui", "serve", "--port", str(port), "--db", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/health").status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def integration_key(base: str) -> str:
    login = httpx.post(f"{base}/v1/auth/login", json={"username": "gerente01", "password": "demo"}).json()
    made = httpx.post(
        f"{base}/v1/admin/integrations",
        json={"name": "core", "scopes": ["portfolio"]},
        headers={"Authorization": f"Bearer {login['token']}"},
    )
    made.raise_for_status()
    return str(made.json()["key"])


def memory_mib(pid: int, field: str = "VmHWM") -> float:
    """A live process's memory from /proc (VmHWM: its peak resident set; RssAnon: its own heap now;
    RssFile: pages of mapped files now, SQLite's memory-mapped database among them), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_import(folder: Path, base: str, key: str) -> tuple[float, float, str]:
    """One `cobro-tui import portfolio` of the four files: seconds, the client's peak MiB, its output."""
    env = {**os.environ, "COBRO_INTEGRATION_KEY": key, "COBRO_DATA_DIR": str(folder), "COBRO_LANG": "en"}
    env["COBRO_LOG_DIR"] = str(folder / "logs")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "cobro_tui", "import", "portfolio", "--server", base]
        + [str(folder / f"{kind}.csv") for kind in FILES],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = process.stdout.read().decode() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the import failed ({process.returncode}):\n{output}")
    return seconds, usage.ru_maxrss / 1024, output


def raw_sqlite(folder: Path) -> tuple[float, int]:
    """The same rows into one plain table per file of a fresh SQLite file, one transaction: the floor."""
    started = time.perf_counter()
    conn = sqlite3.connect(folder / "raw.db")
    conn.execute("PRAGMA journal_mode=WAL")
    rows = 0
    with conn:
        for kind in FILES:
            with (folder / f"{kind}.csv").open(encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle)
                header = next(reader)
                quoted = ", ".join(f'"{name}"' for name in header)  # "primary" is an SQL keyword
                conn.execute(f"CREATE TABLE raw_{kind} ({quoted})")
                marks = ", ".join("?" * len(header))
                before = conn.total_changes
                conn.executemany(f"INSERT INTO raw_{kind} VALUES ({marks})", reader)
                rows += conn.total_changes - before
    conn.close()
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    from cobro_tui.server.run import free_port

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        counts = generate(folder, args.accounts)
        total = sum(counts.values())
        print(f"portfolio import: {args.accounts:,} accounts, " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        figure("generate the four CSV files", time.perf_counter() - started, "s")
        raw_s, raw_rows = raw_sqlite(folder)
        assert raw_rows == total, (raw_rows, total)
        figure("raw SQLite bulk insert, same rows", raw_s, "s")
        figure("raw SQLite bulk insert, rows/s", total / raw_s, "rows/s")
        server, base = start_server(folder, args.port or free_port())
        try:
            key = integration_key(base)
            cold_s, cold_client, cold_out = run_import(folder, base, key)
            cold_server = memory_mib(server.pid)
            warm_s, warm_client, warm_out = run_import(folder, base, key)
            server_peak = memory_mib(server.pid)
            server_heap, server_mapped = memory_mib(server.pid, "RssAnon"), memory_mib(server.pid, "RssFile")
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(cold_out.strip().splitlines()[-2])
        figure("import, cold (empty portfolio), total", cold_s, "s", "<= 60 s at 100,000 accounts")
        figure("import, cold, rows/s", total / cold_s, "rows/s")
        figure("import, cold / raw SQLite bulk insert", cold_s / raw_s, "x")
        print(warm_out.strip().splitlines()[-2])
        figure("import, warm (the same files again), total", warm_s, "s", "<= 20 s at 100,000 accounts")
        figure("import, warm, rows/s", total / warm_s, "rows/s")
        figure("peak memory, server", server_peak, "MiB")
        figure("peak memory, server after the cold import", cold_server, "MiB")
        figure("server memory at the end: its own heap", server_heap, "MiB")
        figure("server memory at the end: mapped files (SQLite mmap)", server_mapped, "MiB")
        figure("peak memory, client", max(cold_client, warm_client), "MiB")
        figure("peak memory, server + client", server_peak + max(cold_client, warm_client), "MiB", "<= 500 MB")


if __name__ == "__main__":
    main()
