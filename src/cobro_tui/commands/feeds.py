"""What the commands for the institution's feeds share (`import portfolio`, `import payments`,
`export events`): the server and the integration key, never a person's session.

The key comes from the environment variable COBRO_INTEGRATION_KEY (a scheduler or a secrets
manager puts it there; it is never written to a file by cobro-tui) or from the first line of
standard input with `--key-stdin`.
"""

from __future__ import annotations

import argparse
import os
import sys

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import t
from cobro_tui.settings import Settings
from cobro_tui.sync.client import ApiClient

KEY_VARIABLE = "COBRO_INTEGRATION_KEY"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--server and --key-stdin, the same on every feed command."""
    parser.add_argument("--server", metavar="URL", help="the server (default: server_url, COBRO_SERVER_URL)")
    parser.add_argument(
        "--key-stdin",
        action="store_true",
        help=f"read the integration key from the first line of standard input (default: ${KEY_VARIABLE})",
    )


def integration_api(args: argparse.Namespace, settings: Settings) -> ApiClient:
    """The API client of the integration credential given to this command; the caller closes it."""
    from cobro_tui.bootstrap import transport_security, warn_insecure

    server = args.server or settings.server_url
    if not server:
        raise UserFacingError(t("feeds.needs_server"))
    key = sys.stdin.readline().strip() if args.key_stdin else os.environ.get(KEY_VARIABLE, "").strip()
    if not key:
        raise UserFacingError(t("feeds.needs_key", variable=KEY_VARIABLE))
    api = ApiClient(server, key, timeout=settings.sync.timeout_seconds, security=transport_security(settings))
    warn_insecure(api)
    return api
