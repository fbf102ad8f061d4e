"""Errors a user can cause or fix: each carries a message that says what to do."""

from __future__ import annotations


class UserFacingError(Exception):
    """An error shown to the person at the keyboard as it is, without a traceback.

    `exit_code` is what the CLI returns when it stops because of it.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SettingsError(UserFacingError):
    """Settings that cannot be loaded: each problem names the file or variable and the key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class PolicyError(UserFacingError):
    """A policy folder with errors; each problem names the file and the key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class Refusal(UserFacingError):
    """What the rules do not allow, worded in the interface language from a message id."""

    def __init__(self, key: str, **values: object) -> None:
        from cobro_tui.i18n import t  # the catalogs load on first use, not at import

        self.key, self.values = key, values
        super().__init__(t(key, **values))
