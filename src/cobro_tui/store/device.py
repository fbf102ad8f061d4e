"""This device's identity and counters (the sync_meta row)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping

from cobro_tui.domain.ids import new_id
from cobro_tui.store.engine import write_connection


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    agent_id: str


def meta(conn: Connection, *columns: str) -> RowMapping | None:
    """Columns of the sync_meta row, by name (None before the device exists)."""
    return conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM sync_meta WHERE id = 1").mappings().first()


def set_meta(conn: Connection, **values: Any) -> None:
    """Set columns of the sync_meta row."""
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    conn.exec_driver_sql(f"UPDATE sync_meta SET {assignments} WHERE id = 1", values)


def ensure_device(engine: Engine, agent_id: str) -> Device:
    """The device of this cache, created on first use; its id never changes for the file."""
    with write_connection(engine) as conn:
        found = read_device(conn)
        if found is not None:
            return found
        device = Device(new_id(), agent_id)
        conn.exec_driver_sql(
            "INSERT INTO sync_meta (id, device_id, device_epoch, agent_id, next_client_seq) VALUES (1, ?, 1, ?, 1)",
            (device.device_id, device.agent_id),
        )
        return device


def read_device(conn: Connection) -> Device | None:
    row = meta(conn, "device_id", "agent_id")
    return None if row is None else Device(row["device_id"], row["agent_id"])
