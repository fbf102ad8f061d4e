"""CURP, RFC and card numbers shaped like the real ones, built from a person's name and birth date."""

from __future__ import annotations

import unicodedata
from datetime import date
from functools import cache

from stdnum.mx import curp as stdnum_curp
from stdnum.mx import rfc as stdnum_rfc

_VOWELS = "AEIOU"
# Words RENAPO and the SAT never issue as the first four letters; the second letter becomes X.
_INCONVENIENT = frozenset(
    [
        "BACA",
        "BAKA",
        "BUEI",
        "BUEY",
        "CACA",
        "CACO",
        "CAGA",
        "CAGO",
        "CAKA",
        "CAKO",
        "COGE",
        "COGI",
        "COJA",
        "COJE",
        "COJI",
        "COJO",
        "COLA",
        "CULO",
        "FALO",
        "FETO",
        "GETA",
        "GUEI",
        "GUEY",
        "JETA",
        "JOTO",
        "KACA",
        "KACO",
        "KAGA",
        "KAGO",
        "KAKA",
        "KAKO",
        "KOGE",
        "KOGI",
        "KOJA",
        "KOJE",
        "KOJI",
        "KOJO",
        "KOLA",
        "KULO",
        "LILO",
        "LOCA",
        "LOCO",
        "LOKA",
        "LOKO",
        "MAME",
        "MAMO",
        "MEAR",
        "MEAS",
        "MEON",
        "MIAR",
        "MION",
        "MOCO",
        "MOKO",
        "MULA",
        "MULO",
        "NACA",
        "NACO",
        "PEDA",
        "PEDO",
        "PENE",
        "PIPI",
        "PITO",
        "POPO",
        "PUTA",
        "PUTO",
        "QULO",
        "RATA",
        "ROBA",
        "ROBE",
        "ROBO",
        "RUIN",
        "SENO",
        "TETA",
        "VACA",
        "VAGA",
        "VAGO",
        "VAKA",
        "VUEI",
        "VUEY",
        "WUEI",
        "WUEY",
    ]
)
# Homoclave characters the SAT uses in first and second position.
_HOMOCLAVE_FIRST = "123456789ABCDEFGHIJKLMNPQRSTUV"
_HOMOCLAVE_SECOND = "123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"


def _initials(paternal: str, maternal: str, first: str) -> str:
    head = paternal[0] + _first_internal(paternal, "vowel") + maternal[0] + first[0]
    return head[0] + "X" + head[2:] if head in _INCONVENIENT else head


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


def curp(
    first_name: str, paternal: str, maternal: str, birth: date, female: bool, state_code: str, homoclave: int
) -> str:
    """An 18-character CURP with a valid check digit."""
    p, m, n = _main_word(paternal), _main_word(maternal), _main_word(first_name)
    body = (
        _initials(p, m, n)
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
    body = _initials(p, m, n) + birth.strftime("%y%m%d")
    body += _HOMOCLAVE_FIRST[homoclave % len(_HOMOCLAVE_FIRST)]
    body += _HOMOCLAVE_SECOND[(homoclave // len(_HOMOCLAVE_FIRST)) % len(_HOMOCLAVE_SECOND)]
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
