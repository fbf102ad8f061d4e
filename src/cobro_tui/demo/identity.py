"""CURP, RFC and card numbers shaped like the real ones, built from a person's name and birth date."""

from __future__ import annotations

import unicodedata
from datetime import date
from functools import cache

from stdnum.mx import curp as stdnum_curp
from stdnum.mx import rfc as stdnum_rfc

_VOWELS = "AEIOU"


def _plain(text: str) -> str:
    """Upper-case ASCII letters: accents dropped, Ñ written as X (as RENAPO does)."""
    text = text.upper().replace("Ñ", "X")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if "A" <= ch <= "Z" or ch == " ")


def _first_internal(word: str, wanted: str, default: str = "X") -> str:
    for ch in word[1:]:
        if (ch in _VOWELS) == (wanted == "vowel"):
            return ch
    return default


@cache
def _main_word(name: str) -> str:
    # Compound names use the first word; particles (DE, LA, DEL) are skipped.
    words = [w for w in _plain(name).split() if w not in {"DE", "LA", "DEL", "LOS", "LAS", "Y", "MC", "MAC"}]
    return words[0] if words else "X"


def curp(first_name: str, paternal: str, maternal: str, birth: date, female: bool, state_code: str, homoclave: int) -> str:
    """An 18-character CURP with a valid check digit."""
    p, m, n = _main_word(paternal), _main_word(maternal), _main_word(first_name)
    head = p[0] + _first_internal(p, "vowel") + m[0] + n[0]
    body = (
        head
        + birth.strftime("%y%m%d")
        + ("M" if female else "H")
        + state_code
        + _first_internal(p, "consonant")
        + _first_internal(m, "consonant")
        + _first_internal(n, "consonant")
    )
    # Position 17 is a digit for people born before 2000 and a letter after.
    body += str(homoclave % 10) if birth.year < 2000 else "ABCDEFGHIJ"[homoclave % 10]
    return body + stdnum_curp.calc_check_digit(body)


def rfc(first_name: str, paternal: str, maternal: str, birth: date, homoclave: int) -> str:
    """A 13-character RFC of a natural person with a valid check digit."""
    p, m, n = _main_word(paternal), _main_word(maternal), _main_word(first_name)
    alphabet = "123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
    body = p[0] + _first_internal(p, "vowel") + m[0] + n[0] + birth.strftime("%y%m%d")
    body += alphabet[homoclave % len(alphabet)] + alphabet[(homoclave // 34) % len(alphabet)]
    return body + stdnum_rfc.calc_check_digit(body)


def luhn_complete(partial: str) -> str:
    """`partial` followed by the Luhn check digit that makes it a valid card number."""
    total = 0
    for index, ch in enumerate(reversed(partial)):
        digit = int(ch)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return partial + str((10 - total % 10) % 10)
