"""`cobro-tui import KIND ...`: the institution's files into the server, one module per kind.

Each module in KINDS has KIND (the word after `import`), `register(sub)` (adds its parser to the
subparsers of `import`) and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType

NAME = "import"
KINDS: tuple[str, ...] = ("import_portfolio", "import_payments")


def _modules() -> list[ModuleType]:
    return [importlib.import_module(f"cobro_tui.commands.{name}") for name in KINDS]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(NAME, help="load the institution's files (portfolio, payments) into the server")
    kinds = parser.add_subparsers(dest="import_kind", metavar="KIND", required=True)
    for module in _modules():
        module.register(kinds)


def run(args: argparse.Namespace) -> int:
    for module in _modules():
        if args.import_kind == module.KIND:
            return int(module.run(args))
    raise SystemExit(2)
