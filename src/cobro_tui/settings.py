"""Settings: shipped defaults (config/settings.toml) < user file < COBRO_* environment variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from cobro_tui.config_errors import at, checked, explain, message, toml_problem
from cobro_tui.errors import SettingsError
from cobro_tui.i18n import LANGUAGES, set_language
from cobro_tui.resources import shipped_dir
from cobro_tui.rules.zones import is_zone

APP_NAME = "cobro-tui"
ENV_PREFIX = "COBRO_"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UISettings(Section):
    theme: str = "textual-dark"
    """Theme of the workstation; `cobro-high-contrast` for long shifts or low vision."""
    cursor_blink: bool = True
    """Blinking cursor in text fields (off in tests and snapshots)."""
    animation: Literal["none", "basic", "full"] = "basic"
    """How much the interface animates."""
    page_size: int = Field(200, ge=20, le=5000)
    """Accounts loaded into the queue view at a time (20 to 5000)."""
    agent_zone: Annotated[str, checked(is_zone, "not_a_zone")] = "America/Mexico_City"
    """IANA time zone of the agents' floor: the agent's own clock in the status bar."""
    idle_lock_minutes: int = Field(10, ge=1, le=15)
    """Minutes without a key or a click after which the screen locks (1 to 15; PCI DSS 8.2.8)."""


class SyncSettings(Section):
    enabled: bool = True
    """Whether the workstation syncs with the server in the background."""
    interval_seconds: int = Field(5, ge=1, le=3600)
    """Seconds between background sync rounds (1 to 3600)."""
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    """Seconds before an HTTP request to the server gives up."""
    allow_insecure_http: bool = False
    """Whether plain http to a server other than this machine is allowed (warned at every start);
    off, only https and loopback http (127.0.0.0/8, ::1, localhost) are used."""
    ca_file: Path | None = None
    """A PEM file of the certificate authority that signed the server's certificate, when the
    institution uses its own; unset, the system's authorities are trusted."""


class CredentialSettings(Section):
    store: Literal["auto", "keyring", "vault"] = "auto"
    """Where the cache key and the session token are kept: the operating system's secure keyring, a
    vault file in the data folder sealed by the user's password, or auto (a vault that exists, else a
    secure keyring, else a new vault)."""
    trusted_keyrings: tuple[str, ...] = ()
    """Keyring backends (module.Class) the institution trusts beyond Secret Service, KWallet, the
    macOS Keychain and the Windows Credential Manager."""


class FileSettings(Section):
    keep_days: int = Field(30, ge=1, le=3650)
    """Days agreement documents and CSV exports are kept in the data folder; older ones are removed at start."""


class DemoSettings(Section):
    agent: str = "agente01"
    """The demo agent whose queue `cobro-tui demo` opens."""
    accounts: int = Field(2000, ge=1, le=1_000_000)
    """Accounts in the generated demo portfolio."""
    seed: int = 7
    """Seed that makes the demo portfolio reproducible."""


class ServerSettings(Section):
    """What `cobro-tui serve` enforces (the workstation's settings do not reach the server)."""

    session_hours: int = Field(10, ge=1, le=24)
    """Hours a session token lives after sign-in (about one shift); then the user signs in again."""
    sessions_per_user: int = Field(3, ge=1, le=10)
    """Sessions a user may hold at once; a new sign-in beyond that ends their oldest (1: one workstation per person)."""
    lockout_failures: int = Field(10, ge=3, le=10)
    """Wrong passwords in a row that lock a user out (PCI DSS 8.3.4 asks for at most 10)."""
    lockout_minutes: int = Field(30, ge=30, le=1440)
    """Minutes a locked-out user waits, unless a manager unlocks them first (at least 30)."""
    source_failures: int = Field(50, ge=5, le=10_000)
    """Failed sign-ins from one address within `source_window_minutes` after which that address is throttled."""
    source_window_minutes: int = Field(10, ge=1, le=1440)
    """The window over which failed sign-ins per address are counted, and how long a throttle lasts."""
    clock_skew_seconds: int = Field(300, ge=0, le=3600)
    """How far ahead of the server's clock a workstation's instants may be."""
    fact_horizon_days: int = Field(90, ge=1, le=3650)
    """How far back a contact, note or opt-out may be dated (the retention horizon of the change feed)."""
    shutdown_grace_seconds: int = Field(30, ge=1, le=600)
    """Seconds the requests already running get to finish when the server is told to stop (SIGTERM)."""


class Settings(BaseSettings):
    """Everything the workstation can be told, without secrets (those live in the keyring)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_ignore_empty=True,
        extra="forbid",
        frozen=True,
    )

    lang: Literal["es", "en"] = "es"
    """Interface language: es (es-MX) or en."""
    now: AwareDatetime | None = None
    """A fixed instant (ISO-8601 with offset) that freezes the clock of the whole program."""
    data_dir: Path | None = None
    """Where the cache and the files it writes live; the platform's user data directory when unset.
    The log and the crash report go to the platform's log folder (COBRO_LOG_DIR moves them)."""
    server_url: str | None = None
    """The backend the workstation syncs with."""
    ui: UISettings = UISettings()
    sync: SyncSettings = SyncSettings()
    credentials: CredentialSettings = CredentialSettings()
    files: FileSettings = FileSettings()
    demo: DemoSettings = DemoSettings()
    server: ServerSettings = ServerSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Files are read by load_settings (to name them in errors) and come in as init values.
        return (env_settings, init_settings)

    def resolved_data_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else platformdirs.user_data_path(APP_NAME)


def default_settings_file() -> Path:
    return shipped_dir("config") / "settings.toml"


def user_settings_file(env: Mapping[str, str]) -> tuple[Path | None, bool]:
    """The user file and whether it was named explicitly (COBRO_CONFIG_FILE)."""
    named = env.get("COBRO_CONFIG_FILE")
    if named:
        return Path(named).expanduser(), True
    path = platformdirs.user_config_path(APP_NAME) / "config.toml"
    return (path if path.is_file() else None), False


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict, or a SettingsError that names the file and what is wrong."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError([f"{path}: {message('settings_file_missing')}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"{path}: {toml_problem(exc)}"]) from None
    except OSError as exc:
        raise SettingsError([f"{path}: {message('file_unreadable', error=exc.strerror)}"]) from None


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _has_key(data: Mapping[str, Any], loc: tuple[Any, ...]) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _env_name(loc: tuple[Any, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part) for part in loc).upper()


def load_settings() -> Settings:
    """The effective settings, or a SettingsError naming every bad file or variable and key."""
    env = os.environ
    default_path = default_settings_file()
    defaults = read_toml(default_path)
    user_path, _ = user_settings_file(env)
    user = read_toml(user_path) if user_path is not None else {}
    merged = _deep_merge(defaults, user)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        asked = env.get("COBRO_LANG") or merged.get("lang")
        if asked in LANGUAGES:  # the errors in the language the settings ask for, when that much is readable
            set_language(str(asked))
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            if _env_name(loc) in env or (loc and _env_name(loc[:1]) in env):
                where = message("environment_variable", name=_env_name(loc))
            else:
                where = at(user_path if user_path is not None and _has_key(user, loc) else default_path, loc)
            problems.append(f"{where}: {explain(error, Settings)}")
        raise SettingsError(problems) from None


def settings_report(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain values, for `cobro-tui config show` (no secrets exist here)."""
    data = settings.model_dump(mode="json")
    data["data_dir"] = str(settings.resolved_data_dir())
    return data
