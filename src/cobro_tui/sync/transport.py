"""How the workstation may reach its server: https, or plain http to this machine only (loopback)
unless a setting allows more, with a private CA for https when the institution uses one. The check
runs before any connection is made, so a token never leaves over plain http by mistake."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import t

SETTING = "[sync] allow_insecure_http"  # named in the messages: what an administrator changes


class InsecureServer(UserFacingError):
    """Plain http to a server that is not this machine, and no setting allows it."""


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class TransportSecurity:
    """The client's transport settings (see [sync] in config/settings.toml)."""

    allow_insecure_http: bool = False
    ca_file: Path | None = None

    def check(self, url: str) -> str | None:
        """Refuse (InsecureServer) a URL the settings do not allow; a warning for the person when
        plain http to another machine is allowed by the setting; None when all is well."""
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        if scheme not in ("http", "https") or not host:
            raise UserFacingError(t("transport.bad_url", url=url))
        if scheme == "https" or is_loopback(host):
            return None
        if not self.allow_insecure_http:
            raise InsecureServer(t("transport.http_refused", url=url, setting=SETTING))
        return t("transport.http_allowed", url=url, setting=SETTING)

    def verify(self) -> ssl.SSLContext | bool:
        """What httpx verifies the server's certificate with: the system's CAs, or the private CA
        in `ca_file` (a clear message when it cannot be read)."""
        if self.ca_file is None:
            return True
        try:
            return ssl.create_default_context(cafile=str(self.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise UserFacingError(t("transport.ca_unreadable", path=self.ca_file, error=exc)) from None
