"""What every text a client sends is checked for on the way in: valid Unicode, and no characters
that control a terminal (the server stores what supervisors and other agents will read)."""

from __future__ import annotations

import re
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides and isolates.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_controls(text: str) -> str:
    """The text with control characters removed (a carriage return ends a line, as a newline)."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def lone_surrogate(value: Any, path: str = "") -> str | None:
    """Where in a decoded JSON value a string holds a lone surrogate (not Unicode text), if anywhere."""
    if isinstance(value, str):
        return path or "value" if not value.isascii() and _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = lone_surrogate(key, path) or lone_surrogate(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = lone_surrogate(item, f"{path}[{index}]")
            if found:
                return found
    return None


def cleaned(value: Any) -> Any:
    """A JSON value with control characters removed from every string in it."""
    if isinstance(value, str):
        return without_controls(value)
    if isinstance(value, dict):
        return {without_controls(k): cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cleaned(v) for v in value]
    return value
