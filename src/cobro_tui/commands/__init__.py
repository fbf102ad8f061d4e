"""Commands of `cobro-tui` kept in their own modules, one per area.

Each module in MODULES has NAME (the command word), `register(sub)` (adds its parser to the
subparsers of `cobro-tui`) and `run(args) -> int` (its exit code). `cli.py` keeps the core commands.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

MODULES: tuple[str, ...] = ("imports", "admin", "export", "doctor", "replay")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add every module's parser; the runner of each command word."""
    runners: dict[str, Callable[[argparse.Namespace], int]] = {}
    for name in MODULES:
        module = importlib.import_module(f"cobro_tui.commands.{name}")
        module.register(sub)
        runners[module.NAME] = module.run
    return runners
