"""The one place that builds the engine, the credential store and the services, then the app."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from cobro_tui.clock import Clock, clock_for
from cobro_tui.credentials import (
    CredentialStore,
    KeyStore,
    MemoryKeyStore,
    MissingCacheKey,
    credential_store,
)
from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import set_language, t
from cobro_tui.policy import Policy, load_policy
from cobro_tui.services.accounts import AccountService
from cobro_tui.services.contacts import ContactService
from cobro_tui.services.plans import PlanService
from cobro_tui.services.promises import PromiseService
from cobro_tui.services.queue import QueueService
from cobro_tui.services.restrictions import RestrictionService
from cobro_tui.services.rules import RulesService
from cobro_tui.services.status import StatusService
from cobro_tui.services.workstation import Workstation
from cobro_tui.settings import Settings
from cobro_tui.store.device import ensure_device, read_device
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade

if TYPE_CHECKING:
    from cobro_tui.services.session import SessionGuard
    from cobro_tui.sync.engine import SyncEngine, SyncReport
    from cobro_tui.sync.transport import TransportSecurity
    from cobro_tui.ui.app import CobroApp
    from cobro_tui.ui.supervisor_app import SupervisorApp

CACHE_NAME = "cache.db"


class NoCache(UserFacingError):
    """No cache to open yet."""


def cache_path(settings: Settings) -> Path:
    return settings.resolved_data_dir() / CACHE_NAME


def terminal_password(prompt: str) -> Callable[[], str]:
    """Asks the password on the terminal (without echo) when called; a clear refusal when none is typed."""

    def ask() -> str:
        import getpass

        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise UserFacingError(t("credentials.vault_needs_password")) from None

    return ask


def secret_store(settings: Settings, ask_password: Callable[[], str] | None = None) -> CredentialStore:
    """This workstation's credential store ([credentials] store): the secure keyring, or the vault
    opened with the password `ask_password` gives (the terminal's by default)."""
    found = settings.credentials
    ask = ask_password or terminal_password(t("credentials.vault_prompt_any"))
    return credential_store(found.store, settings.resolved_data_dir(), found.trusted_keyrings, ask)


def store_description(settings: Settings, store: CredentialStore) -> str:
    from cobro_tui.credentials import vault_path

    if store.kind == "vault":
        return t("credentials.where_vault", path=vault_path(settings.resolved_data_dir()))
    return t("credentials.where_keyring")


def open_user_cache(
    settings: Settings, ask_password: Callable[[], str] | None = None, create: bool = False, migrate: bool = True
) -> tuple[CredentialStore, Engine]:
    """The credential store and this user's cache, opened with the key kept there."""
    store = secret_store(settings, ask_password)
    return store, open_cache(cache_path(settings), store, create=create, migrate=migrate)


def open_cache(path: Path, keys: KeyStore, *, create: bool, migrate: bool = True) -> Engine:
    """Open (and migrate) the cache at `path` with its key, creating both when `create`."""
    exists = path.exists()
    if not exists and not create:
        raise NoCache(t("cli.no_cache", path=path))
    key = keys.cache_key(path, create=not exists)
    if key is None:
        raise MissingCacheKey(
            f"The cache {path} exists but its key is not in the keyring (another user or machine, or the "
            "keyring was reset). Nothing was changed. Move the file aside and sync again to rebuild it; keep "
            "the moved file until its pending items are confirmed on the server."
        )
    engine = CacheFile(path, key).open()
    if migrate:
        upgrade(engine)
        _remember_device(path, engine)
    return engine


def _remember_device(path: Path, engine: Engine) -> None:
    """The record beside a cache tied to a server (caches signed in before it existed get it here):
    with it a cache cut to 0 bytes is known for what it is, and one moved aside is rebuilt by sync."""
    from cobro_tui.store.integrity import device_record_path, note_device
    from cobro_tui.store.sync_store import read_meta

    if device_record_path(path).exists():
        return
    meta = read_meta(engine)
    if meta is not None and meta.server_url:
        note_device(path, meta.device_id, meta.agent_id, meta.server_url, meta.role)


def check_cache(engine: Engine) -> float:
    """`PRAGMA quick_check` of a cache now: raises CacheDamaged, after saving its unsent items, when
    it finds damage; the seconds it took."""
    from cobro_tui.store.engine import guard_of

    guard = guard_of(engine)
    return guard.check(engine) if guard is not None else 0.0


def transport_security(settings: Settings) -> TransportSecurity:
    """How this workstation may reach its server ([sync] allow_insecure_http, ca_file)."""
    from cobro_tui.sync.transport import TransportSecurity

    return TransportSecurity(settings.sync.allow_insecure_http, settings.sync.ca_file)


def warn_insecure(api: Any, say: Callable[[str], None] | None = None) -> None:
    """Say, on every start, that the connection to the server is plain http (allowed by a setting)."""
    if api.insecure_warning:
        (say or (lambda text: print(text, file=sys.stderr)))(api.insecure_warning)


class WrongAgent(UserFacingError):
    """The cache on this workstation belongs to another agent."""


def sign_in(
    settings: Settings,
    server_url: str,
    user: str,
    password: str,
    new_password: Callable[[], str] | None = None,
) -> CredentialStore:
    """Log in and tie this user's cache to the server, keeping the token in the credential store.

    The local store is asked first (a keyring that would refuse, a vault this password does not
    open, a cache of another agent): only then is the server asked for a token, and a token that
    could not be kept here is revoked on the server at once, so none is left alive. A one-time
    password (a new user's, or after a reset) is changed here: `new_password` asks for the new one,
    which then seals this machine's vault.
    """
    from cobro_tui.store.integrity import note_device
    from cobro_tui.store.sync_store import set_server
    from cobro_tui.sync.client import ApiClient, Refused, SyncError

    store = secret_store(settings, lambda: password)
    store.check()
    path = cache_path(settings)
    if path.exists():
        engine = open_cache(path, store, create=False)
        try:
            with engine.connect() as conn:
                device = read_device(conn)
        finally:
            engine.dispose()
        if device is not None and device.agent_id != user:
            raise WrongAgent(t("cli.wrong_agent", owner=device.agent_id, user=user))
    api = ApiClient(server_url, timeout=settings.sync.timeout_seconds, security=transport_security(settings))
    try:
        try:
            try:
                session = api.login(user, password)
            except Refused as refused:
                if refused.code != "PASSWORD_CHANGE_REQUIRED" or new_password is None:
                    raise
                chosen = new_password()
                session = api.change_password(user, password, chosen)
                password = chosen  # the vault below is sealed under the password the person will type
        except SyncError as exc:
            raise UserFacingError(exc.message) from None
        try:
            engine = open_cache(path, store, create=True)
            try:
                with engine.connect() as conn:
                    device = read_device(conn)
                if device is not None and device.agent_id != session["username"]:
                    raise WrongAgent(t("cli.wrong_agent", owner=device.agent_id, user=session["username"]))
                device = ensure_device(engine, session["username"])
                set_server(engine, server_url, session.get("role", "agent"))
                store.save_session(server_url, session["username"], session["token"], password)
                note_device(path, device.device_id, device.agent_id, server_url, session.get("role", "agent"))
            finally:
                engine.dispose()
        except Exception as exc:
            _revoke(server_url, session["token"], settings)
            if isinstance(exc, UserFacingError):
                raise UserFacingError(t("credentials.save_failed", error=exc.message)) from None
            raise
    finally:
        api.close()
    return store


def _revoke(server_url: str, token: str, settings: Settings) -> str | None:
    """End `token` on the server; the error when it could not be told."""
    from cobro_tui.sync.client import ApiClient, AuthFailed, SyncError

    api = ApiClient(server_url, token, timeout=settings.sync.timeout_seconds, security=transport_security(settings))
    try:
        api.logout()
    except AuthFailed:
        return None  # already ended
    except SyncError as exc:
        return exc.message
    finally:
        api.close()
    return None


def sign_out(settings: Settings, ask_password: Callable[[], str] | None = None) -> tuple[str, str, str | None]:
    """End this workstation's session on the server and remove its token here; the cache and its
    outbox stay. (user, server, the error when the server could not be told)."""
    from cobro_tui.credentials import MissingToken
    from cobro_tui.store.sync_store import read_meta

    store, engine = open_user_cache(settings, ask_password)
    try:
        meta = read_meta(engine)
    finally:
        engine.dispose()
    if meta is None or meta.server_url is None:
        raise NoCache(t("credentials.not_signed_in"))
    try:
        token = store.load_token(meta.server_url, meta.agent_id)
    except MissingToken:
        raise UserFacingError(t("credentials.not_signed_in")) from None
    error = _revoke(meta.server_url, token, settings)
    store.forget_session(meta.server_url, meta.agent_id)
    return meta.agent_id, meta.server_url, error


def sync_engine_for(
    engine: Engine, clock: Clock, token: str, timeout: float, security: TransportSecurity | None = None
) -> SyncEngine:
    from cobro_tui.store.sync_store import read_meta
    from cobro_tui.sync.client import ApiClient
    from cobro_tui.sync.engine import SyncEngine

    meta = read_meta(engine)
    if meta is None or meta.server_url is None:
        raise NoCache(t("cli.not_signed_in"))
    return SyncEngine(engine, ApiClient(meta.server_url, token, meta.device_id, timeout, security=security), clock)


def signed_in_api(settings: Settings, roles: tuple[str, ...], refusal: str) -> tuple[Any, Any]:
    """The API client of the user signed in on this machine, when their role is one of `roles`
    (else the message `refusal`), and the cache's sync record; the caller closes the client."""
    from cobro_tui.store.sync_store import read_meta
    from cobro_tui.sync.client import ApiClient

    store, engine = open_user_cache(settings)
    try:
        meta = read_meta(engine)
    finally:
        engine.dispose()
    if meta is None or meta.server_url is None:
        raise NoCache(t("cli.no_cache", path=cache_path(settings)))
    if meta.role not in roles:
        raise UserFacingError(t(refusal, user=meta.agent_id))
    api = ApiClient(
        meta.server_url,
        store.load_token(meta.server_url, meta.agent_id),
        timeout=settings.sync.timeout_seconds,
        security=transport_security(settings),
    )
    warn_insecure(api)
    return api, meta


def kpi_report(settings: Settings, since: datetime, until: datetime, team: str | None) -> dict[str, Any]:
    """The server's KPI report for a supervisor signed in on this machine."""
    from cobro_tui.sync.client import SyncError

    api, _ = signed_in_api(settings, ("supervisor", "manager"), "kpi.supervisors_only")
    try:
        return api.kpi(since, until, team)
    except SyncError as exc:
        raise UserFacingError(t("kpi.unreachable", error=exc.message)) from None
    finally:
        api.close()


def server_audit_head(engine: Engine, settings: Settings, store: CredentialStore) -> dict[str, Any]:
    """The audit chain the server keeps for this workstation's device (raises SyncError or a
    UserFacingError when it cannot be asked)."""
    from cobro_tui.store.sync_store import read_meta
    from cobro_tui.sync.client import ApiClient

    meta = read_meta(engine)
    if meta is None or meta.server_url is None:
        raise NoCache(t("cli.not_signed_in"))
    api = ApiClient(
        meta.server_url,
        store.load_token(meta.server_url, meta.agent_id),
        timeout=settings.sync.timeout_seconds,
        security=transport_security(settings),
    )
    warn_insecure(api)
    try:
        return api.audit_device(meta.device_id)
    finally:
        api.close()


def rebuild_cache(settings: Settings, store: CredentialStore) -> Engine | None:
    """A new, empty cache where one tied to a server was moved aside (its record is beside it, and
    the session is still in the store): the next round fills it. None when there is nothing to go on."""
    from cobro_tui.credentials import MissingToken
    from cobro_tui.store.integrity import device_record, note_device
    from cobro_tui.store.sync_store import set_server

    path = cache_path(settings)
    record = device_record(path)
    if path.exists() or record is None or not record.get("server_url") or not record.get("agent"):
        return None
    try:
        store.load_token(record["server_url"], record["agent"])
    except MissingToken:
        return None
    engine = open_cache(path, store, create=True)
    device = ensure_device(engine, record["agent"])
    set_server(engine, record["server_url"], str(record.get("role") or "agent"))
    note_device(path, device.device_id, device.agent_id, record["server_url"], str(record.get("role") or "agent"))
    return engine


def sync_once(settings: Settings) -> SyncReport:
    """One headless round against the configured server with the token in the credential store;
    the cache is checked first (a damaged one has its unsent items saved and says what to do), and
    a cache moved aside is rebuilt."""
    from cobro_tui.store.sync_store import read_meta

    store = secret_store(settings)
    engine = rebuild_cache(settings, store) or open_cache(cache_path(settings), store, create=False)
    try:
        check_cache(engine)
        meta = read_meta(engine)
        if meta is None or meta.server_url is None:
            raise NoCache(t("cli.no_cache", path=cache_path(settings)))
        token = store.load_token(meta.server_url, meta.agent_id)
        sync = sync_engine_for(
            engine, clock_for(settings.now), token, settings.sync.timeout_seconds, transport_security(settings)
        )
        warn_insecure(sync.api)
        try:
            return sync.run_round()
        finally:
            sync.api.close()
    finally:
        engine.dispose()


def build_workstation(
    engine: Engine, settings: Settings, clock: Clock, policy: Policy, agent: str, mode: str, role: str = "agent"
) -> Workstation:
    device = ensure_device(engine, agent)
    zone = ZoneInfo(settings.ui.agent_zone)
    rules = RulesService(engine, clock, policy, device)
    accounts = AccountService(engine, clock, policy, device, zone, rules)
    queue = QueueService(engine, agent, clock, policy, zone, settings.ui.page_size, rules)
    return Workstation(
        agent=agent,
        clock=clock,
        policy=policy,
        queue=queue,
        accounts=accounts,
        contacts=ContactService(
            engine, clock, policy, device, rescore=queue.rescore, rules=rules, may_override=role == "supervisor"
        ),
        promises=PromiseService(engine, clock, policy, device, accounts, rescore=queue.rescore),
        plans=PlanService(engine, clock, policy, device, accounts, rescore=queue.rescore),
        status=StatusService(engine, clock, mode),
        rules=rules,
        restrictions=RestrictionService(engine, clock, policy, device, rescore=queue.rescore),
    )


def build_app(
    settings: Settings, clock: Clock, workstation: Workstation, session: SessionGuard | None = None
) -> CobroApp:
    """The Textual app on the given services (tests call this with their own parts)."""
    set_language(settings.lang)
    from cobro_tui.ui.app import CobroApp

    return CobroApp(settings=settings, workstation=workstation, session=session)


def _print_progress(done: int, total: int) -> None:
    # One line that rewrites itself; only when a person watches a terminal.
    if sys.stdout.isatty():
        print(f"\r  {done:,} / {total:,}", end="" if done < total else "\n", flush=True)


def run_demo(
    settings: Settings, accounts: int, seed: int, say: Callable[[str], None] = print, user: str | None = None
) -> int:
    """Start the reference server on loopback with a generated portfolio, sign in a demo agent,
    sync a private cache from it and open the workstation; quitting stops the server. A supervisor
    or manager (`user`) gets the supervisor's screens on the same server instead.

    The cache key lives only in this process (no desktop keyring needed); everything is removed on exit.
    """
    from cobro_tui.server.run import ServerThread, prepare
    from cobro_tui.server.seed import DEMO_PASSWORD
    from cobro_tui.store.sync_store import set_server
    from cobro_tui.sync.client import ApiClient, SyncError
    from cobro_tui.sync.engine import SyncEngine

    set_language(settings.lang)
    clock = clock_for(settings.now)
    policy = load_policy()
    agent = user or settings.demo.agent
    with tempfile.TemporaryDirectory(prefix="cobro-demo-") as folder:
        say(t("cli.demo_generating", accounts=accounts, seed=seed))
        started = time.perf_counter()
        server_db = prepare(f"sqlite:///{Path(folder) / 'server.db'}", clock, accounts, seed, progress=_print_progress)
        with ServerThread(server_db, clock) as server:
            try:
                signed = ApiClient(server.url).login(agent, DEMO_PASSWORD)
            except SyncError as exc:
                raise UserFacingError(t("cli.demo_user_unknown", user=agent, error=exc.message)) from None
            token = signed["token"]
            if signed["role"] != "agent":
                say(
                    t(
                        "cli.demo_supervisor_ready",
                        seconds=time.perf_counter() - started,
                        accounts=accounts,
                        user=agent,
                        url=server.url,
                    )
                )
                build_supervisor_app(settings, server.url, agent, token).run()  # the server checks the password
                server_db.dispose()
                return 0
            engine = open_cache(Path(folder) / CACHE_NAME, MemoryKeyStore(), create=True)
            try:
                device = ensure_device(engine, agent)
                set_server(engine, server.url)
                sync = SyncEngine(
                    engine, ApiClient(server.url, token, device.device_id, settings.sync.timeout_seconds), clock
                )
                guard = session_guard(settings, server.url, agent, None)  # the demo's lock asks the demo server
                guard.on_token.append(sync.api.use_token)
                workstation = build_workstation(engine, settings, clock, policy, agent, "live")
                workstation = workstation.syncing(sync, settings.sync.interval_seconds)
                first = workstation.sync_round()  # the portfolio, scored for the queue
                say(
                    t(
                        "cli.demo_ready",
                        seconds=time.perf_counter() - started,
                        accounts=accounts,
                        agent=agent,
                        received=first.snapshot_entities,
                        url=server.url,
                    )
                )
                build_app(settings, clock, workstation, guard).run()
            finally:
                engine.dispose()
        server_db.dispose()
    return 0


def session_guard(settings: Settings, server_url: str, user: str, store: CredentialStore | None) -> SessionGuard:
    """The idle lock's and the new sign-in's checks for `user` on this workstation. Without a store
    (the demo) the password is checked by the server; the apps add where a new token goes."""
    from cobro_tui.services.session import SessionGuard, WrongPassword
    from cobro_tui.sync.client import ApiClient, AuthFailed, SyncError

    def sign_in(password: str) -> str:
        api = ApiClient(server_url, timeout=settings.sync.timeout_seconds, security=transport_security(settings))
        try:
            return str(api.login(user, password)["token"])
        except AuthFailed:
            raise WrongPassword(t("lock.wrong_server")) from None
        except SyncError as exc:
            raise UserFacingError(exc.message) from None
        finally:
            api.close()

    def end() -> None:
        if store is not None:
            with contextlib.suppress(UserFacingError):
                _revoke(server_url, store.load_token(server_url, user), settings)

    if store is None:
        return SessionGuard(
            user,
            settings.ui.idle_lock_minutes,
            verify=lambda _password: None,
            sign_in=sign_in,
            keep=lambda _token, _password: None,
            forget=lambda: None,
        )
    return SessionGuard(
        user,
        settings.ui.idle_lock_minutes,
        verify=lambda password: store.verify_password(user, password),
        sign_in=sign_in,
        keep=lambda token, password: store.save_session(server_url, user, token, password),
        forget=lambda: store.forget_session(server_url, user),
        end=end,
    )


def build_supervisor_app(
    settings: Settings,
    server_url: str,
    user: str,
    token: str,
    store: CredentialStore | None = None,
) -> SupervisorApp:
    """A supervisor's app: the approvals inbox on the server (tests call this with their own server)."""
    from cobro_tui.services.approvals import SupervisorService
    from cobro_tui.sync.client import ApiClient
    from cobro_tui.ui.supervisor_app import SupervisorApp

    set_language(settings.lang)
    api = ApiClient(server_url, token, timeout=settings.sync.timeout_seconds, security=transport_security(settings))
    guard = session_guard(settings, server_url, user, store)
    guard.on_token.append(api.use_token)
    return SupervisorApp(settings, SupervisorService(api, user, clock_for(settings.now)), guard)


def run_workstation(settings: Settings) -> int:
    """The workstation on this user's cache, syncing with the server it signed in to."""
    from cobro_tui.files import remove_expired
    from cobro_tui.store.sync_store import read_meta

    clock = clock_for(settings.now)
    policy = load_policy()
    set_language(settings.lang)
    remove_expired(settings.resolved_data_dir(), settings.files.keep_days, clock.now())
    store, engine = open_user_cache(settings)
    try:
        from cobro_tui.store.engine import guard_of

        watch = guard_of(engine)
        if watch is not None:  # the queue shows at once; the first write waits for the check
            watch.check_in_background(engine)
        meta = read_meta(engine)
        if meta is None:
            raise NoCache(t("cli.no_cache", path=cache_path(settings)))
        if meta.role in ("supervisor", "manager") and meta.server_url:
            token = store.load_token(meta.server_url, meta.agent_id)
            build_supervisor_app(settings, meta.server_url, meta.agent_id, token, store).run()
            return 0
        workstation = build_workstation(engine, settings, clock, policy, meta.agent_id, "live")
        guard = None
        if meta.server_url:
            token = store.load_token(meta.server_url, meta.agent_id)  # no session: sign in first, before any data shows
            guard = session_guard(settings, meta.server_url, meta.agent_id, store)
            if settings.sync.enabled:
                sync = sync_engine_for(
                    engine, clock, token, settings.sync.timeout_seconds, transport_security(settings)
                )
                guard.on_token.append(sync.api.use_token)
                workstation = workstation.syncing(sync, settings.sync.interval_seconds)
        build_app(settings, clock, workstation, guard).run()
    finally:
        engine.dispose()
    return 0
