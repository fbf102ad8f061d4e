"""The encrypted local cache: at rest, keys, durability settings, atomic actions."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail, null
from portfolio_fixtures import fill
from sqlalchemy.exc import IntegrityError, OperationalError

from cobro_tui.bootstrap import NoCache, build_workstation, open_cache
from cobro_tui.clock import FixedClock
from cobro_tui.credentials import (
    KeyringKeyStore,
    KeyringUnavailable,
    MemoryKeyStore,
    MissingCacheKey,
)
from cobro_tui.domain.models import Channel
from cobro_tui.policy import Policy
from cobro_tui.services.contacts import ContactRefused
from cobro_tui.settings import load_settings
from cobro_tui.store.audit_log import verify
from cobro_tui.store.engine import CacheFile, CacheUnreadable
from cobro_tui.store.outbox import pending

TRUSTED = ("support.keyrings.MemoryKeyring",)  # the test keyring stands in for a desktop's


def _first_account(engine) -> tuple[str, str]:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT id, customer_id FROM account ORDER BY id LIMIT 1").one()


def test_the_cache_is_encrypted_at_rest(cache_file: CacheFile, policy: Policy) -> None:
    fill(cache_file, policy, accounts=30)
    engine = cache_file.open()
    with engine.connect() as conn:
        name = conn.exec_driver_sql("SELECT full_name FROM customer LIMIT 1").scalar_one()
    engine.dispose()
    raw = cache_file.path.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    assert name.encode() not in raw
    wal = Path(str(cache_file.path) + "-wal")
    if wal.exists():
        assert name.encode() not in wal.read_bytes()


def test_a_wrong_key_gives_a_clear_message_and_changes_nothing(cache_file: CacheFile) -> None:
    before = cache_file.path.read_bytes()
    with pytest.raises(CacheUnreadable, match=r"cannot be opened with the key in the keyring.*Nothing was changed"):
        CacheFile(cache_file.path, secrets.token_bytes(32)).open()
    assert cache_file.path.read_bytes() == before


def test_a_plain_file_is_not_mistaken_for_a_cache(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are not the droids\n" * 100)
    with pytest.raises(CacheUnreadable):
        CacheFile(path, secrets.token_bytes(32)).open()


def test_durability_settings_are_in_force(cache_file: CacheFile) -> None:
    engine = cache_file.open()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    engine.dispose()


def test_the_key_lives_in_the_keyring_and_opens_the_cache_again(tmp_path: Path) -> None:
    path = tmp_path / "data" / "cache.db"
    engine = open_cache(path, KeyringKeyStore(TRUSTED), create=True)
    engine.dispose()
    stored = [value for (service, _), value in keyring.get_keyring().secrets.items() if service == "cobro-tui"]  # type: ignore[attr-defined]
    assert len(stored) == 1 and len(bytes.fromhex(stored[0])) == 32
    open_cache(path, KeyringKeyStore(TRUSTED), create=False).dispose()


def test_a_cache_whose_key_is_gone_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "data" / "cache.db"
    open_cache(path, KeyringKeyStore(TRUSTED), create=True).dispose()
    keyring.get_keyring().secrets.clear()  # type: ignore[attr-defined]
    with pytest.raises(MissingCacheKey, match=r"key is not in the keyring.*Move the file aside"):
        open_cache(path, KeyringKeyStore(TRUSTED), create=False)


def test_no_cache_yet_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(NoCache, match="cobro-tui login"):
        open_cache(tmp_path / "none.db", KeyringKeyStore(TRUSTED), create=False)


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_a_keyring_that_cannot_keep_secrets_is_refused(backend: object, tmp_path: Path) -> None:
    keyring.set_keyring(backend)  # type: ignore[arg-type]
    with pytest.raises(KeyringUnavailable, match=r"No hay un llavero seguro.*bóveda"):
        KeyringKeyStore(TRUSTED).cache_key(tmp_path / "c.db", create=True)


def test_a_keyring_off_the_allow_list_is_refused_however_it_calls_itself(tmp_path: Path) -> None:
    """An allow-list, not a deny-list: a home-made plain-text JSON backend is not used, whatever its name."""
    from support.keyrings import FileKeyring

    class PlaintextKeyring(FileKeyring):
        priority = 50

    for module in ("keyrings.alt.file", "mycompany.keyring", "keyring.backends.SecretServiceLookalike"):
        PlaintextKeyring.__module__ = module
        keyring.set_keyring(PlaintextKeyring())
        with pytest.raises(KeyringUnavailable, match=module.replace(".", r"\.")):
            KeyringKeyStore(TRUSTED).cache_key(tmp_path / "c.db", create=True)
        assert not (tmp_path / "keyring.json").exists()


def test_memory_key_store_keeps_keys_in_the_process_only(tmp_path: Path) -> None:
    store = MemoryKeyStore()
    key = store.cache_key(tmp_path / "c.db", create=True)
    assert key is not None and store.cache_key(tmp_path / "c.db", create=False) == key
    assert MemoryKeyStore().cache_key(tmp_path / "c.db", create=False) is None
    assert keyring.get_keyring().secrets == {}  # type: ignore[attr-defined]


def _workstation(cache_file: CacheFile, policy: Policy, clock: FixedClock):
    engine = cache_file.open()
    return engine, build_workstation(engine, load_settings(), clock, policy, "agente01", "demo")


def test_logging_a_contact_writes_row_outbox_and_audit_together(
    cache_file: CacheFile, policy: Policy, clock: FixedClock
) -> None:
    fill(cache_file, policy, accounts=10)
    engine, ws = _workstation(cache_file, policy, clock)
    account_id, customer_id = _first_account(engine)
    logged = ws.contacts.log(
        account_id=account_id,
        customer_id=customer_id,
        channel=Channel.VOICE,
        result_code="NC",
        started_at=clock.now() - timedelta(minutes=2),
        ended_at=clock.now(),
    )
    second = ws.contacts.log(
        account_id=account_id,
        customer_id=customer_id,
        channel=Channel.VOICE,
        result_code="PP",
        problem_code="desempleo",
        circumstance="perdió el empleo en octubre",
        resolution="promesa de pago",
    )
    with engine.connect() as conn:
        state = conn.exec_driver_sql(
            "SELECT sync_state FROM contact_attempt WHERE id = ?", (logged.attempt.id,)
        ).scalar_one()
        events = conn.exec_driver_sql("SELECT body FROM audit_event ORDER BY seq").scalars().all()
    assert state == "pending"
    items = pending(engine)
    assert [i.client_seq for i in items] == [1, 2]
    assert [i.name for i in items] == ["contact.log@1", "contact.log@1"]
    assert items[0].args["id"] == logged.attempt.id and items[1].args["id"] == second.attempt.id
    # Each contact follows the rule decision that allowed it: both in the audit chain.
    kinds = [json.loads(e)["type"] for e in events]
    assert kinds == ["rules.allowed", "contact.logged", "rules.allowed", "contact.logged"], kinds
    assert logged.outbox.mutation_id in events[1]
    decision = json.loads(events[0])["data"]
    assert decision["config_hash"] == policy.config_hash and decision["tz_version"] == policy.tz_version
    assert "MX-1" in [rule for rule, _, _ in decision["rules"]]
    assert not any(customer_id in e for e in events)  # ids of the contact and account only, no personal data
    assert verify(engine).intact
    engine.dispose()


def test_a_failure_midway_leaves_neither_row_nor_outbox_nor_audit(
    cache_file: CacheFile, policy: Policy, clock: FixedClock
) -> None:
    fill(cache_file, policy, accounts=10)
    engine, ws = _workstation(cache_file, policy, clock)
    account_id, customer_id = _first_account(engine)
    with engine.begin() as conn:  # the last step of the action, the audit append, will fail
        conn.exec_driver_sql(
            "CREATE TRIGGER test_fail BEFORE INSERT ON audit_event BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
    with pytest.raises((IntegrityError, OperationalError), match="disk on fire"):
        ws.contacts.log(account_id=account_id, customer_id=customer_id, channel=Channel.VOICE, result_code="NC")
    with engine.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT count(*) FROM contact_attempt WHERE sync_state = 'pending'").scalar_one() == 0
        )
        assert conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one() == 0
        assert conn.exec_driver_sql("SELECT next_client_seq FROM sync_meta").scalar_one() == 1
    engine.dispose()


def test_bad_contacts_are_refused_with_what_to_change(cache_file: CacheFile, policy: Policy, clock: FixedClock) -> None:
    fill(cache_file, policy, accounts=5)
    engine, ws = _workstation(cache_file, policy, clock)
    account_id, customer_id = _first_account(engine)
    with pytest.raises(ContactRefused, match="no es un código de resultado; use uno de: PP"):
        ws.contacts.log(account_id=account_id, customer_id=customer_id, channel=Channel.VOICE, result_code="ZZ")
    with pytest.raises(ContactRefused, match="no aplica al canal Correo"):
        ws.contacts.log(account_id=account_id, customer_id=customer_id, channel=Channel.EMAIL, result_code="BZ")
    with pytest.raises(ContactRefused, match="en el futuro"):
        ws.contacts.log(
            account_id=account_id,
            customer_id=customer_id,
            channel=Channel.VOICE,
            result_code="NC",
            started_at=clock.now() + timedelta(hours=1),
        )
    with pytest.raises(ContactRefused, match="ya no está en esta estación"):
        ws.contacts.log(account_id="nope", customer_id=customer_id, channel=Channel.VOICE, result_code="NC")
    assert pending(engine) == []
    engine.dispose()
