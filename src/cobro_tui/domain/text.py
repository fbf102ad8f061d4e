"""The one sanitizer for text that reaches a terminal: from the server, the cache, a file.

A customer's name, an address, a note or a result text could carry escape sequences (clear the
screen, change colours, retitle the window) or bidirectional overrides that reorder what an agent
reads. They are removed where text enters (the server's answers, snapshot pages, policy files), and
whatever still reaches a widget or the CLI's output is shown with visible symbols (`shown`), never
sent to the terminal as a control.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional marks, overrides and isolates.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The same characters as JSON writes them escaped (\u001b), in a page not yet decoded.
_ESCAPED = re.compile(r"\\u(?:00[01][0-9a-fA-F]|00[7-9][0-9a-fA-F]|200[eEfF]|202[a-eA-E]|206[6-9])")


def without_controls(text: str) -> str:
    """The text with control characters removed (a carriage return ends a line, as a newline)."""
    if not CONTROLS.search(text):
        return text
    return CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


MAX_DEPTH = 32
"""How deeply a JSON value from outside may nest (commands, snapshots, answers): far more than any
record needs, far less than what exhausts a parser's or serializer's recursion."""


class TooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"the value nests deeper than {MAX_DEPTH} levels")


def depth(value: Any) -> int:
    """How many levels of objects and arrays a JSON value nests (a scalar: 0); counted without
    recursion, so any value can be measured."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def shallow(value: Any) -> Any:
    """The value itself, if it nests at most MAX_DEPTH levels (TooDeep otherwise)."""
    if depth(value) > MAX_DEPTH:
        raise TooDeep()
    return value


def cleaned(value: Any, _level: int = 0) -> Any:
    """A JSON value with control characters removed from every string in it (TooDeep past MAX_DEPTH)."""
    if isinstance(value, str):
        return without_controls(value)
    if _level >= MAX_DEPTH and isinstance(value, dict | list):
        raise TooDeep()
    if isinstance(value, dict):
        return {without_controls(k) if isinstance(k, str) else k: cleaned(v, _level + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [cleaned(v, _level + 1) for v in value]
    return value


def json_holds_controls(text: str) -> bool:
    """Whether a JSON document, not yet decoded, may hold a control character in a string (escaped
    or raw): the usual answer, no, costs one scan instead of walking every decoded string."""
    return bool(_ESCAPED.search(text) or CONTROLS.search(text))


def cleaned_json_text(text: str) -> str:
    """A JSON document (a snapshot page) with control characters removed from its strings; the text
    itself when none holds any (the usual case, checked without decoding it)."""
    if not json_holds_controls(text):
        return text
    try:
        return json.dumps(cleaned(json.loads(text)), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return text  # cut or garbled: the cache's parser says so


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␇ for BEL...
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls and direction overrides: the replacement character


def shown(text: str) -> str:
    """The text as it may be written to a terminal: controls as visible symbols, nothing that acts."""
    if not CONTROLS.search(text):
        return text
    return CONTROLS.sub(_picture, text)


def shown_line(text: str) -> str:
    """`shown`, on one line: newlines and tabs become spaces (table cells, headings)."""
    return shown(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
