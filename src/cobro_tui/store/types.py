"""Column types that keep the domain's guarantees in SQLite: aware UTC instants as text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from cobro_tui.domain.records import instant_text

__all__ = ["UTCDateTime", "instant_text"]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant stored as UTC ISO-8601 text; naive datetimes are refused."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> str | None:
        return None if value is None else instant_text(value)

    def process_result_value(self, value: str | None, dialect: object) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)
