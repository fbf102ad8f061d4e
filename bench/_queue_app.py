"""Child process of bench/queue_ui.py: the workstation (or, with --datatable, a plain Textual DataTable
loaded with every row) on an existing encrypted cache, so process start is measured for real."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static

from cobro_tui.bootstrap import build_app, build_workstation
from cobro_tui.clock import FixedClock
from cobro_tui.policy import load_policy
from cobro_tui.settings import load_settings
from cobro_tui.store.engine import CacheFile

ROW_SQL = (
    "SELECT a.priority, c.full_name, a.number, a.product, a.bucket, a.dpd, a.past_due, "
    "a.principal + a.interest + a.fees + a.vat, a.last_contact_at FROM account a JOIN customer c "
    "ON c.id = a.customer_id WHERE a.assigned_agent = ? ORDER BY a.priority DESC, a.dpd DESC, a.id DESC"
)


class AllRows(App[None]):
    """The naive queue: every account read and added to a DataTable before the first paint."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.engine = engine

    def compose(self) -> ComposeResult:
        yield Static("", id="heading")
        yield DataTable(id="all")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.cursor_type = "row"
        for column in ("Prior.", "Cliente", "Cuenta", "Producto", "Tramo", "Días", "Exigible", "Saldo", "Último"):
            table.add_column(column)
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(ROW_SQL, ("agente01",)).fetchall()
        table.add_rows(
            [
                (
                    str(r[0]),
                    r[1],
                    r[2][-4:],
                    r[3],
                    r[4],
                    str(r[5]),
                    f"{r[6] / 100:,.2f}",
                    f"{r[7] / 100:,.2f}",
                    (r[8] or "—")[:10],
                )
                for r in rows
            ]
        )
        self.query_one("#heading", Static).update(f"DataTable · {len(rows):,} filas")
        table.focus()


def open_engine(path: Path, key_hex: str):  # type: ignore[no-untyped-def]
    return CacheFile(path, bytes.fromhex(key_hex)).open()


def main() -> None:
    path, now = Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
    engine = open_engine(path, os.environ["COBRO_BENCH_KEY"])
    if "--datatable" in sys.argv:
        AllRows(engine).run()
        return
    settings, clock = load_settings(), FixedClock(now)
    app = build_app(settings, clock, build_workstation(engine, settings, clock, load_policy(), "agente01", "demo"))
    app.run()


if __name__ == "__main__":
    main()
