"""Where the workstation keeps its secrets: the cache key, the session token, the password check.

Two stores, chosen by `[credentials] store`:

- the operating system's keyring, when it is one of the secure ones (an allow-list: Secret
  Service, KWallet, macOS Keychain, Windows Credential Manager, plus what the institution names in
  `[credentials] trusted_keyrings`); anything else (plain files, null, fail) is refused;
- a vault: one file in the data folder (0600 in a 0700 folder) sealed with AES-GCM under a key
  derived from the user's password by Argon2id, for a headless box with no secure keyring
  (thin clients, SSH, VDI). The user types the password at start; nothing else is installed.

`auto` (the default) uses a vault that exists, else a secure keyring, else a new vault.
The demo keeps its key in its own process only (`MemoryKeyStore`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import t

SERVICE = "cobro-tui"
KEY_BYTES = 32
VAULT_NAME = "vault.seal"
VAULT_FORMAT = "cobro-vault/1"

# Keyring backends that keep secrets encrypted by the operating system, by module and class.
SECURE_KEYRINGS = (
    "keyring.backends.SecretService.Keyring",
    "keyring.backends.libsecret.Keyring",
    "keyring.backends.kwallet.DBusKeyring",
    "keyring.backends.kwallet.DBusKeyringKWallet4",
    "keyring.backends.macOS.Keyring",
    "keyring.backends.Windows.WinVaultKeyring",
)

# Argon2id for the vault key (RFC 9106's second recommendation: 64 MiB, 3 passes, 4 lanes).
KDF = {"name": "argon2id", "time_cost": 3, "memory_kib": 65_536, "parallelism": 4}


class KeyringUnavailable(UserFacingError):
    """No secure keyring backend: secrets cannot be kept there."""


class MissingCacheKey(UserFacingError):
    """A cache exists but its key is not in the store."""


class MissingToken(UserFacingError):
    """No session for this server and user."""


class WrongPassword(UserFacingError):
    """The password does not open the vault."""


class KeyStore(Protocol):
    def cache_key(self, cache_path: Path, create: bool) -> bytes | None:
        """The key of the cache at `cache_path`; a new random one when `create` and none exists."""
        ...


class CredentialStore(KeyStore, Protocol):
    kind: str  # "keyring" or "vault"

    def check(self) -> None:
        """Raise when secrets could not be kept here (asked before the server is)."""
        ...

    def save_session(self, server_url: str, user: str, token: str, password: str) -> None:
        """Keep the token and what checks the password offline (the idle lock)."""
        ...

    def load_token(self, server_url: str, user: str) -> str: ...

    def forget_session(self, server_url: str, user: str) -> None: ...

    def verify_password(self, user: str, password: str) -> bool | None:
        """Whether `password` is this user's (checked offline); None when nothing here can tell."""
        ...


def _key_name(cache_path: Path) -> str:
    digest = hashlib.sha256(str(cache_path.resolve()).encode()).hexdigest()[:16]
    return f"cache-key:{digest}"


def _token_name(server_url: str, user: str) -> str:
    return f"token:{server_url.rstrip('/')}|{user}"


def _verifier_name(user: str) -> str:
    return f"verifier:{user}"


def _missing_token(server_url: str, user: str) -> MissingToken:
    return MissingToken(t("credentials.no_session", user=user, server=server_url))


def _hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def _check_hash(stored: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _as_key(stored: str | None, where: str) -> bytes | None:
    if stored is None:
        return None
    try:
        key = bytes.fromhex(stored)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise MissingCacheKey(t("credentials.not_a_key", where=where))
    return key


class MemoryKeyStore:
    """Keys held only by this process: the demo, and tests of the layers above."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}

    def cache_key(self, cache_path: Path, create: bool) -> bytes | None:
        name = _key_name(cache_path)
        if name not in self._keys and create:
            self._keys[name] = secrets.token_bytes(KEY_BYTES)
        return self._keys.get(name)


# --- the operating system's keyring -------------------------------------------------------------


def _backend_name(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _chain() -> list[Any]:
    import keyring

    backend = keyring.get_keyring()
    return list(getattr(backend, "backends", None) or [backend])


def secure_backend(trusted: tuple[str, ...] = ()) -> Any | None:
    """The highest-priority backend on the allow-list (or named by the institution), or None."""
    allowed = SECURE_KEYRINGS + tuple(trusted)
    usable = [item for item in _chain() if _backend_name(item) in allowed]
    return max(usable, key=lambda item: getattr(item, "priority", 0), default=None)


class KeyringKeyStore:
    """Secrets in a secure OS keyring under the service `cobro-tui` (never the chain's other backends)."""

    kind = "keyring"

    def __init__(self, trusted: tuple[str, ...] = ()) -> None:
        self.trusted = tuple(trusted)

    def _backend(self) -> Any:
        backend = secure_backend(self.trusted)
        if backend is None:
            found = ", ".join(_backend_name(item) for item in _chain())
            raise KeyringUnavailable(t("credentials.no_secure_keyring", found=found))
        return backend

    def _get(self, name: str) -> str | None:
        from keyring.errors import KeyringError

        try:
            return self._backend().get_password(SERVICE, name)
        except KeyringError as exc:
            raise KeyringUnavailable(t("credentials.keyring_refused", error=str(exc))) from None

    def _set(self, name: str, value: str) -> None:
        from keyring.errors import KeyringError

        try:
            self._backend().set_password(SERVICE, name, value)
        except KeyringError as exc:
            raise KeyringUnavailable(t("credentials.keyring_refused", error=str(exc))) from None

    def _delete(self, name: str) -> None:
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            self._backend().delete_password(SERVICE, name)
        except PasswordDeleteError:
            pass
        except KeyringError as exc:
            raise KeyringUnavailable(t("credentials.keyring_refused", error=str(exc))) from None

    def check(self) -> None:
        self._backend()

    def cache_key(self, cache_path: Path, create: bool) -> bytes | None:
        name = _key_name(cache_path)
        stored = self._get(name)
        if stored is None and create:
            stored = secrets.token_bytes(KEY_BYTES).hex()
            self._set(name, stored)
        return _as_key(stored, f"{SERVICE}/{name}")

    def save_session(self, server_url: str, user: str, token: str, password: str) -> None:
        self._set(_token_name(server_url, user), token)
        self._set(_verifier_name(user), _hash_password(password))

    def load_token(self, server_url: str, user: str) -> str:
        token = self._get(_token_name(server_url, user))
        if not token:
            raise _missing_token(server_url, user)
        return token

    def forget_session(self, server_url: str, user: str) -> None:
        self._delete(_token_name(server_url, user))

    def verify_password(self, user: str, password: str) -> bool | None:
        stored = self._get(_verifier_name(user))
        return None if stored is None else _check_hash(stored, password)


# --- the sealed vault ----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(password: str, salt: bytes, kdf: dict[str, Any]) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        password.encode("utf-8"),
        salt,
        time_cost=int(kdf["time_cost"]),
        memory_cost=int(kdf["memory_kib"]),
        parallelism=int(kdf["parallelism"]),
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def _header_bytes(header: dict[str, Any]) -> bytes:
    # The format and the key derivation are authenticated with the secrets: neither can be swapped.
    return json.dumps({"format": header["format"], "kdf": header["kdf"]}, sort_keys=True).encode()


class VaultStore:
    """The cache key, the session token and the password check, sealed in one file by the password.

    Opened with the password (a wrong one is refused: AES-GCM authenticates everything); every
    change is sealed again under the same derived key with a fresh nonce and written atomically.
    """

    kind = "vault"

    def __init__(self, path: Path, password: str) -> None:
        self.path = path
        self._contents: dict[str, Any] = {"cache_keys": {}, "tokens": {}}
        if path.exists():
            self._header, self._key = self._open(password)
        else:
            salt = secrets.token_bytes(16)
            self._header = {"format": VAULT_FORMAT, "kdf": {**KDF, "salt": _b64(salt)}}
            self._key = _derive(password, salt, self._header["kdf"])

    def _read_header(self) -> tuple[dict[str, Any], bytes, bytes]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != VAULT_FORMAT:
                raise ValueError("format")
            return data, _unb64(data["nonce"]), _unb64(data["sealed"])
        except (OSError, ValueError, KeyError, TypeError):
            raise UserFacingError(t("credentials.vault_damaged", path=self.path)) from None

    def _open(self, password: str) -> tuple[dict[str, Any], bytes]:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        data, nonce, sealed = self._read_header()
        try:
            key = _derive(password, _unb64(data["kdf"]["salt"]), data["kdf"])
            plain = AESGCM(key).decrypt(nonce, sealed, _header_bytes(data))
        except InvalidTag:
            raise WrongPassword(t("credentials.vault_wrong_password", path=self.path)) from None
        except (KeyError, TypeError, ValueError):
            raise UserFacingError(t("credentials.vault_damaged", path=self.path)) from None
        self._contents = json.loads(plain)
        return {"format": data["format"], "kdf": data["kdf"]}, key

    def _seal(self) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from cobro_tui.files import write_private_bytes

        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._key).encrypt(nonce, json.dumps(self._contents).encode(), _header_bytes(self._header))
        body = {**self._header, "nonce": _b64(nonce), "sealed": _b64(sealed)}
        try:
            write_private_bytes(self.path, json.dumps(body, indent=1).encode())
        except OSError as exc:
            raise UserFacingError(t("credentials.vault_unwritable", path=self.path, error=str(exc))) from None

    def check(self) -> None:
        from cobro_tui.files import private_dir

        try:
            folder = private_dir(self.path.parent)
            probe = folder / f".{VAULT_NAME}.probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise UserFacingError(t("credentials.vault_unwritable", path=self.path, error=str(exc))) from None

    def cache_key(self, cache_path: Path, create: bool) -> bytes | None:
        name = _key_name(cache_path)
        keys = self._contents.setdefault("cache_keys", {})
        if name not in keys and create:
            keys[name] = secrets.token_bytes(KEY_BYTES).hex()
            self._seal()
        return _as_key(keys.get(name), str(self.path))

    def save_session(self, server_url: str, user: str, token: str, password: str) -> None:
        if self.verify_password(user, password) is False:
            # The server took a password this vault was not sealed with (it was changed there):
            # from now on the vault opens with the new one.
            salt = secrets.token_bytes(16)
            self._header = {"format": VAULT_FORMAT, "kdf": {**KDF, "salt": _b64(salt)}}
            self._key = _derive(password, salt, self._header["kdf"])
        self._contents.setdefault("tokens", {})[_token_name(server_url, user)] = token
        self._contents["user"] = user
        self._seal()

    def load_token(self, server_url: str, user: str) -> str:
        token = self._contents.get("tokens", {}).get(_token_name(server_url, user))
        if not token:
            raise _missing_token(server_url, user)
        return token

    def forget_session(self, server_url: str, user: str) -> None:
        if self._contents.get("tokens", {}).pop(_token_name(server_url, user), None) is not None:
            self._seal()

    def verify_password(self, user: str, password: str) -> bool | None:
        """The vault opens only with the password it was sealed with: that is the check."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not self.path.exists():
            return None
        data, nonce, sealed = self._read_header()
        try:
            AESGCM(_derive(password, _unb64(data["kdf"]["salt"]), data["kdf"])).decrypt(
                nonce, sealed, _header_bytes(data)
            )
        except (InvalidTag, KeyError, TypeError, ValueError):
            return False
        return True


def vault_path(data_dir: Path) -> Path:
    return data_dir / VAULT_NAME


def store_kind(mode: str, data_dir: Path, trusted: tuple[str, ...] = ()) -> str:
    """Which store `mode` (auto, keyring, vault) means on this machine now."""
    if mode != "auto":
        return mode
    if vault_path(data_dir).exists():
        return "vault"
    return "keyring" if secure_backend(trusted) is not None else "vault"


def credential_store(
    mode: str, data_dir: Path, trusted: tuple[str, ...], ask_password: Callable[[], str] | None
) -> CredentialStore:
    """The store this workstation uses; a vault is opened with the password `ask_password` gives."""
    if store_kind(mode, data_dir, trusted) == "keyring":
        return KeyringKeyStore(trusted)
    if ask_password is None:
        raise UserFacingError(t("credentials.vault_needs_password"))
    return VaultStore(vault_path(data_dir), ask_password())
