"""The time zone of a contact point, from where it is: municipality first, then state.

Mexico has four zones and, since the 2022 time law, border municipalities that keep the United
States' daylight saving time. In the United States a state that spans zones is resolved by the
first three digits of the ZIP code. When the place is not known well enough, every zone it could
be in is a candidate, and the contact rules allow only what all of them allow (the intersection).
The table is data (config/zones.toml); this module only reads it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True, slots=True)
class ZoneTable:
    """IANA zones by INEGI state code (2 digits) and by municipality code (state + 3 digits)."""

    states: dict[str, str] = field(default_factory=dict)
    municipalities: dict[str, str] = field(default_factory=dict)
    fallback: str = "America/Mexico_City"
    us_states: dict[str, tuple[str, ...]] = field(default_factory=dict)  # USPS code -> zones, main first
    us_zip3: dict[str, str] = field(default_factory=dict)  # ZIP prefix -> zone, for states that span zones
    countries: dict[str, str] = field(default_factory=dict)  # single-zone countries (CO, PE) -> zone

    def candidates(
        self, country: str, state_code: str, municipality_code: str, postal_code: str = ""
    ) -> tuple[str, ...]:
        """Every zone the place could be in, most likely first; one when the place is known."""
        if country == "US":
            return self._us_candidates(state_code.upper(), postal_code)
        if country != "MX":
            return (self.countries[country],) if country in self.countries else (self.fallback,)
        if municipality_code in self.municipalities:
            return (self.municipalities[municipality_code],)
        state = self.states.get(state_code)
        if state is not None and municipality_code:
            return (state,)  # a known municipality that is not an exception keeps its state's zone
        prefix = state_code if state is not None else ""
        others = {z for code, z in self.municipalities.items() if code.startswith(prefix)}
        if state is None:
            others |= set(self.states.values())
        main = state or self.fallback
        return (main, *sorted(others - {main}))

    def _us_candidates(self, state: str, postal_code: str) -> tuple[str, ...]:
        zones = self.us_states.get(state)
        by_zip = self.us_zip3.get(postal_code[:3]) if len(postal_code) >= 3 else None
        if zones is None:
            if by_zip is not None:
                return (by_zip,)
            every = {z for zs in self.us_states.values() for z in zs}
            return tuple(sorted(every))
        if len(zones) == 1:
            return zones
        if by_zip is not None and by_zip in zones:
            return (by_zip,)
        return zones

    def zone_name(self, state_code: str, municipality_code: str) -> str | None:
        """The zone of a place, or None when neither its municipality nor its state is known."""
        return self.municipalities.get(municipality_code) or self.states.get(state_code)

    def zone(self, state_code: str, municipality_code: str) -> ZoneInfo:
        """The zone of a place; the table's fallback when the place is unknown."""
        return ZoneInfo(self.zone_name(state_code, municipality_code) or self.fallback)

    def local_time(self, state_code: str, municipality_code: str, at: datetime) -> datetime:
        return at.astimezone(self.zone(state_code, municipality_code))


@functools.cache  # a policy names the same few zones many times over
def is_zone(name: str) -> bool:
    """Whether the tz database knows a zone of this name (America/Mexico_City)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
