"""What every text a client sends is checked for on the way in: valid Unicode, and no characters
that control a terminal (the server stores what supervisors and other agents will read)."""

from __future__ import annotations

import re
from typing import Any

from cobro_tui.domain.text import MAX_DEPTH, TooDeep, cleaned, depth, without_controls

_SURROGATE = re.compile("[\ud800-\udfff]")

__all__ = ["MAX_DEPTH", "TooDeep", "cleaned", "depth", "lone_surrogate", "without_controls"]


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
