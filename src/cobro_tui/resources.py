"""Where the shipped defaults live: next to the package when installed, the checkout otherwise."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """`config` or `migrations`, from the wheel (cobro_tui/_shipped) or the source checkout."""
    installed = _PACKAGE / "_shipped" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent.parent / name
