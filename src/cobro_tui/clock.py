"""The one clock of the program: system time, or a fixed instant from COBRO_NOW."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """Reads the operating system's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FixedClock:
    """A clock stopped at one instant: demos, tests and training (COBRO_NOW)."""

    instant: datetime

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ValueError("a fixed clock needs an instant with a UTC offset")

    def now(self) -> datetime:
        return self.instant.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant that carries its offset, such as 2026-11-22T10:30:00-06:00.

    Raises ValueError with the accepted form when the text has no offset or is not ISO-8601.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 instant; write it like 2026-11-22T10:30:00-06:00") from None
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; add one, like 2026-11-22T10:30:00-06:00 or ...Z")
    return value.astimezone(UTC)


def clock_for(fixed: datetime | None) -> Clock:
    """The clock the program runs on: fixed when an instant is configured, else the system's."""
    return FixedClock(fixed) if fixed is not None else SystemClock()
