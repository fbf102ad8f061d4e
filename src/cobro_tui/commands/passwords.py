"""A password a person chooses: the next line of standard input for scripts, or asked twice at a
terminal. One reader for `admin init` (the first manager's) and `login` (after a one-time one)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass

from cobro_tui.i18n import t


@dataclass(frozen=True)
class Words:
    """The message ids of the prompts and refusals (each takes `user`)."""

    prompt: str
    again: str
    differ: str
    missing: str


def choose_password(user: str, from_stdin: bool, words: Words, refuse: Callable[[str], Exception]) -> str:
    """The chosen password; `refuse(message)` is raised when none was given or the two differ."""
    try:
        if from_stdin:
            chosen = sys.stdin.readline().rstrip("\r\n")
        else:
            chosen = getpass.getpass(t(words.prompt, user=user))
            if chosen and getpass.getpass(t(words.again, user=user)) != chosen:
                raise refuse(t(words.differ, user=user))
    except EOFError:
        chosen = ""
    if not chosen:
        raise refuse(t(words.missing, user=user))
    return chosen
