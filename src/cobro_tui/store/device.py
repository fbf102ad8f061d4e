"""This device's identity and counters (the sync_meta row)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from cobro_tui.domain.ids import new_id
from cobro_tui.store.engine import write_connection


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    agent_id: str


def ensure_device(engine: Engine, agent_id: str) -> Device:
    """The device of this cache, created on first use; its id never changes for the file."""
    with write_connection(engine) as conn:
        row = conn.exec_driver_sql("SELECT device_id, agent_id FROM sync_meta WHERE id = 1").fetchone()
        if row is None:
            device_id = new_id()
            conn.exec_driver_sql(
                "INSERT INTO sync_meta (id, device_id, device_epoch, agent_id, next_client_seq) VALUES (1, ?, 1, ?, 1)",
                (device_id, agent_id),
            )
            return Device(device_id, agent_id)
        return Device(row[0], row[1])


def read_device(conn: Connection) -> Device | None:
    row = conn.exec_driver_sql("SELECT device_id, agent_id FROM sync_meta WHERE id = 1").fetchone()
    return None if row is None else Device(row[0], row[1])
