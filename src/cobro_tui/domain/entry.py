"""Reading what an agent types quickly: days and times in the forms and the wrap-up line."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, time

_DAY = re.compile(r"^(\d{1,2})(?:/(\d{1,2})(?:/(\d{2}|\d{4}))?)?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")


def parse_day(text: str, today: date) -> date | None:
    """A day as agents write it, or None: `15` (the next 15th, today included), `15/12` (this
    year, or next when already past), `15/12/2026`, `15/12/26` or `2026-12-15`."""
    raw = text.strip()
    iso = _ISO.match(raw)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        match = _DAY.match(raw)
        if match is None:
            return None
        day_of_month = int(match[1])
        if match[2] is None:
            year, month = today.year, today.month
            if day_of_month < today.day:
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            if day_of_month > monthrange(year, month)[1]:
                return None
            return date(year, month, day_of_month)
        month = int(match[2])
        if match[3] is None:
            candidate = date(today.year, month, day_of_month)
            return candidate if candidate >= today else date(today.year + 1, month, day_of_month)
        year = int(match[3])
        return date(year + 2000 if year < 100 else year, month, day_of_month)
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    """A time of day as `18`, `18:30` or `9:05`, or None."""
    match = _TIME.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
