"""The PCR call guide: scripts from config, chosen by bucket and risk segment, with the steps of
the call (identification and disclosures at first contact, then Problem, Circumstance, Resolution)."""

from __future__ import annotations

from dataclasses import dataclass

PHASES = ("identificacion", "aviso", "problema", "circunstancia", "resolucion")


@dataclass(frozen=True, slots=True)
class ScriptStep:
    id: str
    phase: str
    text_es: str
    text_en: str
    first_contact_only: bool = False

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" else self.text_es


@dataclass(frozen=True, slots=True)
class Script:
    name: str
    buckets: tuple[str, ...]
    segments: tuple[str, ...]  # empty: every segment
    steps: tuple[ScriptStep, ...]

    def applies(self, bucket: str, segment: str) -> bool:
        return bucket in self.buckets and (not self.segments or segment in self.segments)

    def steps_for(self, first_contact: bool) -> tuple[ScriptStep, ...]:
        return tuple(s for s in self.steps if first_contact or not s.first_contact_only)


def choose_script(scripts: tuple[Script, ...], bucket: str, segment: str) -> Script | None:
    """The script for an account: among those that apply, the one naming its segment wins."""
    fitting = [s for s in scripts if s.applies(bucket, segment)]
    fitting.sort(key=lambda s: (not s.segments, s.name))
    return fitting[0] if fitting else None
