"""`cobro-tui admin`: the people and machine credentials of a server.

`admin init` makes the first manager straight in a new server's database (on the server machine,
before anyone can sign in); everything else goes through the API with the session of a manager
signed in on this machine (`cobro-tui login`).
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from typing import Any

NAME = "admin"
PERSON_ROLES = ("agent", "supervisor", "manager", "auditor")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_TEAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_USER_ACTIONS = {
    "disable": "disable a user: they cannot sign in, and their sessions end now",
    "enable": "let a disabled user sign in again",
    "unlock": "let a locked-out user sign in again now",
    "reset-password": "a new one-time password (printed once); their sessions end",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser(
        NAME, help="people and machine credentials on the server (a manager signed in here; init on a new server)"
    )
    what = admin.add_subparsers(dest="admin_command", metavar="WHAT", required=True)

    init = what.add_parser("init", help="make the first manager in a new server's empty database (on the server)")
    init.add_argument("--database", metavar="URL", help="the server's database, as for serve --db (default: serve's)")
    init.add_argument("--user", required=True, metavar="U", help="the first manager's user name")
    init.add_argument("--team", required=True, metavar="T", help="their team (made when it is not there)")
    init.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of standard input"
    )

    what.add_parser("list", aliases=["users"], help="every user: role, team, enabled/disabled/locked, last sign-in")

    user = what.add_parser("user", help="add a user, or change one")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_sub.add_parser("add", help="a new user with a one-time password (printed once), changed at first login")
    add.add_argument("username")
    add.add_argument(
        "--role",
        required=True,
        choices=PERSON_ROLES,
        help="a person's role (a machine gets an integration credential: admin integration add)",
    )
    add.add_argument("--team", required=True)
    for action, help_text in _USER_ACTIONS.items():
        user_sub.add_parser(action, help=help_text).add_argument("username")
    set_role = user_sub.add_parser("set-role", help="a user's new role (their sessions end)")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=PERSON_ROLES)
    set_team = user_sub.add_parser("set-team", help="a user's new team")
    set_team.add_argument("username")
    set_team.add_argument("team")

    team = what.add_parser("team", help="add, rename or list teams")
    team_sub = team.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    team_sub.add_parser("add", help="a new team").add_argument("name")
    rename = team_sub.add_parser("rename", help="a team's new name (its members follow)")
    rename.add_argument("old")
    rename.add_argument("new")
    team_sub.add_parser("list", help="every team and how many people of each role it has")

    integration = what.add_parser("integration", help="machine credentials for the institution's feeds")
    integration_sub = integration.add_subparsers(dest="integration_command", metavar="ACTION", required=True)
    made = integration_sub.add_parser("add", help="make a credential; its key is printed once")
    made.add_argument("name")
    made.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=("payments", "portfolio", "export"),
        help="a feed it may use (repeat for more)",
    )
    integration_sub.add_parser("list", help="the credentials (never their keys)")
    revoke = integration_sub.add_parser("revoke", help="stop a credential now")
    revoke.add_argument("id")


def run(args: argparse.Namespace) -> int:
    from cobro_tui.i18n import set_language
    from cobro_tui.settings import load_settings

    settings = load_settings()
    set_language(settings.lang)
    if args.admin_command == "init":
        return _init(args, settings)
    return _through_api(args, settings)


def _read_password(args: argparse.Namespace) -> str:
    from cobro_tui.commands.passwords import Words, choose_password
    from cobro_tui.errors import UserFacingError

    words = Words(
        "admin.init_password_prompt",
        "admin.init_password_again",
        "admin.init_passwords_differ",
        "admin.init_no_password",
    )
    return choose_password(args.user, args.password_stdin, words, UserFacingError)


def _init(args: argparse.Namespace, settings: Any) -> int:
    """The first manager, written straight into the server's database (migrated first); refused
    once the server has any manager. The password is the one typed: there are no default ones."""
    from sqlalchemy import select

    from cobro_tui.clock import clock_for
    from cobro_tui.errors import UserFacingError
    from cobro_tui.i18n import t
    from cobro_tui.server import auth
    from cobro_tui.server.db import migrate, server_engine, write_tx
    from cobro_tui.server.run import default_db_url
    from cobro_tui.server.schema import users
    from cobro_tui.server.security import record_security_event

    for what, value, pattern, most in (("user", args.user, _USERNAME, 64), ("team", args.team, _TEAM, 32)):
        if not pattern.fullmatch(value):
            shown = value.encode("unicode_escape").decode()[:80]  # never a terminal control, never a screenful
            raise UserFacingError(t("admin.init_bad_name", what=what, value=shown, max=most))
    password = _read_password(args)
    weak = auth.password_problem(args.user, password)
    if weak is not None:
        raise UserFacingError(t("admin.weak_password", reason=t(f"admin.password_{weak}", min=auth.PASSWORD_MIN)))
    now = clock_for(settings.now).now()
    engine = server_engine(args.database or default_db_url(settings.resolved_data_dir()))
    try:
        migrate(engine)
        with write_tx(engine) as conn:
            if conn.dialect.name == "postgresql":  # two inits at once: the second waits, then sees the first
                conn.exec_driver_sql("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            managers = conn.execute(select(users.c.username).where(users.c.role == "manager")).scalars().all()
            if managers:
                raise UserFacingError(t("admin.init_refused", managers=", ".join(sorted(managers)[:5])))
            if conn.execute(select(users.c.username).where(users.c.username == args.user)).first() is not None:
                raise UserFacingError(t("admin.init_user_taken", user=args.user))
            auth.add_user(conn, args.user, password, "manager", args.team, now=now)
            record_security_event(conn, now, "FIRST_MANAGER", args.user, None, args.user, {"team": args.team})
    finally:
        engine.dispose()
    print(t("admin.init_done", user=args.user, team=args.team))
    return 0


def _when(text: str | None) -> str:
    from cobro_tui.i18n import instant

    return f"{instant(datetime.fromisoformat(text))} UTC" if text else "—"


def _user_line(found: dict[str, Any]) -> str:
    from cobro_tui.i18n import t

    state = {
        "disabled": t("admin.disabled"),
        "locked": t("admin.locked", until=_when(found.get("locked_until"))),
    }.get(found.get("state", ""), t("admin.enabled"))
    if found.get("must_change_password"):
        state += f" ({t('admin.must_change')})"
    seen = (
        t("admin.last_login", at=_when(found["last_login_at"]))
        if found.get("last_login_at")
        else t("admin.never_signed_in")
    )
    role = t("role_name." + found["role"])
    return f"{found['username']:<24} {role:<14} {found['team']:<12} {state:<28} {seen}"


def _through_api(args: argparse.Namespace, settings: Any) -> int:
    from cobro_tui.bootstrap import signed_in_api
    from cobro_tui.errors import UserFacingError
    from cobro_tui.sync.client import SyncError

    api, _ = signed_in_api(settings, ("manager",), "admin.managers_only")
    try:
        if args.admin_command in ("list", "users"):
            for found in api.admin_users():
                print(_user_line(found))
        elif args.admin_command == "user":
            _user(api, args)
        elif args.admin_command == "team":
            _team(api, args)
        else:
            _integration(api, args)
    except SyncError as exc:
        raise UserFacingError(exc.message) from None
    finally:
        api.close()
    return 0


def _user(api: Any, args: argparse.Namespace) -> None:
    from cobro_tui.i18n import t

    command = args.user_command
    if command == "add":
        made = api.admin_user_add(args.username, args.role, args.team)
        user = made["user"]
        print(t("admin.user_added", user=user["username"], role=t("role_name." + user["role"]), team=user["team"]))
        print(made["password"])
    elif command == "reset-password":
        made = api.admin_user(args.username, command)
        print(t("admin.user_reset_password", user=made["user"]["username"]))
        print(made["password"])
    elif command == "set-role":
        changed = api.admin_set_role(args.username, args.role)
        print(t("admin.role_set", user=changed["username"], role=t("role_name." + changed["role"])))
    elif command == "set-team":
        changed = api.admin_set_team(args.username, args.team)
        print(t("admin.team_set", user=changed["username"], team=changed["team"]))
    else:
        changed = api.admin_user(args.username, command)
        print(t(f"admin.user_{command}", user=changed["username"]))


def _team(api: Any, args: argparse.Namespace) -> None:
    from cobro_tui.i18n import t

    if args.team_command == "add":
        print(t("admin.team_added", team=api.admin_team_add(args.name)["name"]))
    elif args.team_command == "rename":
        print(t("admin.team_renamed", old=args.old, new=api.admin_team_rename(args.old, args.new)["name"]))
    else:
        for team in api.admin_teams():
            members = ", ".join(f"{t('role_name.' + role)}: {n}" for role, n in team["members"].items())
            print(t("admin.team_line", name=team["name"], members=members or t("admin.team_empty")))


def _integration(api: Any, args: argparse.Namespace) -> None:
    from cobro_tui.i18n import t

    if args.integration_command == "add":
        made = api.admin_integration_add(args.name, sorted(set(args.scope)))
        print(t("admin.integration_added", name=made["name"], id=made["id"], scopes=", ".join(made["scopes"])))
        print(made["key"])
    elif args.integration_command == "list":
        for item in api.admin_integrations():
            state = t("admin.revoked", at=_when(item["revoked_at"])) if item["revoked_at"] else t("admin.active")
            print(f"{item['id']:<14} {item['name']:<24} {' '.join(item['scopes']):<24} {state}")
    else:
        revoked = api.admin_integration_revoke(args.id)
        print(t("admin.integration_revoked", name=revoked["name"], id=revoked["id"]))
