"""The catalogue of contact result codes (códigos de resultado) and what each counts as."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResultCode:
    """One result code; the flags decide how it counts in caps and KPIs."""

    code: str
    label_es: str
    label_en: str
    worked: bool
    right_party_contact: bool
    attempt: bool
    channels: tuple[str, ...] = ()
    promise: bool = False  # records a promise or an agreement taken (the promise rate per channel)

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_es


@dataclass(frozen=True, slots=True)
class ResultCodeCatalog:
    codes: tuple[ResultCode, ...]

    def get(self, code: str) -> ResultCode:
        for item in self.codes:
            if item.code == code:
                return item
        known = ", ".join(c.code for c in self.codes)
        raise KeyError(f"unknown result code {code!r}; known codes: {known}")

    def __contains__(self, code: object) -> bool:
        return any(item.code == code for item in self.codes)

    def for_channel(self, channel: str) -> tuple[ResultCode, ...]:
        return tuple(c for c in self.codes if not c.channels or channel in c.channels)


@dataclass(frozen=True, slots=True)
class PcrProblem:
    """A reason for non-payment: the P of PCR, from the catalogue in config."""

    code: str
    label_es: str
    label_en: str

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_es
