"""`cobro-tui replay FILE`: push again the unsent items saved from a damaged cache.

The file is the one the damage message named (unsent-<device>.jsonl in the data folder). Its
items go through the normal push with their own mutation ids, so an item the server already has
is not applied again: replaying twice doubles nothing. The session signed in on this workstation
(the same user) carries them; their arguments are opened with the key of the cache they came from.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "replay"
EXIT_UNREACHABLE = 4


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    about = (
        "push again the unsent items saved from a damaged cache (a file unsent-<device>.jsonl); "
        "each goes once, however often it is replayed"
    )
    parser = sub.add_parser(
        NAME,
        help=about,
        description=about + ".",
        epilog="Exit code: 0 every item has its verdict, 2 the file or the session cannot be used, "
        "4 the server could not be reached (run it again: nothing is doubled).",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the file the damage message named")


def run(args: argparse.Namespace) -> int:
    from cobro_tui.bootstrap import secret_store, transport_security, warn_insecure
    from cobro_tui.clock import clock_for
    from cobro_tui.domain.text import shown
    from cobro_tui.errors import UserFacingError
    from cobro_tui.i18n import set_language, t
    from cobro_tui.settings import load_settings
    from cobro_tui.store.rescue import RescueUnreadable, read_rescue
    from cobro_tui.sync.client import ApiClient, SyncError
    from cobro_tui.sync.replay import replay

    settings = load_settings()
    set_language(settings.lang)
    file = args.file
    try:
        items = read_rescue(file)
    except OSError as exc:
        raise UserFacingError(t("doctor.replay_unreadable", file=file, where=exc.strerror or exc)) from None
    except RescueUnreadable as exc:
        raise UserFacingError(t("doctor.replay_unreadable", file=file, where=exc)) from None
    if not items:
        print(t("doctor.replay_empty", file=file))
        return 0
    first = items[0]
    if not first.server_url or not first.agent:
        raise UserFacingError(t("doctor.replay_no_server", file=file))
    store = secret_store(settings)
    key = store.cache_key(first.cache, create=False)
    if key is None:
        raise UserFacingError(t("doctor.replay_no_key", file=file, cache=first.cache))
    try:
        for item in items:
            item.args(key)  # every item opens before any is sent
    except RescueUnreadable:
        raise UserFacingError(t("doctor.replay_no_key", file=file, cache=first.cache)) from None
    token = store.load_token(first.server_url, first.agent)  # no session: says to sign in
    api = ApiClient(
        first.server_url, token, timeout=settings.sync.timeout_seconds, security=transport_security(settings)
    )
    warn_insecure(api)
    try:
        report = replay(api, items, key, clock_for(settings.now))
    except SyncError as exc:
        print(t("doctor.replay_failed", error=exc.message, file=file), file=sys.stderr)
        return EXIT_UNREACHABLE
    finally:
        api.close()
    print(
        t(
            "doctor.replay_done",
            file=file,
            count=report.sent,
            applied=report.applied,
            warned=report.warned,
            rejected=report.rejected,
            held=report.held,
            replayed=report.replayed,
        )
    )
    for name, mutation, reason in report.refusals:
        print(shown(t("doctor.replay_rejected", name=name, mutation=mutation, reason=reason)))
    return 0
