"""The tamper-evident audit chain (bitácora): canonical JSON, SHA-256 links, verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
_DOMAIN_TAG = b"audit-v1\x00"


class NotCanonical(TypeError):
    """A value that has no single canonical JSON form (floats, non-string keys, objects)."""


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        raise NotCanonical(f"{path} is a float; audit data holds integers (money in centavos) and text")
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical(f"{path} has a non-text key {key!r}")
            _check(item, f"{path}.{key}")
        return
    raise NotCanonical(f"{path} is a {type(value).__name__}; convert it to text or an integer first")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text, no floats: one byte string for one value."""
    _check(value, "data")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(body: str) -> str:
    """SHA-256 of the domain tag and the canonical body, in hex."""
    return hashlib.sha256(_DOMAIN_TAG + body.encode("utf-8")).hexdigest()


def event_body(*, seq: int, prev: str, ts: str, type: str, actor: str, device: str, data: dict[str, Any]) -> str:
    """The canonical body of audit event `seq`, chained to the hash `prev` of the one before."""
    return canonical_json(
        {"v": 1, "seq": seq, "prev": prev, "ts": ts, "type": type, "actor": actor, "device": device, "data": data}
    )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    body: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of walking a chain: intact, or where and why it first breaks."""

    events: int
    broken_at: int | None = None
    reason: str = ""
    head: str = GENESIS

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify_chain(events: Iterable[StoredEvent]) -> ChainReport:
    """Walk events in seq order and report the first broken link, if any."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for event in events:
        count += 1
        if event.seq != expected_seq:
            return ChainReport(
                count, event.seq, f"sequence jumps from {expected_seq - 1} to {event.seq} (events missing)", prev
            )
        if link_hash(event.body) != event.hash:
            return ChainReport(count, event.seq, "the stored hash does not match the event's content (edited)", prev)
        try:
            body = json.loads(event.body)
        except ValueError:
            return ChainReport(count, event.seq, "the event's content is not valid JSON", prev)
        if body.get("seq") != event.seq:
            return ChainReport(count, event.seq, "the event's content names another sequence number", prev)
        if body.get("prev") != prev:
            return ChainReport(
                count, event.seq, "the event does not link to the one before it (reordered or replaced)", prev
            )
        prev = event.hash
        expected_seq += 1
    return ChainReport(count, None, "", prev)


@dataclass(frozen=True, slots=True)
class AnchorCheck:
    """A local chain against the head the server keeps: it extends it, its tail was cut (truncated),
    it differs at an event the server keeps (rebuilt), or the server keeps nothing yet."""

    state: str  # extends | truncated | rebuilt | unanchored
    kept: int  # events the server keeps


def against_anchor(
    local_seq: int, local_hash_at_anchor: str | None, anchor_seq: int, anchor_hash: str | None
) -> AnchorCheck:
    """Compare a chain whose head is `local_seq` (and whose event number `anchor_seq` hashes to
    `local_hash_at_anchor`) with the head the server keeps."""
    if anchor_seq <= 0 or anchor_hash is None:
        return AnchorCheck("unanchored", 0)
    if local_seq < anchor_seq:
        return AnchorCheck("truncated", anchor_seq)
    if local_hash_at_anchor != anchor_hash:
        return AnchorCheck("rebuilt", anchor_seq)
    return AnchorCheck("extends", anchor_seq)
