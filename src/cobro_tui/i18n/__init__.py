"""One translation function for every user-facing text; Spanish (es-MX) by default, English too.

Catalogs are TOML files beside this module, keyed by message id. Formats (money, dates) follow
Mexican conventions through Babel in both languages: $1,234.56.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from cobro_tui.domain.money import Money

LANGUAGES = ("es", "en")
_HERE = Path(__file__).resolve().parent
_current = "es"


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every message of `lang`: its main catalog, then one fragment per area (`es.import.toml`)."""
    flat: dict[str, str] = {}
    for path in [_HERE / f"{lang}.toml", *sorted(_HERE.glob(f"{lang}.*.toml"))]:
        with path.open("rb") as handle:
            part = _flatten(tomllib.load(handle))
        repeated = sorted(set(part) & set(flat))
        if repeated:
            raise ValueError(f"{path.name} repeats messages already defined: {', '.join(repeated[:5])}")
        flat.update(part)
    return flat


def _flatten(nested: dict[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(name, value)
            else:
                flat[name] = str(value)

    walk("", nested)
    return flat


def set_language(lang: str) -> None:
    """Choose the interface language for the whole process (es or en)."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _current = lang


def language() -> str:
    return _current


def t(key: str, **values: Any) -> str:
    """The text of message `key` in the current language, with {placeholders} filled in."""
    text = catalog(_current).get(key) or catalog("es").get(key) or key
    return text.format(**values) if values else text


def money(amount: Money) -> str:
    """Money as Mexicans read it: $1,234.56 (MXN), with the code for other currencies."""
    if amount.currency == "MXN":
        return format_currency(amount.to_decimal(), "MXN", locale="es_MX")
    return format_currency(amount.to_decimal(), amount.currency, locale="es_MX", format="¤ #,##0.00")


def number(value: int | Decimal) -> str:
    return format_decimal(value, locale="es_MX")


def day(value: date) -> str:
    """A calendar date, such as 22/11/2026."""
    return format_date(value, format="dd/MM/yyyy", locale="es_MX")


def instant(value: datetime) -> str:
    """A moment in the zone it carries, such as 22/11/2026 10:30."""
    return format_datetime(value, format="dd/MM/yyyy HH:mm", tzinfo=value.tzinfo, locale="es_MX")
