"""Entity ids: UUIDv7, created by the client, time-ordered."""

from __future__ import annotations

import random

import uuid6


def new_id() -> str:
    """A fresh UUIDv7 for a new entity or mutation."""
    return str(uuid6.uuid7())


def seeded_uuid7(unix_ms: int, rng: random.Random) -> str:
    """A UUIDv7 whose time and random parts come from the caller: reproducible demo data."""
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    bits = rng.getrandbits(74)
    value |= (bits >> 62) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= bits & ((1 << 62) - 1)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
