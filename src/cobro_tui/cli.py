"""The `cobro-tui` command: the workstation, the demo and the tools around them."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cobro_tui import __version__, logs

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from cobro_tui.credentials import CredentialStore

EXIT_UNREACHABLE = 4
EXIT_DAMAGED = 65  # sysexits EX_DATAERR: the cache is damaged (store.integrity.CacheDamaged)
EXIT_DISK_FULL = 74  # sysexits EX_IOERR: the disk is full (store.integrity.DiskFull)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cobro-tui",
        description="Collector workstation for debt-collection call centres. "
        "Without a command, opens the workstation on this user's cache.",
    )
    parser.add_argument("--version", action="version", version=f"cobro-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo", help="open the workstation on a generated Mexican demo portfolio; nothing to configure"
    )
    demo.add_argument(
        "--accounts", type=int, help="accounts in the demo portfolio (default from settings: demo.accounts)"
    )
    demo.add_argument("--seed", type=int, help="seed that makes the portfolio reproducible (default: demo.seed)")
    demo.add_argument(
        "--as",
        dest="user",
        metavar="USER",
        help="the demo user to sign in as: agente01..agente10 open the workstation, "
        "supervisor01 or gerente01 the supervisor's screens (default: demo.agent)",
    )

    serve = sub.add_parser("serve", help="the reference backend (FastAPI + uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--seed", type=int, default=7, help="seed of the --demo portfolio")
    serve.add_argument("--db", help="database URL: a SQLite file by default, postgresql://... for PostgreSQL")
    serve.add_argument("--demo", type=int, metavar="N", help="load a generated portfolio of N accounts")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes sharing the port (PostgreSQL only; see docs/operations.md)",
    )
    serve.add_argument(
        "--tls-cert", type=Path, metavar="FILE", help="serve https with this certificate (PEM, with its chain)"
    )
    serve.add_argument("--tls-key", type=Path, metavar="FILE", help="the private key of --tls-cert (PEM)")

    login = sub.add_parser("login", help="sign in; the token is kept in the OS keyring or this machine's sealed vault")
    login.add_argument("--server", metavar="URL", help="the server (default: server_url, COBRO_SERVER_URL)")
    login.add_argument("--user", required=True, metavar="U")
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (scripts, a workstation without a terminal)",
    )

    sub.add_parser("logout", help="end this workstation's session on the server and remove its token here")
    sub.add_parser(
        "sync",
        help="one headless sync round; prints what moved",
        description="One headless sync round; prints what moved. Exit code: 0 done, 4 the server could not "
        "be reached (nothing is lost: it is sent next time), 65 the cache is damaged (its unsent items are "
        "saved to a file first, and the message says what to do), 74 the disk is full (free space and run it again).",
    )
    sub.add_parser("migrate", help="apply the cache migrations (also done at every start)")

    config = sub.add_parser("config", help="settings and policy")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_sub.add_parser("show", help="the effective settings, without secrets")
    check = config_sub.add_parser("check", help="validate a policy folder and report every error with file and key")
    check.add_argument("dir", nargs="?", type=Path, help="the policy folder (default: the shipped config/)")

    rules = sub.add_parser("rules", help="the contact rules")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    explain = rules_sub.add_parser("explain", help="why contact is or is not allowed now, rule by rule")
    explain.add_argument("account")
    explain.add_argument("--at", metavar="ISO")
    explain.add_argument("--channel", metavar="C")

    audit = sub.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_sub.add_parser("verify", help="walk the hash chain and say where it breaks, if anywhere")

    kpi = sub.add_parser("kpi", help="supervisor figures from the server, for scripts")
    kpi.add_argument("--since", default="7d", help="how far back: 7d, 24h, 90m, or an ISO instant with offset")
    kpi.add_argument("--team", help="one team's agents (default: every agent)")
    kpi.add_argument("--json", action="store_true", help="the report as JSON, as the server gives it")

    from cobro_tui import commands  # the commands kept in their own modules

    parser.set_defaults(runners=commands.register(sub))
    return parser


def _cmd_demo(args: argparse.Namespace) -> int:
    from cobro_tui.bootstrap import run_demo
    from cobro_tui.settings import load_settings

    settings = load_settings()
    accounts = args.accounts if args.accounts is not None else settings.demo.accounts
    seed = args.seed if args.seed is not None else settings.demo.seed
    if not 1 <= accounts <= 1_000_000:
        raise _usage(f"--accounts must be between 1 and 1000000, not {accounts}")
    return run_demo(settings, accounts, seed, user=args.user)


def _cmd_workstation(args: argparse.Namespace) -> int:
    from cobro_tui.bootstrap import run_workstation
    from cobro_tui.settings import load_settings

    return run_workstation(load_settings())


def _open_user_cache() -> tuple[CredentialStore, Engine]:
    from cobro_tui.bootstrap import open_user_cache
    from cobro_tui.i18n import set_language
    from cobro_tui.settings import load_settings

    settings = load_settings()
    set_language(settings.lang)
    return open_user_cache(settings)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from cobro_tui.bootstrap import cache_path, open_user_cache
    from cobro_tui.i18n import set_language, t
    from cobro_tui.settings import load_settings
    from cobro_tui.store.migrate import upgrade

    settings = load_settings()
    set_language(settings.lang)
    path = cache_path(settings)
    _, engine = open_user_cache(settings, create=True, migrate=False)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    print(t("cli.migrate_current" if before == after else "cli.migrated", path=path, before=before or "—", after=after))
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from cobro_tui.i18n import set_language, t
    from cobro_tui.settings import load_settings, settings_report

    settings = load_settings()
    set_language(settings.lang)
    if args.config_command == "show":
        print(json.dumps(settings_report(settings), indent=2, ensure_ascii=False))
        return 0
    from cobro_tui.policy import check_policy, default_policy_dir, load_policy

    folder = args.dir or default_policy_dir()
    problems = check_policy(folder)
    if problems:
        print(t("cli.config_bad", path=folder, count=len(problems)), file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    policy = load_policy(folder)
    print(t("cli.config_ok", path=folder, buckets=len(policy.buckets.buckets), codes=len(policy.result_codes.codes)))
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    """Walk the local chain, then compare it with the chain the server keeps (or, when the server
    cannot be asked, with the head it last acknowledged): a cut tail or a rebuilt chain is found."""
    from cobro_tui.bootstrap import server_audit_head
    from cobro_tui.domain.audit import against_anchor
    from cobro_tui.errors import UserFacingError
    from cobro_tui.i18n import instant, t
    from cobro_tui.settings import load_settings
    from cobro_tui.store.audit_log import chain_head, event_hash, verify
    from cobro_tui.store.sync_store import audit_anchor, read_meta
    from cobro_tui.sync.client import Refused, SyncError

    store, engine = _open_user_cache()
    try:
        report = verify(engine)
        if not report.intact:
            print(
                t("cli.audit_broken", seq=report.broken_at, reason=report.reason, events=report.events), file=sys.stderr
            )
            return 1
        print(t("cli.audit_intact", events=report.events, head=report.head[:16]))
        meta = read_meta(engine)
        if meta is None or meta.server_url is None:
            return 0  # a cache of its own (the demo's): there is no server to compare with
        anchor = audit_anchor(engine)
        kept_seq, kept_hash, alarm = anchor.seq, anchor.hash, None
        try:
            server = server_audit_head(engine, load_settings(), store)
            kept_seq, kept_hash = server["head_seq"], server["head_hash"]
            alarm = (server["alarm"], server.get("alarm_detail") or "") if server.get("alarm") else None
        except Refused as refused:
            if refused.code != "UNKNOWN_DEVICE":
                raise UserFacingError(refused.message) from None
            kept_seq, kept_hash = 0, None  # the server keeps nothing of this device yet
        except (SyncError, UserFacingError) as exc:
            error = exc.message
            if anchor.at is None:
                print(t("audit.never_acknowledged", error=error))
                return 0
            print(t("audit.unreachable", error=error, at=f"{instant(anchor.at)} UTC"))
        with engine.connect() as conn:
            local_seq, _ = chain_head(conn)
            found = against_anchor(local_seq, event_hash(conn, kept_seq) if kept_seq else None, kept_seq, kept_hash)
    finally:
        engine.dispose()
    print(
        t(f"audit.server_{found.state}", kept=found.kept, events=local_seq),
        file=sys.stderr if found.state in ("truncated", "rebuilt") else sys.stdout,
    )
    if alarm is not None:
        print(t("audit.server_alarm", alarm=alarm[0], detail=alarm[1]), file=sys.stderr)
    return 1 if found.state in ("truncated", "rebuilt") or alarm is not None else 0


def _cmd_rules(args: argparse.Namespace) -> int:
    from datetime import datetime

    from cobro_tui.clock import clock_for
    from cobro_tui.domain.models import Channel
    from cobro_tui.domain.text import shown
    from cobro_tui.i18n import t
    from cobro_tui.policy import load_policy
    from cobro_tui.services.rules import RulesService
    from cobro_tui.settings import load_settings
    from cobro_tui.store.device import read_device

    channels = [c.value for c in Channel]
    if args.channel is not None and args.channel not in channels:
        raise _usage(f"--channel must be one of {', '.join(channels)}, not {args.channel!r}")
    at = None
    if args.at is not None:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            raise _usage(
                f"--at must be an ISO date and time with its offset, like 2026-11-23T21:59-06:00, not {args.at!r}"
            ) from None
        if at.tzinfo is None:
            raise _usage(f"--at needs a UTC offset (say whose clock it is), like {args.at}-06:00")
    _, engine = _open_user_cache()
    try:
        with engine.connect() as conn:
            device = read_device(conn)
        if device is None:
            raise _usage(t("cli.not_signed_in"))
        service = RulesService(engine, clock_for(load_settings().now), load_policy(), device)
        account_id = service.find(args.account)
        if account_id is None:
            raise _usage(t("cli.unknown_account", account=args.account))
        for line in service.explain(account_id, Channel(args.channel or "voice"), at):
            print(shown(line))
    finally:
        engine.dispose()
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from cobro_tui.clock import clock_for
    from cobro_tui.i18n import set_language, t
    from cobro_tui.server.run import default_db_url, serve, tls_files
    from cobro_tui.settings import load_settings

    settings = load_settings()
    set_language(settings.lang)
    if args.demo is not None and not 1 <= args.demo <= 1_000_000:
        raise _usage(f"--demo must be between 1 and 1000000, not {args.demo}")
    if not 1 <= args.workers <= 64:
        raise _usage(t("floor.workers_range", workers=args.workers))
    tls = tls_files(args.tls_cert, args.tls_key)  # before anything starts
    db_url = args.db or default_db_url(settings.resolved_data_dir())
    serve(
        args.host,
        args.port,
        db_url,
        clock_for(settings.now),
        args.demo,
        args.seed,
        settings.server,
        tls,
        args.workers,
    )
    return 0


def _cmd_login(args: argparse.Namespace) -> int:
    import getpass

    from cobro_tui.bootstrap import sign_in, store_description, transport_security
    from cobro_tui.i18n import set_language, t
    from cobro_tui.settings import load_settings

    settings = load_settings()
    set_language(settings.lang)
    args.server = args.server or settings.server_url
    if not args.server:
        raise _usage(t("cli.login_needs_server"))
    security = transport_security(settings)
    warning = security.check(args.server)  # refused before the password is asked, or warned
    if warning:
        print(warning, file=sys.stderr)
    try:
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass(t("cli.password_prompt", user=args.user))
    except EOFError:
        password = ""
    if not password:
        raise _usage(t("cli.no_password"))

    def new_password() -> str:  # the password was a one-time one: the person chooses theirs now
        from cobro_tui.api.models import PASSWORD_MIN
        from cobro_tui.commands.passwords import Words, choose_password

        words = Words(
            "people.new_password_prompt",
            "people.new_password_again",
            "people.passwords_differ",
            "people.no_new_password",
        )

        print(t("people.change_required", user=args.user, min=PASSWORD_MIN), file=sys.stderr)
        return choose_password(args.user, args.password_stdin, words, _usage)

    store = sign_in(settings, args.server, args.user, password, new_password)
    print(t("credentials.logged_in", user=args.user, server=args.server, where=store_description(settings, store)))
    return 0


def _cmd_logout(args: argparse.Namespace) -> int:
    from cobro_tui.bootstrap import sign_out
    from cobro_tui.i18n import set_language, t
    from cobro_tui.settings import load_settings

    settings = load_settings()
    set_language(settings.lang)
    user, server, error = sign_out(settings)
    if error:
        print(t("credentials.logged_out_offline", error=error), file=sys.stderr)
        return EXIT_UNREACHABLE
    print(t("credentials.logged_out", user=user, server=server))
    return 0


def _cmd_sync(args: argparse.Namespace) -> int:
    from cobro_tui.bootstrap import sync_once
    from cobro_tui.i18n import set_language, t
    from cobro_tui.settings import load_settings

    settings = load_settings()
    set_language(settings.lang)
    report = sync_once(settings)
    print(
        t(
            "cli.sync_report",
            pushed=report.pushed,
            applied=report.applied,
            warned=report.warned,
            rejected=report.rejected,
            held=report.held,
            pulled=report.pulled + report.snapshot_entities,
            revoked=report.revoked,
        )
    )
    if report.reason == "disk_full":
        print(t("doctor.disk_full", dir=settings.resolved_data_dir()), file=sys.stderr)
        return EXIT_DISK_FULL
    if report.reason == "damaged":  # its unsent items were saved to a file first; the words say what next
        print(t("cli.error", message=report.error), file=sys.stderr)
        return EXIT_DAMAGED
    if report.error:
        print(t("cli.sync_failed", error=report.error), file=sys.stderr)
        return EXIT_UNREACHABLE
    return 0


def _since(text: str, now: datetime) -> datetime:
    """7d, 24h, 90m back from now, or an ISO-8601 instant with its offset."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if text[:-1].isdigit() and text[-1:] in units:
        return now - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise _usage(
            f"--since {text!r}: write 7d, 24h, 90m or an ISO instant such as 2026-11-01T00:00:00-06:00"
        ) from None
    if found.tzinfo is None:
        raise _usage(f"--since {text!r}: give the instant's offset, such as -06:00")
    return found


def _cmd_kpi(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from cobro_tui.bootstrap import kpi_report
    from cobro_tui.clock import clock_for
    from cobro_tui.domain.text import shown
    from cobro_tui.i18n import instant, set_language, t
    from cobro_tui.services.kpi_text import agent_lines, summary_lines, team_words
    from cobro_tui.settings import load_settings

    settings = load_settings()
    set_language(settings.lang)
    now = clock_for(settings.now).now()
    report = kpi_report(settings, _since(args.since, now), now, args.team)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0

    zone = ZoneInfo(settings.ui.agent_zone)  # the period on the floor's clock

    def local(text: str) -> str:
        return instant(datetime.fromisoformat(text).astimezone(zone))

    print(
        t(
            "kpi.heading",
            since=local(report["since"]),
            until=local(report["until"]),
            team=team_words(report["team"]),
            agents=len(report["agents"]),
        )
    )
    for line in [*summary_lines(report), *agent_lines(report)]:
        print(shown(line))
    return 0


class _UsageError(Exception):
    pass


def _usage(message: str) -> _UsageError:
    return _UsageError(message)


_COMMANDS = {
    None: _cmd_workstation,
    "demo": _cmd_demo,
    "migrate": _cmd_migrate,
    "config": _cmd_config,
    "audit": _cmd_audit,
    "rules": _cmd_rules,
    "serve": _cmd_serve,
    "login": _cmd_login,
    "logout": _cmd_logout,
    "sync": _cmd_sync,
    "kpi": _cmd_kpi,
}


def _start_log(command: str) -> None:
    """The workstation's log file, its times on the one clock (COBRO_NOW when it is set and valid;
    a bad value is reported by the command's own settings)."""
    import os

    from cobro_tui.clock import SystemClock, clock_for, parse_instant

    try:
        clock = clock_for(parse_instant(os.environ["COBRO_NOW"])) if os.environ.get("COBRO_NOW") else SystemClock()
    except ValueError:
        clock = SystemClock()
    logs.start_workstation_log(clock)
    logs.get("cli").info("%s: cobro-tui %s", command, __version__)


def main(argv: Sequence[str] | None = None) -> int:
    from cobro_tui.errors import UserFacingError

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "serve":  # the server logs JSON lines on stderr instead (server/run.serve)
        _start_log(args.command or "workstation")
    try:
        return (_COMMANDS.get(args.command) or args.runners[args.command])(args)
    except _UsageError as exc:
        parser.error(str(exc))
    except UserFacingError as exc:
        from cobro_tui.i18n import t

        print(t("cli.error", message=exc.message), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception:  # a bug: keep the details for the developers, tell the person what to do
        from cobro_tui.crash import write_crash_report

        report = write_crash_report()
        logs.get("cli").error("stopped on an unexpected error; crash report %s", report, exc_info=True)
        print(
            f"cobro-tui stopped on an unexpected error; nothing recorded before it was lost. "
            f"Please send {report} to your support team.",
            file=sys.stderr,
        )
        return 70
    return 0
