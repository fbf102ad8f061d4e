"""The `cobro-tui` command as a person or a script meets it: real subprocesses, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import cli_env
from portfolio_fixtures import fill

from cobro_tui.clock import FixedClock
from cobro_tui.domain.models import Channel
from cobro_tui.policy import Policy
from cobro_tui.services.contacts import ContactService
from cobro_tui.store.device import ensure_device
from cobro_tui.store.engine import CacheFile

COMMANDS = ("demo", "serve", "login", "logout", "sync", "migrate", "config", "rules", "audit", "kpi", "admin")


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "cobro_tui", *args],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path, **env),
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert f"    {command} " in result.stdout


@pytest.mark.parametrize("args", [(), ("sync",), ("rules", "explain", "A1"), ("kpi",)])
def test_the_workstation_without_a_cache_says_how_to_get_one(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run(tmp_path, *args)
    assert result.returncode == 2
    assert "No hay caché" in result.stderr and "cobro-tui login" in result.stderr and "cobro-tui demo" in result.stderr


def test_migrate_creates_and_then_finds_the_cache_current(tmp_path: Path) -> None:
    from cobro_tui.store.migrate import newest_file_revision

    head = newest_file_revision()
    first = run(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert f"versión — → {head}" in first.stdout
    assert (tmp_path / "data" / "cache.db").exists()
    second = run(tmp_path, "migrate", COBRO_LANG="en")
    assert second.returncode == 0 and f"already at version {head}" in second.stdout


def test_a_keyring_asked_for_but_missing_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "migrate",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        COBRO_CREDENTIALS__STORE="keyring",
        COBRO_LANG="en",
    )
    assert result.returncode == 2
    assert "No secure system keyring is available (found: keyring.backends.fail.Keyring)" in result.stderr
    assert 'store = "vault"' in result.stderr
    assert not (tmp_path / "data" / "cache.db").exists()


def test_without_a_keyring_and_without_a_terminal_the_vault_says_what_it_needs(tmp_path: Path) -> None:
    result = run(tmp_path, "migrate", PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    assert result.returncode == 2
    assert "bóveda sellada con la contraseña" in result.stderr
    assert "Traceback" not in result.stderr


def _user_cache(tmp_path: Path) -> CacheFile:
    run(tmp_path, "migrate")
    secrets_file = json.loads((tmp_path / "keyring.json").read_text())
    (key,) = [bytes.fromhex(v) for k, v in secrets_file.items() if k.startswith("cobro-tui/cache-key:")]
    return CacheFile(tmp_path / "data" / "cache.db", key)


def test_audit_verify_passes_an_intact_log_and_points_at_a_broken_link(
    tmp_path: Path, policy: Policy, clock: FixedClock
) -> None:
    cache = _user_cache(tmp_path)
    fill(cache, policy, accounts=5)
    engine = cache.open()
    contacts = ContactService(engine, clock, policy, ensure_device(engine, "agente01"))
    with engine.connect() as conn:
        account_id, customer_id = conn.exec_driver_sql("SELECT id, customer_id FROM account LIMIT 1").one()
    for code in ("NC", "BZ", "PP"):
        contacts.log(
            account_id=account_id,
            customer_id=customer_id,
            channel=Channel.VOICE,
            result_code=code,
            **(
                cast(dict[str, Any], {})
                if code != "PP"
                else {
                    "problem_code": "desempleo",
                    "circumstance": "perdió el empleo en octubre",
                    "resolution": "promesa de pago",
                }
            ),
        )
    intact = run(tmp_path, "audit", "verify")
    assert intact.returncode == 0 and "Bitácora íntegra: 3 eventos" in intact.stdout
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        conn.exec_driver_sql("UPDATE audit_event SET body = replace(body, '\"BZ\"', '\"PP\"') WHERE seq = 2")
    engine.dispose()
    broken = run(tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert "Bitácora ROTA en el evento 2" in broken.stderr


def test_config_show_prints_effective_settings_without_secrets(tmp_path: Path) -> None:
    result = run(tmp_path, "config", "show", COBRO_LANG="en", COBRO_UI__PAGE_SIZE="400")
    assert result.returncode == 0
    shown = json.loads(result.stdout)
    assert shown["lang"] == "en" and shown["ui"]["page_size"] == 400
    assert shown["data_dir"] == str(tmp_path / "data")
    assert "key" not in json.dumps(shown).lower().replace("keymap", "").replace("keyring", "")


def test_a_bad_setting_names_the_variable_and_exits_non_zero(tmp_path: Path) -> None:
    result = run(tmp_path, "config", "show", COBRO_NOW="mañana")
    assert result.returncode == 2
    assert "variable de entorno COBRO_NOW: debe ser fecha y hora ISO-8601" in result.stderr


def test_config_check_reports_every_error_with_file_and_key(tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "buckets.toml").write_text('[[bucket]]\ncode = "a"\nlabel_es = "A"\nlabel_en = "A"\nmin_dpd = "cero"\n')
    (folder / "result_codes.toml").write_text("code = 3\n")
    result = run(tmp_path, "config", "check", str(folder))
    assert result.returncode == 1
    assert f"{folder / 'buckets.toml'}: bucket[0].min_dpd: debe ser un número entero, no 'cero'" in result.stderr
    assert f"{folder / 'result_codes.toml'}: code: debe ser una lista [...], no 3" in result.stderr
    good = run(tmp_path, "config", "check")
    assert good.returncode == 0 and "7 tramos" in good.stdout


def test_config_check_reports_every_error_of_every_file_in_one_run(tmp_path: Path) -> None:
    import shutil

    from cobro_tui.policy import default_policy_dir

    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)

    def change(name: str, *edits: tuple[str, str]) -> Path:
        path = folder / name
        text = path.read_text()
        for old, new in edits:
            assert old in text, (name, old)
            text = text.replace(old, new, 1)
        path.write_text(text)
        return path

    buckets = change("buckets.toml", ("min_dpd = 30\n", "min_dpd = 31\n"))
    codes = change("result_codes.toml", ("right_party_contact = true", 'right_party_contact = "sí"'))
    priority = change("priority.toml", ("promise_broken = 700", "promise_broken = 7.5"))
    offers = change(
        "offers.toml",
        ('min_basis = "min_to_cure"', 'min_basis = "saldo"'),
        ("agent = 30\nsupervisor = 45", "agent = 50\nsupervisor = 45"),
        ('buckets = ["60-89", "90-119", "120+"]', 'buckets = ["60-89", "90-119", "eterno"]'),
        ('clabe = "012180001234567897"', 'clabe = "0121"'),
    )
    mx = change("rules/mx_condusef.toml", ('end = "22:00"', 'end = "06:00"'))
    in_force = change("contact_rules.toml", ("limit = 3", "limit = 0"))
    script = change("scripts/cobranza.toml", ('phase = "problema"', 'phase = "regaño"'))
    targets = change("targets.toml", ("monthly = 90_000_000", "monthly = 0\nweekly = 1"))

    result = run(tmp_path, "config", "check", str(folder))

    expected = [
        f"{buckets}: bucket[2].min_dpd: el tramo '30-59' empieza en 31 y deja un hueco tras '1-29' (que termina en 29); debe empezar en 30",
        f"{codes}: code[0].right_party_contact: debe ser true o false, no 'sí'",
        f"{priority}: points.promise_broken: debe ser un número entero, no 7.5",
        f"{offers}: promise.min_basis: debe ser uno de past_due, min_to_cure; no 'saldo'",
        f"{offers}: settlement.band[3].supervisor: 45 es menos que agent (50): los descuentos no deben bajar cuando sube la autoridad",
        f"{offers}: restructure.buckets[2]: 'eterno' no es un tramo de buckets.toml; los tramos son: preventiva, 1-29, 30-59, 60-89, 90-119, 120+, castigo",
        f"{offers}: agreement.clabe: debe ser la CLABE de 18 dígitos de la institución, no '0121'",
        f"{mx}: windows.window[0].end: '06:00' debe ser posterior al inicio '07:00'",
        f"{in_force}: cap[0].limit: debe ser de 1 a 1000, no 0",
        f"{script}: step[2].phase: debe ser uno de identificacion, aviso, problema, circunstancia, resolucion; no 'regaño'",
        f"{targets}: team[0].monthly: debe ser mayor que 0, no 0",
        f"{targets}: team[0].weekly: no es una clave de esta tabla; las claves son: team, monthly",
    ]
    assert result.returncode == 1
    reported = [line.removeprefix("  - ") for line in result.stderr.splitlines()[1:]]
    assert sorted(reported) == sorted(expected), result.stderr
    assert result.stderr.splitlines()[0] == f"La política en {folder} tiene {len(expected)} error(es):"


def test_config_check_refuses_what_would_break_the_workstation_later(tmp_path: Path) -> None:
    """Found by the review: a library name for a calendar crashed the check; a file in another
    encoding too; figures of 10^20 days or pesos passed and then failed the workstation."""
    import shutil

    from cobro_tui.policy import default_policy_dir

    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)
    offers = folder / "offers.toml"
    offers.write_text(offers.read_text().replace('calendar = "MX"', 'calendar = "utils"', 1))
    priority = folder / "priority.toml"
    priority.write_text(priority.read_text().replace("promise_broken = 700", "promise_broken = 100000000000", 1))
    (folder / "zones.toml").write_bytes(b"\xff\xfe" + (folder / "zones.toml").read_bytes())
    result = run(tmp_path, "config", "check", str(folder))
    assert result.returncode == 1, result.stderr
    assert f"{offers}: calendar: " in result.stderr and "biblioteca holidays" in result.stderr
    assert f"{priority}: points.promise_broken: debe ser de -1000000 a 1000000" in result.stderr
    assert f"{folder / 'zones.toml'}: no es texto UTF-8" in result.stderr
