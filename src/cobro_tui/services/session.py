"""The person's session as the screens see it: the idle lock, a new sign-in when the server
refuses the token, and signing out after too many wrong passwords.

The screens never touch the credential store or the server: they hand a password to this guard
and show what it answers. Work recorded meanwhile stays in the outbox whatever happens here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

from cobro_tui.errors import UserFacingError
from cobro_tui.i18n import t

MAX_TRIES = 5


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    message: str = ""
    signed_out: bool = False


class WrongPassword(UserFacingError):
    """The server (or the vault) says the password is not this user's."""


@dataclass
class SessionGuard:
    user: str
    idle_minutes: int
    # The password checked on this machine (the vault opens, or the keyring's hash matches);
    # None when nothing here can tell, and the server is asked.
    verify: Callable[[str], bool | None]
    # A new token from the server for this password; WrongPassword or another UserFacingError.
    sign_in: Callable[[str], str] | None
    # Keep a new token (and the password's check) in the credential store.
    keep: Callable[[str, str], None]
    # Remove the token from this machine (and end it on the server when it can be told).
    forget: Callable[[], None]
    # End the session on the server, when it can be told (after too many wrong passwords).
    end: Callable[[], None] = lambda: None
    on_token: list[Callable[[str], None]] = field(default_factory=list)
    tries: int = 0
    _one_at_a_time: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def unlock(self, password: str) -> Attempt:
        """The idle lock: the password opens it, offline too; five wrong ones sign the user out."""
        with self._one_at_a_time:
            if not password:
                return Attempt(False, t("lock.empty"))
            checked = self.verify(password)
            if checked is None:
                return self._sign_in(password)
            if not checked:
                return self._wrong()
            self.tries = 0
            return Attempt(True)

    def sign_in_again(self, password: str) -> Attempt:
        """After the server refused the token: a new one for this password (the server must answer)."""
        with self._one_at_a_time:
            if not password:
                return Attempt(False, t("lock.empty"))
            return self._sign_in(password)

    def expired(self) -> None:
        """The server refused the token: it is of no use any more, and is not kept."""
        with suppress(UserFacingError):  # the store refused; the token is dead on the server anyway
            self.forget()

    def _sign_in(self, password: str) -> Attempt:
        if self.sign_in is None:
            return Attempt(False, t("lock.no_server"))
        try:
            token = self.sign_in(password)
        except WrongPassword:
            return self._wrong()
        except UserFacingError as exc:
            return Attempt(False, t("lock.sign_in_failed", error=exc.message))
        try:
            self.keep(token, password)
        except UserFacingError as exc:
            return Attempt(False, t("lock.sign_in_failed", error=exc.message))
        for listener in self.on_token:
            listener(token)
        self.tries = 0
        return Attempt(True)

    def _wrong(self) -> Attempt:
        self.tries += 1
        if self.tries >= MAX_TRIES:
            self.end()
            self.expired()
            return Attempt(False, t("lock.signed_out", tries=MAX_TRIES), signed_out=True)
        return Attempt(False, t("lock.wrong", left=MAX_TRIES - self.tries))
