from datetime import UTC, datetime
from pathlib import Path

import pytest

from cobro_tui.clock import FixedClock, SystemClock, clock_for, parse_instant
from cobro_tui.errors import SettingsError
from cobro_tui.settings import load_settings, settings_report


def test_defaults_come_from_the_shipped_file() -> None:
    settings = load_settings()
    assert settings.lang == "es"
    assert settings.ui.page_size == 200
    assert settings.now is None


def test_user_file_overrides_defaults_and_environment_overrides_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "mine.toml"
    user.write_text('lang = "en"\n[ui]\npage_size = 500\n[sync]\ninterval_seconds = 5\n')
    monkeypatch.setenv("COBRO_CONFIG_FILE", str(user))
    monkeypatch.setenv("COBRO_UI__PAGE_SIZE", "800")
    settings = load_settings()
    assert settings.lang == "en"  # user file
    assert settings.sync.interval_seconds == 5  # user file
    assert settings.ui.page_size == 800  # environment wins
    assert settings.ui.theme == "textual-dark"  # default kept


def test_the_platform_user_file_is_read_when_no_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "xdg-config" / "cobro-tui"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text("[ui]\npage_size = 300\n")
    assert load_settings().ui.page_size == 300


def _problems_of(user: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What load_settings says of a user file with this text."""
    user.write_text(text)
    monkeypatch.setenv("COBRO_CONFIG_FILE", str(user))
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return caught.value.problems


def test_a_bad_value_in_a_file_names_the_file_the_key_and_what_is_expected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "bad.toml"
    problems = _problems_of(user, '[ui]\npage_size = 3\nanimation = "wild"\ncolour = "red"\n', monkeypatch)
    assert f"{user}: ui.page_size: debe ser de 20 a 5000, no 3" in problems
    assert f"{user}: ui.animation: debe ser uno de none, basic, full; no 'wild'" in problems
    assert any(f"{user}: ui.colour: no es una clave de esta tabla" in p and "page_size" in p for p in problems)


def test_setting_errors_are_told_in_the_language_the_settings_ask_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "bad.toml"
    problems = _problems_of(user, 'lang = "en"\n[ui]\npage_size = 3\n', monkeypatch)
    assert problems == [f"{user}: ui.page_size: must be from 20 to 5000, not 3"]


def test_a_bad_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBRO_SYNC__INTERVAL_SECONDS", "soon")
    with pytest.raises(SettingsError, match="variable de entorno COBRO_SYNC__INTERVAL_SECONDS: debe ser un número"):
        load_settings()


def test_broken_toml_and_missing_named_file_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "broken.toml"
    user.write_text("[ui\npage_size = 1\n")
    monkeypatch.setenv("COBRO_CONFIG_FILE", str(user))
    with pytest.raises(SettingsError, match=r"no es TOML válido: .*, en la línea 1, columna 4"):
        load_settings()
    monkeypatch.setenv("COBRO_CONFIG_FILE", str(tmp_path / "absent.toml"))
    with pytest.raises(SettingsError, match="el archivo no existe; créelo o quite COBRO_CONFIG_FILE"):
        load_settings()


def test_unknown_agent_zone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBRO_UI__AGENT_ZONE", "Mexico/Atlantis")
    with pytest.raises(SettingsError, match="'Mexico/Atlantis' no es una zona horaria IANA"):
        load_settings()


def test_cobro_now_fixes_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBRO_NOW", "2026-11-22T10:30:00-06:00")
    settings = load_settings()
    clock = clock_for(settings.now)
    assert isinstance(clock, FixedClock)
    assert clock.now() == datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    assert clock.now() == clock.now()


def test_cobro_now_without_offset_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBRO_NOW", "2026-11-22T10:30:00")
    with pytest.raises(SettingsError, match="COBRO_NOW: necesita el desfase respecto de UTC"):
        load_settings()


def test_without_cobro_now_the_system_clock_runs() -> None:
    clock = clock_for(load_settings().now)
    assert isinstance(clock, SystemClock)
    assert clock.now().tzinfo is not None


def test_parse_instant_explains_the_form() -> None:
    assert parse_instant("2026-11-22T16:30:00Z") == datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="add one"):
        parse_instant("2026-11-22T16:30:00")
    with pytest.raises(ValueError, match="not an ISO-8601 instant"):
        parse_instant("yesterday")


def test_settings_report_holds_no_secrets_and_resolves_the_data_dir(tmp_path: Path) -> None:
    report = settings_report(load_settings())
    assert report["data_dir"] == str(tmp_path / "data")
    text = repr(report).lower()
    assert (
        "token" not in text
        and "password" not in text
        and "key" not in text.replace("keymap", "").replace("keyring", "")
    )
