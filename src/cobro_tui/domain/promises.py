"""What is wrong with an offer, as a message id and its values, for the UI to word.

The checks themselves follow the offer policy (domain/offers.py, config/offers.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    key: str  # message id, "<offer>.<what>"
    values: dict[str, Any]
