"""Isolation for every test: no real keychain, no real config or data directory, a fixed clock."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest

from cobro_tui.clock import FixedClock
from cobro_tui.i18n import set_language
from cobro_tui.logs import stop_log
from cobro_tui.policy import Policy, load_policy
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from support.keyrings import MemoryKeyring  # noqa: E402

# Nothing in this process may reach a real keychain, even before the fixture below runs.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

# The test keyrings stand in for a desktop's secure one: the institution's setting names them trusted.
TEST_KEYRINGS = '["support.keyrings.MemoryKeyring", "support.keyrings.FileKeyring"]'

NOW = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # 10:30 in Mexico City


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """A fresh in-memory keyring, and config and data directories inside tmp_path."""
    for name in list(os.environ):
        if name.startswith("COBRO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("COBRO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COBRO_LOG_DIR", str(tmp_path / "logs"))  # the log and crash report, never the user's
    monkeypatch.setenv("COBRO_UI__CURSOR_BLINK", "false")  # a blinking cursor makes screenshots differ
    monkeypatch.setenv("COBRO_CREDENTIALS__TRUSTED_KEYRINGS", TEST_KEYRINGS)  # stand-ins for a desktop keyring
    set_language("es")
    ring = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)
    stop_log()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def cache_file(tmp_path: Path) -> CacheFile:
    """A new, migrated, encrypted cache file."""
    cache = CacheFile(tmp_path / "cache.db", secrets.token_bytes(32))
    engine = cache.open()
    upgrade(engine)
    engine.dispose()
    return cache


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment for a `cobro-tui` subprocess: file keyring, private dirs, no terminal needed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBRO_")}
    env.update(
        PYTHON_KEYRING_BACKEND="support.keyrings.FileKeyring",
        PYTHONPATH=os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")]),
        COBRO_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
        COBRO_CREDENTIALS__TRUSTED_KEYRINGS=TEST_KEYRINGS,
        COBRO_DATA_DIR=str(tmp_path / "data"),
        COBRO_LOG_DIR=str(tmp_path / "logs"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
    )
    env.update(extra)
    return env
