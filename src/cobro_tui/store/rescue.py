"""The file of unsent items saved from a damaged cache, for `cobro-tui replay` to push again.

JSON Lines, 0600 in the data folder, one outbox item a line with everything its push needs: the
device and epoch it was numbered in, its mutation id (the server's idempotency key) and client_seq,
its name, when it happened, and its arguments. The arguments carry personal data (notes, amounts,
what the debtor said): they are sealed with AES-GCM under the cache's own key, which stays in the
keyring or the vault, so the file is no easier to read than the cache was. The file is named by
the device and grows only: a second rescue of the same cache adds what the first could not read.
"""

from __future__ import annotations

import base64
import json
import secrets
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cobro_tui import logs
from cobro_tui.store.integrity import CacheDamaged, Salvage, salvage

FORMAT = "cobro-unsent/1"
log = logs.get("cache")


class RescueUnreadable(ValueError):
    """A line that is not an unsent item of this format (or whose arguments this key does not open)."""


def rescue_path(folder: Path, salvage: Salvage) -> Path:
    device = salvage.device_id or "unknown-device"
    return folder / f"unsent-{device}.jsonl"


def _seal(key: bytes, mutation_id: str, args_json: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, args_json.encode("utf-8"), mutation_id.encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def write_rescue(folder: Path, cache: Path, salvage: Salvage, key: bytes) -> tuple[Path, int]:
    """Write (or grow) the rescue file of this device; (its path, how many items it holds).
    Raises OSError when it cannot be written (a full disk)."""
    from cobro_tui.files import write_private_bytes

    path = rescue_path(folder, salvage)
    lines: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            with suppress(ValueError, KeyError, TypeError):  # a line spoilt by hand: the salvage stands
                lines[json.loads(line)["mutation_id"]] = line
    for item in salvage.items:
        if item["mutation_id"] in lines:
            continue
        entry = {
            "format": FORMAT,
            "cache": str(cache),
            "server_url": salvage.server_url,
            "agent": salvage.agent,
            "device_id": salvage.device_id,
            "device_epoch": salvage.device_epoch or 1,
            **{k: v for k, v in item.items() if k != "args_json"},
            "args_sealed": _seal(key, item["mutation_id"], item["args_json"]),
        }
        lines[item["mutation_id"]] = json.dumps(entry, ensure_ascii=False, sort_keys=True)
    ordered = sorted(lines.values(), key=lambda text: json.loads(text).get("client_seq", 0))
    write_private_bytes(path, "".join(f"{line}\n" for line in ordered).encode("utf-8"))
    return path, len(ordered)


@dataclass(frozen=True, slots=True)
class UnsentItem:
    cache: Path
    server_url: str | None
    agent: str | None
    device_id: str
    device_epoch: int
    mutation_id: str
    client_seq: int
    name: str
    occurred_at_client: str
    observed_cursor: str | None
    base_version: int | None
    args_sealed: str

    def args(self, key: bytes) -> dict[str, Any]:
        """The item's arguments, opened with the cache key they were sealed with."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            raw = base64.b64decode(self.args_sealed, validate=True)
            plain = AESGCM(key).decrypt(raw[:12], raw[12:], self.mutation_id.encode())
            args = json.loads(plain)
        except (InvalidTag, ValueError):
            raise RescueUnreadable(self.mutation_id) from None
        if not isinstance(args, dict):
            raise RescueUnreadable(self.mutation_id)
        return args


def read_rescue(path: Path) -> list[UnsentItem]:
    """The items of a rescue file in client_seq order; a line that is not one raises RescueUnreadable
    with its line number."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if data.get("format") != FORMAT:
                raise ValueError("format")
            items.append(
                UnsentItem(
                    cache=Path(str(data["cache"])),
                    server_url=data.get("server_url"),
                    agent=data.get("agent"),
                    device_id=str(data["device_id"]),
                    device_epoch=int(data["device_epoch"]),
                    mutation_id=str(data["mutation_id"]),
                    client_seq=int(data["client_seq"]),
                    name=str(data["name"]),
                    occurred_at_client=str(data["occurred_at_client"]),
                    observed_cursor=data.get("observed_cursor"),
                    base_version=data.get("base_version"),
                    args_sealed=str(data["args_sealed"]),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RescueUnreadable(f"line {number}") from None
    return sorted(items, key=lambda item: item.client_seq)


def rescue_damaged(cache: Path, key: bytes, reason: str) -> CacheDamaged:
    """The cache at `cache` is damaged: save every unsent item that can still be read beside it,
    then the words that tell the person what to do next (raised by the caller)."""
    from cobro_tui.i18n import t

    found = salvage(cache, key)
    aside = cache.with_name(cache.name + ".damaged")
    log.error(
        "cache damaged (%s): %d unsent items read, %d rows unreadable", reason, len(found.items), found.unreadable
    )
    if not found.items:
        key_name = "doctor.damaged_emptied" if reason == "emptied" else "doctor.damaged_nothing"
        return CacheDamaged(t(key_name, path=cache, aside=aside), cache, 0, None, reason)
    try:
        saved_to, count = write_rescue(cache.parent, cache, found, key)
    except OSError as exc:
        return CacheDamaged(
            t(
                "doctor.damaged_unsaved",
                path=cache,
                count=len(found.items),
                dir=cache.parent,
                error=exc.strerror or exc,
            ),
            cache,
            0,
            None,
            reason,
        )
    message = t("doctor.damaged", path=cache, aside=aside, count=count, file=saved_to)
    if found.unreadable:
        message += " " + t("doctor.damaged_some_lost", rows=found.unreadable)
    return CacheDamaged(message, cache, count, saved_to, reason)
