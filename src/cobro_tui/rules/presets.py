"""Rule sets from preset data (config/rules/*.toml, already parsed): a jurisdiction preset, its
overlays (a state or city) and the institution's own rules, each only ever adding restrictions.

Pure: dictionaries in, a RuleSet and the list of problems (each naming its file and key) out.
How layers combine, so a layer can never loosen the law:
- `[windows]` of every layer is another window rule: a contact must fit a window of each.
- `[[cap]]` and `[[lock]]` add up: each must hold.
- `handle_minutes` takes the largest per channel; `consent.channels` and `roles.blocked` unite;
  `holidays.block = true` in any layer blocks holidays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from typing import Any

from cobro_tui.rules.engine import (
    Cap,
    Counts,
    Flag,
    Lock,
    Period,
    Result,
    Rule,
    RuleSet,
    Scope,
    Window,
    WindowRule,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS = ("voice", "sms", "whatsapp", "email", "visit", "letter")
HOLD_KINDS = ("cease", "deceased", "dispute", "legal_hold", "wrong_number")
ROLES = ("debtor", "aval", "deudor_solidario", "referencia")
PRESET_KEYS = (
    "name",
    "title",
    "version",
    "country",
    "extends",
    "legal_review_required",
    "handle_minutes",
    "windows",
    "holidays",
    "consent",
    "opt_out",
    "holds",
    "roles",
    "minors",
    "older_adults",
    "supplied_only",
    "callback",
    "cap",
    "lock",
)


@dataclass(frozen=True, slots=True)
class Layer:
    """One parsed file: where it came from (for messages) and its data."""

    where: str
    data: dict[str, Any]


@dataclass
class _Builder:
    problems: list[str] = field(default_factory=list)

    def text(self, where: str, item: dict[str, Any], key: str, required: bool = True) -> str | None:
        value = item.get(key)
        if value is None:
            if required:
                self.problems.append(f"{where}: key {key} is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{where}: key {key} must be non-empty text, not {value!r}")
            return None
        return value

    def number(
        self, where: str, item: dict[str, Any], key: str, low: int, high: int, default: int | None = None
    ) -> int | None:
        value = item.get(key, default)
        if value is None:
            self.problems.append(f"{where}: key {key} is missing")
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.problems.append(f"{where}: key {key} must be a whole number from {low} to {high}, not {value!r}")
            return None
        return value

    def choice(
        self, where: str, item: dict[str, Any], key: str, known: tuple[str, ...], default: str | None = None
    ) -> str | None:
        value = item.get(key, default)
        if value not in known:
            self.problems.append(f"{where}: key {key} must be one of {', '.join(known)}, not {value!r}")
            return None
        return str(value)

    def names(self, where: str, item: dict[str, Any], key: str, known: tuple[str, ...]) -> frozenset[str] | None:
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(f"{where}: key {key} must be a list of text, one of {', '.join(known)}")
            return None
        unknown = [v for v in value if v not in known]
        if unknown:
            self.problems.append(f"{where}: key {key} has {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
            return None
        return frozenset(value)

    def clock(self, where: str, item: dict[str, Any], key: str) -> time | None:
        value = item.get(key)
        if value == "24:00":
            return time(0)
        try:
            hours, minutes = str(value).split(":")
            return time(int(hours), int(minutes))
        except ValueError:
            self.problems.append(f'{where}: key {key} must be a time of day like "07:00", not {value!r}')
            return None

    def rule(self, where: str, item: Any) -> Rule | None:
        if not isinstance(item, dict):
            self.problems.append(f"{where}: must be a table with id and source")
            return None
        rule_id, source = self.text(where, item, "id"), self.text(where, item, "source")
        return Rule(rule_id, source) if rule_id and source else None

    def section(self, layer: Layer, key: str) -> tuple[str, dict[str, Any]] | None:
        value = layer.data.get(key)
        if value is None:
            return None
        where = f"{layer.where}: {key}"
        if not isinstance(value, dict):
            self.problems.append(f"{where}: must be a table")
            return None
        return where, value


def build_rules(
    preset: Layer, overlays: list[Layer], institution: Layer | None, holidays_of: Any = None
) -> tuple[RuleSet | None, list[str]]:
    """The rule set of a preset with its overlays and the institution's additions, or the problems.

    `holidays_of(country)` gives the holiday dates of a country (a calendar library's, outside this
    pure module); called only when some layer blocks holidays.
    """
    b = _Builder()
    layers = [preset, *overlays, *([institution] if institution else [])]
    for layer in layers:
        unknown = sorted(set(layer.data) - set(PRESET_KEYS) - {"preset", "overlays"})
        if unknown:
            b.problems.append(f"{layer.where}: unknown keys {', '.join(unknown)}; known: {', '.join(PRESET_KEYS)}")
    name = b.text(preset.where, preset.data, "name")
    version = b.text(preset.where, preset.data, "version")
    country = b.text(preset.where, preset.data, "country")
    for overlay in overlays:
        parent = overlay.data.get("extends")
        if parent != name:
            b.problems.append(f"{overlay.where}: key extends must name the preset in force ({name!r}), not {parent!r}")
    rules = RuleSet(name=name or "?", version=version or "?", country=country or "?", window_rules=())
    window_rules: list[WindowRule] = []
    caps: list[Cap] = []
    locks: list[Lock] = []
    handle: dict[str, Any] = {}
    for layer in layers:
        window_rules += _windows(b, layer)
        caps += _caps(b, layer)
        locks += _locks(b, layer)
        found = b.section(layer, "handle_minutes")
        if found:
            where, table = found
            for channel in table:
                if channel not in CHANNELS:
                    b.problems.append(f"{where}: {channel!r} is not a channel; known: {', '.join(CHANNELS)}")
                minutes = b.number(where, table, channel, 0, 240)
                if minutes is not None:
                    handle[channel] = max(handle.get(channel, 0), minutes)
        rules = _standing(b, layer, rules, layer is preset)
    if not window_rules:
        b.problems.append(f"{preset.where}: key windows is missing; a preset says when contact is allowed")
    rules = replace(
        rules, window_rules=tuple(window_rules), caps=tuple(caps), locks=tuple(locks), handle_minutes=handle
    )
    if rules.holiday_rule is not None and holidays_of is not None and country:
        rules = replace(rules, holidays=frozenset(holidays_of(country)))
    return (None if b.problems else rules), b.problems


def _windows(b: _Builder, layer: Layer) -> list[WindowRule]:
    found = b.section(layer, "windows")
    if not found:
        return []
    where, table = found
    rule = b.rule(where, table)
    rows = table.get("window")
    if not isinstance(rows, list) or not rows:
        b.problems.append(f"{where}: key window must be a list of [[windows.window]] tables")
        return []
    windows = []
    for index, row in enumerate(rows):
        at = f"{where}.window[{index}]"
        if not isinstance(row, dict):
            b.problems.append(f"{at}: must be a table")
            continue
        days = b.names(at, row, "days", DAYS)
        channels = b.names(at, row, "channels", CHANNELS)
        start, end = b.clock(at, row, "start"), b.clock(at, row, "end")
        if start is not None and end is not None and end != time(0) and end <= start:
            b.problems.append(f"{at}: end {end:%H:%M} must come after start {start:%H:%M}")
            continue
        if days is not None and channels is not None and start is not None and end is not None:
            windows.append(Window(frozenset(DAYS.index(d) for d in days), start, end, channels))
    return [WindowRule(rule, tuple(windows))] if rule and windows else []


def _caps(b: _Builder, layer: Layer) -> list[Cap]:
    caps = []
    for index, row in enumerate(_rows(b, layer, "cap")):
        at = f"{layer.where}: cap[{index}]"
        rule = b.rule(at, row)
        limit = b.number(at, row, "limit", 1, 1000)
        counts = b.choice(at, row, "counts", tuple(c.value for c in Counts))
        period = b.choice(at, row, "period", tuple(p.value for p in Period))
        days = b.number(at, row, "days", 1, 366, default=7)
        scope = b.choice(at, row, "scope", tuple(s.value for s in Scope), default="person")
        channels = b.names(at, row, "channels", CHANNELS)
        if None not in (rule, limit, counts, period, days, scope, channels):
            caps.append(Cap(rule, limit, Counts(counts), Period(period), days, Scope(scope), channels))  # type: ignore[arg-type]
    return caps


def _locks(b: _Builder, layer: Layer) -> list[Lock]:
    locks = []
    for index, row in enumerate(_rows(b, layer, "lock")):
        at = f"{layer.where}: lock[{index}]"
        rule = b.rule(at, row)
        days = b.number(at, row, "days", 1, 90)
        scope = b.choice(at, row, "scope", tuple(s.value for s in Scope), default="person")
        channels = b.names(at, row, "channels", CHANNELS)
        if None not in (rule, days, scope, channels):
            locks.append(Lock(rule, days, Scope(scope), channels))  # type: ignore[arg-type]
    return locks


def _rows(b: _Builder, layer: Layer, key: str) -> list[dict[str, Any]]:
    rows = layer.data.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        b.problems.append(f"{layer.where}: key {key} must be a list of [[{key}]] tables")
        return []
    return rows


def _standing(b: _Builder, layer: Layer, rules: RuleSet, is_preset: bool) -> RuleSet:
    """The rules that do not depend on time; a later layer can only add to them."""
    found = b.section(layer, "holidays")
    if found:
        where, table = found
        if table.get("block", False) is True:
            rules = replace(rules, holiday_rule=b.rule(where, table))
        elif table.get("block", False) is not False:
            b.problems.append(f"{where}: key block must be true or false")
    found = b.section(layer, "consent")
    if found:
        where, table = found
        rule, channels = b.rule(where, table), b.names(where, table, "channels", CHANNELS)
        if rule and channels is not None:
            rules = replace(rules, consent_rule=rule, consent_channels=rules.consent_channels | channels)
    found = b.section(layer, "opt_out")
    if found:
        rule = b.rule(*found)
        rules = replace(rules, opt_out_rule=rule) if rule else rules
    found = b.section(layer, "holds")
    if found:
        where, table = found
        holds = dict(rules.holds)
        for kind, item in table.items():
            if kind not in HOLD_KINDS:
                b.problems.append(f"{where}: {kind!r} is not a hold; known: {', '.join(HOLD_KINDS)}")
                continue
            rule = b.rule(f"{where}.{kind}", item)
            if rule:
                holds[kind] = rule
        rules = replace(rules, holds=holds)
    found = b.section(layer, "roles")
    if found:
        where, table = found
        rule, blocked = b.rule(where, table), b.names(where, table, "blocked", ROLES)
        if rule and blocked is not None:
            if "debtor" in blocked:
                b.problems.append(f"{where}: key blocked cannot hold 'debtor' (nobody could be contacted)")
            rules = replace(rules, roles_rule=rule, blocked_roles=rules.blocked_roles | blocked)
    for key in ("minors", "older_adults"):
        found = b.section(layer, key)
        if found:
            where, table = found
            rule = b.rule(where, table)
            age = b.number(where, table, "age", 1, 120)
            result = b.choice(where, table, "result", ("block", "warn"), default="block")
            unless = table.get("unless_obligor", False)
            if not isinstance(unless, bool):
                b.problems.append(f"{where}: key unless_obligor must be true or false")
            elif rule and age is not None and result:
                flag: dict[str, Any] = {key: Flag(rule, Result(result), age, unless)}
                rules = replace(rules, **flag)
    found = b.section(layer, "supplied_only")
    if found:
        where, table = found
        rule = b.rule(where, table)
        provenances = b.names(where, table, "provenances", ("creditor", "debtor", "skip_trace"))
        if rule and provenances is not None:
            rules = replace(rules, supplied_only=rule, supplied_provenances=provenances)
    found = b.section(layer, "callback")
    if found:
        where, table = found
        if not is_preset:
            b.problems.append(f"{where}: only a jurisdiction preset may exempt callbacks from its caps")
        else:
            rule = b.rule(where, table)
            minutes = b.number(where, table, "tolerance_minutes", 0, 120, default=15)
            if rule and minutes is not None:
                rules = replace(rules, callback_exempts=rule, callback_tolerance=timedelta(minutes=minutes))
    return rules
