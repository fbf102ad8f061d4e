"""Config errors are worded from the catalogs: every error the models raise has a Spanish and an
English message, and a key path reads as the TOML file spells it."""

from __future__ import annotations

import re
from pathlib import Path

from cobro_tui.config_errors import key_path
from cobro_tui.domain.buckets import FAULT_WORDS
from cobro_tui.i18n import catalog

SRC = Path(__file__).resolve().parent.parent / "src" / "cobro_tui"
# The pydantic error types the config models can produce, as config_errors maps them.
PYDANTIC_TYPES = (
    "missing",
    "extra_forbidden",
    "int_type",
    "float_type",
    "bool_type",
    "string_type",
    "list_type",
    "dict_type",
    "datetime_type",
    "timezone_aware",
    "path_type",
    "greater_than_equal",
    "greater_than",
    "less_than_equal",
    "less_than",
    "range",
    "too_short",
    "too_long",
    "one_of",
    "invalid",
)


def test_every_config_error_the_code_raises_has_a_message_in_both_languages() -> None:
    kinds = set(PYDANTIC_TYPES) | {f"bucket_{kind}" for kind in FAULT_WORDS}
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        kinds |= set(re.findall(r"""\b(?:fault|message)\(\s*["']([a-z_0-9]+)["']""", text))
        # The kind is the last text before the call's keyword values: checked(test, "kind", width=2).
        kinds |= set(
            re.findall(r"""\b(?:checked|defined_in|parses)\(.*?["']([a-z_0-9]+)["'](?:,\s*\w+=\w+)*\)""", text)
        )
    seen = {"not_a_zone", "unknown_bucket", "blank", "inegi_code", "clock", "window_order", "file_missing"}
    assert seen <= kinds, "the scan must see them"
    for lang in ("es", "en"):
        assert sorted(k for k in kinds if f"config_error.{k}" not in catalog(lang)) == [], lang


def test_a_key_path_reads_as_the_file_spells_it() -> None:
    assert key_path(("settlement", "band", 2, "agent")) == "settlement.band[2].agent"
    assert key_path(("promise", "max_days", "120+")) == 'promise.max_days."120+"'
    assert key_path(("states", "1", "[key]")) == "states.1"
    assert key_path(()) == ""
