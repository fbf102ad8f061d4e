"""The HTTP client of /v1 with typed errors; it never retries on its own (the engine decides)."""

from __future__ import annotations

import json
import ssl
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from cobro_tui import __version__
from cobro_tui.api.models import CLIENT_SCHEMA, PROTOCOL
from cobro_tui.domain.text import cleaned, cleaned_json_text, json_holds_controls, without_controls
from cobro_tui.i18n import t
from cobro_tui.sync.transport import TransportSecurity


class SyncError(Exception):
    """Any failure to talk to the server; `message` is for the person, `reason` (one word, for the
    status bar: services/status.SYNC_REASONS) says which kind of failure it is."""

    reason = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(SyncError):
    """No answer (refused, reset, timed out, cut): the outcome of a push is unknown."""

    reason = "unreachable"


class Untrusted(Unreachable):
    """The server's certificate is not one this workstation trusts: nothing was sent."""

    reason = "certificate"


class RetryLater(SyncError):
    reason = "busy"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthFailed(SyncError):
    """The token was refused: sign in again."""

    reason = "session"


class ResetRequired(SyncError):
    """The server orders a new snapshot (its history moved on); the outbox is kept."""

    reason = "reset"


class Refused(SyncError):
    """The server understood and refused the request, with a code."""

    reason = "refused"

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.details = status, code, details


class VersionRefused(Refused):
    """The server does not take this version of the workstation (426): it must be updated."""

    reason = "version"


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "5")))
    except ValueError:
        return 5.0


def _certificate_refused(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check that failed under an httpx error, if that is what it was."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _part(text: str) -> str:
    """A name typed by a person as one path segment: never a '/' or '..' that would reach another route."""
    quoted = quote(text, safe="")
    return quoted.replace(".", "%2E") if not quoted.strip(".") else quoted


class ApiClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        device_id: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        security: TransportSecurity | None = None,
    ) -> None:
        security = security or TransportSecurity()
        # Before any connection: plain http off this machine is refused unless the settings allow it.
        self.insecure_warning = security.check(base_url)
        headers = {
            "Sync-Protocol": PROTOCOL,
            "Client-Schema": str(CLIENT_SCHEMA),
            "User-Agent": f"cobro-tui/{__version__}",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if device_id:
            headers["Device-Id"] = device_id
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
            verify=security.verify(),
        )

    def close(self) -> None:
        self.http.close()

    def use_token(self, token: str) -> None:
        """Go on with a new session token (after the person signed in again)."""
        self.http.headers["Authorization"] = f"Bearer {token}"

    def _call(
        self,
        method: str,
        path: str,
        read_timeout: float | None = None,
        raw: bool = False,
        expect: int = 200,
        seen: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        if read_timeout is not None:
            kwargs["timeout"] = httpx.Timeout(read_timeout, connect=3.0)
        try:
            # Streamed so that the body is ours alone: httpx keeps a response in a reference cycle,
            # which would hold a large body until the cyclic collector happened to run.
            with self.http.stream(method, path, **kwargs) as response:
                body = b"".join(response.iter_bytes())
                if seen is not None:  # the answer's headers, for a caller that asks for them
                    seen.update({name.lower(): value for name, value in response.headers.items()})
        except httpx.TransportError as exc:
            refused = _certificate_refused(exc)
            if refused is not None:
                raise Untrusted(
                    t("transport.tls_untrusted", url=self.http.base_url, error=refused.verify_message or refused.reason)
                ) from None
            raise Unreachable(f"the server at {self.http.base_url} did not answer ({type(exc).__name__})") from None
        status = response.status_code
        if status == 204:
            return None
        if status == expect:
            try:
                # Everything the server says is cleaned of terminal controls before anyone reads it.
                text = body.decode()
                if raw:
                    return text
                data = json.loads(text)
                return cleaned(data) if json_holds_controls(text) else data
            except (ValueError, RecursionError):  # RecursionError: nested past what can be read
                raise Unreachable("the server's answer was cut or garbled") from None
        if status in (429, 503):
            raise RetryLater("the server is busy", _retry_after(response))
        if status >= 500:
            raise Unreachable(f"the server failed ({status}); the outcome is unknown")
        try:
            problem = cleaned(json.loads(body))
            code, message, details = (
                str(problem.get("code", "ERROR"))[:64],
                str(problem.get("message", ""))[:500],
                problem.get("details", {}),
            )
        except (ValueError, AttributeError, RecursionError):
            # Not a Problem (a proxy's page): a short, clean excerpt, never its terminal controls.
            code, message, details = "ERROR", without_controls(body[:200].decode(errors="replace")), {}
        if status == 401:
            raise AuthFailed(f"{message or 'the session is not valid'}; run cobro-tui login again")
        if status == 410:
            raise ResetRequired(message)
        if status == 426:
            raise VersionRefused(status, code, message, details)
        raise Refused(status, code, message, details)

    def health(self) -> tuple[dict[str, Any], str | None]:
        """The server's status and version (no session needed), and its Date header: its clock."""
        headers: dict[str, str] = {}
        body = self._call("GET", "/v1/health", seen=headers)
        return (body if isinstance(body, dict) else {}), headers.get("date")

    def login(self, username: str, password: str) -> dict[str, Any]:
        return self._call("POST", "/v1/auth/login", json={"username": username, "password": password})

    def register(
        self, device_id: str, device_epoch: int, schema_version: int, resume_after_seq: int = 0
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "/v1/devices/register",
            json={
                "device_id": device_id,
                "device_epoch": device_epoch,
                "app_version": __version__,
                "schema_version": schema_version,
                "resume_after_seq": resume_after_seq,
            },
        )

    def push(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/mutations", json=body)

    def import_portfolio(self, body: dict[str, Any], read_timeout: float = 120.0) -> dict[str, Any]:
        """A batch of the portfolio import (PUT /v1/portfolio, docs/import.md): a verdict per row."""
        return self._call("PUT", "/v1/portfolio", read_timeout=read_timeout, json=body)

    def audit_events(self, device_id: str, events: list[dict[str, Any]], head: dict[str, Any]) -> dict[str, Any]:
        """Audit events for the server to keep (it refuses a chain that does not extend its own)."""
        return self._call("POST", "/v1/audit/events", json={"device_id": device_id, "events": events, "head": head})

    def audit_device(self, device_id: str) -> dict[str, Any]:
        """The chain the server keeps for this device, and its verification."""
        return self._call("GET", f"/v1/audit/devices/{device_id}")

    def payment(self, body: dict[str, Any]) -> dict[str, Any]:
        """One payment from the institution's feed (POST /v1/payments): whether it was new, and the
        promises it changed."""
        return self._call("POST", "/v1/payments", json=body)

    def logout(self) -> None:
        """End this session on the server (204; a token already invalid answers 401)."""
        self._call("POST", "/v1/auth/logout", raw=True)

    def admin_users(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/admin/users")

    def admin_user(self, username: str, action: str) -> dict[str, Any]:
        """disable, enable, unlock or reset-password a user (a manager's session); reset-password
        answers the user and their one-time password."""
        return self._call("POST", f"/v1/admin/users/{_part(username)}/{action}")

    def admin_user_add(self, username: str, role: str, team: str) -> dict[str, Any]:
        """A new user: the user and their one-time password."""
        return self._call(
            "POST", "/v1/admin/users", json={"username": username, "role": role, "team": team}, expect=201
        )

    def admin_set_role(self, username: str, role: str) -> dict[str, Any]:
        return self._call("PUT", f"/v1/admin/users/{_part(username)}/role", json={"role": role})

    def admin_set_team(self, username: str, team: str) -> dict[str, Any]:
        return self._call("PUT", f"/v1/admin/users/{_part(username)}/team", json={"team": team})

    def admin_teams(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/admin/teams")

    def admin_team_add(self, name: str) -> dict[str, Any]:
        return self._call("POST", "/v1/admin/teams", json={"name": name}, expect=201)

    def admin_team_rename(self, old: str, new: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/admin/teams/{_part(old)}/rename", json={"name": new})

    def change_password(self, username: str, password: str, new_password: str) -> dict[str, Any]:
        """A new password for the one given (a one-time one included): the answer is a new session."""
        return self._call(
            "POST",
            "/v1/auth/password",
            json={"username": username, "password": password, "new_password": new_password},
        )

    def admin_integration_add(self, name: str, scopes: list[str]) -> dict[str, Any]:
        return self._call("POST", "/v1/admin/integrations", json={"name": name, "scopes": scopes}, expect=201)

    def admin_integrations(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/admin/integrations")

    def admin_integration_revoke(self, key_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/v1/admin/integrations/{_part(key_id)}")

    def export_events(
        self, cursor: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> dict[str, Any]:
        """One page of the change export (an integration credential with the export scope)."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        elif since is not None:
            params["since"] = since.isoformat()
        return self._call("GET", "/v1/export/events", params=params)

    def kpi(self, since: datetime, until: datetime, team: str | None = None) -> dict[str, Any]:
        params = {"since": since.isoformat(), "until": until.isoformat(), **({"team": team} if team else {})}
        return self._call("GET", "/v1/kpi", params=params)

    def team(self, team: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/v1/team", params={"team": team} if team else {})

    def reassign_many(self, agent: str, accounts: list[tuple[str, int]]) -> dict[str, Any]:
        """Up to 1,000 accounts (id, version read) to one agent, in one request."""
        return self._call(
            "POST",
            "/v1/assignments",
            json={"agent": agent, "accounts": [{"account_id": a, "version": v} for a, v in accounts]},
        )

    def teams(self) -> list[str]:
        return self._call("GET", "/v1/teams")

    def agent_accounts(self, agent: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/team/agents/{agent}/accounts")

    def workstations(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/workstations")

    def compliance_exceptions(self, status: str = "open") -> list[dict[str, Any]]:
        return self._call("GET", "/v1/compliance-exceptions", params={"status": status})

    def review_exception(self, exception_id: int, note: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/compliance-exceptions/{exception_id}", json={"note": note})

    def portfolio(self, since: datetime, until: datetime, team: str | None = None) -> dict[str, Any]:
        params = {"since": since.isoformat(), "until": until.isoformat(), **({"team": team} if team else {})}
        return self._call("GET", "/v1/kpi/portfolio", params=params)

    def approvals(self, status: str = "pending") -> list[dict[str, Any]]:
        return self._call("GET", "/v1/approvals", params={"status": status})

    def decide(self, mutation_id: str, approve: bool, reason: str) -> dict[str, Any]:
        return self._call(
            "POST",
            f"/v1/approvals/{mutation_id}",
            json={"decision": "approve" if approve else "deny", "reason": reason},
        )

    def verdict(self, mutation_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/mutations/{mutation_id}")

    def verdicts(self, mutation_ids: list[str]) -> list[dict[str, Any]]:
        """The current verdicts of up to 500 mutations of this agent's, in one request."""
        return self._call("POST", "/v1/mutations/verdicts", json={"mutation_ids": mutation_ids})

    def changes(
        self, cursor: str | None, limit: int = 500, wait: float = 0, pending: tuple[int, str | None] | None = None
    ) -> dict[str, Any]:
        """A page of changes; `pending` (items waiting here, the oldest's instant) goes along for the
        supervisors' view of each workstation's sync health."""
        params: dict[str, Any] = {"limit": limit, "wait": wait}
        if cursor:
            params["cursor"] = cursor
        headers = {}
        if pending is not None:
            headers["Pending-Items"] = str(pending[0])
            if pending[1]:
                headers["Oldest-Pending"] = pending[1]
        return self._call("GET", "/v1/changes", params=params, read_timeout=wait + 10, headers=headers)

    def snapshot_text(self, page: str | None, limit: int = 5000) -> str:
        """A snapshot page as the server sent it, for the cache to parse (see sync_store)."""
        params: dict[str, Any] = {"limit": limit}
        if page:
            params["page"] = page
        return cleaned_json_text(str(self._call("GET", "/v1/snapshot", params=params, read_timeout=60, raw=True)))
