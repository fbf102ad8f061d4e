"""The time zone of a contact point, from where it is: municipality first, then state.

Mexico has four zones and, since the 2022 time law, border municipalities that keep the United
States' daylight saving time. The table is data (config/zones.toml); this module only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True, slots=True)
class ZoneTable:
    """IANA zones by INEGI state code (2 digits) and by municipality code (state + 3 digits)."""

    states: dict[str, str] = field(default_factory=dict)
    municipalities: dict[str, str] = field(default_factory=dict)
    fallback: str = "America/Mexico_City"

    def zone_name(self, state_code: str, municipality_code: str) -> str | None:
        """The zone of a place, or None when neither its municipality nor its state is known."""
        return self.municipalities.get(municipality_code) or self.states.get(state_code)

    def zone(self, state_code: str, municipality_code: str) -> ZoneInfo:
        """The zone of a place; the table's fallback when the place is unknown."""
        return ZoneInfo(self.zone_name(state_code, municipality_code) or self.fallback)

    def local_time(self, state_code: str, municipality_code: str, at: datetime) -> datetime:
        return at.astimezone(self.zone(state_code, municipality_code))


def zone_problems(table: ZoneTable) -> list[str]:
    """Zones the tz database does not know, and codes of the wrong shape."""
    problems = []
    entries = [("states", code, 2, zone) for code, zone in table.states.items()]
    entries += [("municipalities", code, 5, zone) for code, zone in table.municipalities.items()]
    entries += [("fallback", "", 0, table.fallback)]
    for section, code, width, zone in entries:
        if width and not (len(code) == width and code.isdigit()):
            problems.append(f"{section}: {code!r} is not a {width}-digit INEGI code")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{section}{'.' + code if code else ''}: {zone!r} is not an IANA time zone")
    return problems
