"""Secrets (the cache key, later the session token) live only in the OS keyring.

A missing or plaintext keyring backend is refused with a clear message. The demo, which must run
on machines without a desktop keyring, keeps its key in its own process only.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Protocol

from cobro_tui.errors import UserFacingError

SERVICE = "cobro-tui"
KEY_BYTES = 32

# Backends that store nothing, or store secrets in plain files.
_REFUSED_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


class KeyringUnavailable(UserFacingError):
    """No secure keyring backend: secrets cannot be kept."""


class MissingCacheKey(UserFacingError):
    """A cache exists but its key is not in the keyring."""


class KeyStore(Protocol):
    def cache_key(self, cache_path: Path, create: bool) -> bytes | None:
        """The key of the cache at `cache_path`; a new random one when `create` and none exists."""
        ...


def _key_name(cache_path: Path) -> str:
    digest = hashlib.sha256(str(cache_path.resolve()).encode()).hexdigest()[:16]
    return f"cache-key:{digest}"


class MemoryKeyStore:
    """Keys held only by this process: the demo, and tests of the layers above."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}

    def cache_key(self, cache_path: Path, create: bool) -> bytes | None:
        name = _key_name(cache_path)
        if name not in self._keys and create:
            self._keys[name] = secrets.token_bytes(KEY_BYTES)
        return self._keys.get(name)


def _backend_names() -> list[str]:
    import keyring

    backend = keyring.get_keyring()
    chain = getattr(backend, "backends", None) or [backend]
    return [f"{type(item).__module__}.{type(item).__name__}" for item in chain]


def assert_secure_keyring() -> None:
    """Refuse to go on when the keyring would lose secrets or write them in plain text."""
    names = _backend_names()
    usable = [name for name in names if not name.startswith(_REFUSED_MODULES)]
    if not usable:
        raise KeyringUnavailable(
            "No secure keyring is available (found: " + ", ".join(names) + "). cobro-tui keeps its cache "
            "key and session token only in the operating system's keyring: start a desktop session or "
            "unlock the keyring (GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager) and "
            "try again. To look around without a keyring, run `cobro-tui demo`."
        )


class KeyringKeyStore:
    """Keys in the OS keyring under the service `cobro-tui`, one per cache file."""

    def cache_key(self, cache_path: Path, create: bool) -> bytes | None:
        import keyring
        from keyring.errors import KeyringError

        assert_secure_keyring()
        name = _key_name(cache_path)
        try:
            stored = keyring.get_password(SERVICE, name)
            if stored is None and create:
                stored = secrets.token_bytes(KEY_BYTES).hex()
                keyring.set_password(SERVICE, name, stored)
        except KeyringError as exc:
            raise KeyringUnavailable(f"The keyring refused access ({exc}). Unlock it and try again.") from None
        if stored is None:
            return None
        try:
            key = bytes.fromhex(stored)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise MissingCacheKey(
                f"The keyring entry {SERVICE}/{name} is not a cache key. Remove it with your keyring tool "
                "and move the cache aside; a new sync will rebuild it."
            )
        return key


class MissingToken(UserFacingError):
    """No session for this server and user in the keyring."""


def _token_name(server_url: str, user: str) -> str:
    return f"token:{server_url.rstrip('/')}|{user}"


def save_token(server_url: str, user: str, token: str) -> None:
    """Keep the session token in the OS keyring (never in a file)."""
    import keyring
    from keyring.errors import KeyringError

    assert_secure_keyring()
    try:
        keyring.set_password(SERVICE, _token_name(server_url, user), token)
    except KeyringError as exc:
        raise KeyringUnavailable(f"The keyring refused to keep the session ({exc}). Unlock it and try again.") from None


def load_token(server_url: str, user: str) -> str:
    import keyring
    from keyring.errors import KeyringError

    assert_secure_keyring()
    try:
        token = keyring.get_password(SERVICE, _token_name(server_url, user))
    except KeyringError as exc:
        raise KeyringUnavailable(f"The keyring refused access ({exc}). Unlock it and try again.") from None
    if not token:
        raise MissingToken(f"No session for {user} at {server_url}; run: cobro-tui login --server {server_url} --user {user}")
    return token
