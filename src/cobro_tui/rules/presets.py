"""Rule sets from the preset files (config/rules/*.toml) and contact_rules.toml: a jurisdiction
preset, its overlays (a state or a city) and the institution's own rules, each only ever adding
restrictions.

Each file is a pydantic model that says what every key means and takes; `build_rules` combines
validated layers into a RuleSet. Pure: models in, a RuleSet out. How layers combine, so a layer
can never loosen the law:
- `[windows]` of every layer is another window rule: a contact must fit a window of each.
- `[[cap]]` and `[[lock]]` add up: each must hold.
- `handle_minutes` takes the largest per channel; `consent.channels` and `roles.blocked` unite;
  `holidays.block = true` in any layer blocks holidays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from cobro_tui.config_errors import FileModel, NonBlank, defined_in, fault, one_of, parses, shown
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
PROVENANCES = ("creditor", "debtor", "skip_trace")

Channel = Annotated[str, one_of(CHANNELS)]
"""A contact channel (voice, sms, ...)."""
Day = Annotated[str, one_of(DAYS)]
PresetName = Annotated[str, defined_in("presets", "unknown_preset")]
"""The name of a file in config/rules/, without .toml."""


def _jurisdiction(name: str, info: ValidationInfo) -> str:
    parent = _extends(info).get(name)
    if parent is not None:
        raise fault("not_a_jurisdiction", parent=shown(parent))
    return name


JurisdictionName = Annotated[PresetName, AfterValidator(_jurisdiction)]
"""The name of a jurisdiction preset: a file in config/rules/ that extends none."""


def clock(text: str) -> time:
    """A time of day written "HH:MM"; "24:00", the end of the day, is midnight (time(0))."""
    if text == "24:00":
        return time(0)
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


Clock = Annotated[str, parses(clock, "clock")]
"""A time of day, "07:00"; "24:00" for the end of the day."""


class RuleRef(FileModel):
    """What every rule cites: the engine names it when it blocks or warns."""

    id: NonBlank
    """The rule's id (MX-1)."""
    source: NonBlank
    """The law or policy it applies, as counsel cites it."""

    def rule(self) -> Rule:
        return Rule(self.id, self.source)


class WindowRow(FileModel):
    """One [[windows.window]]: days and hours when contact is allowed, in the debtor's local time."""

    days: list[Day] = Field(min_length=1)
    """The weekdays (mon ... sun)."""
    start: Clock
    """When the window opens."""
    end: Clock
    """When it closes, after start ("24:00": at midnight)."""
    channels: list[Channel] = []
    """The channels it is for; empty: every channel."""

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and clock(end) != time(0) and clock(end) <= clock(start):
            raise fault("window_order", start=shown(start))
        return end

    def window(self) -> Window:
        days = frozenset(DAYS.index(day) for day in self.days)
        return Window(days, clock(self.start), clock(self.end), frozenset(self.channels))


class WindowsSection(RuleRef):
    """[windows]: when contact is allowed; a contact must fit a window of every layer's."""

    window: list[WindowRow] = Field(min_length=1)
    """The windows; a contact fits when it fits one of them."""


class HolidaysSection(RuleRef):
    """[holidays]: whether the country's holidays are days without contact."""

    block: bool = False
    """True: no contact on the country's holidays."""


class ConsentSection(RuleRef):
    """[consent]: the channels that need the debtor's recorded consent."""

    channels: list[Channel] = []
    """The channels that need it."""


class RolesSection(RuleRef):
    """[roles]: the people on an account who may not be asked to pay."""

    blocked: list[Annotated[str, one_of(ROLES)]] = []
    """The roles not to contact about the debt; never the debtor."""

    @field_validator("blocked")
    @classmethod
    def _not_the_debtor(cls, blocked: list[str]) -> list[str]:
        if "debtor" in blocked:
            raise fault("debtor_blocked")
        return blocked


class AgeSection(RuleRef):
    """[minors] and [older_adults]: a person's age that blocks or warns."""

    age: int = Field(ge=1, le=120)
    """The age it starts (older adults) or ends (minors) at."""
    result: Annotated[str, one_of(("block", "warn"))] = "block"
    """Whether the contact is blocked or the agent warned."""
    unless_obligor: bool = False
    """True: it does not apply to a person who owes the debt (debtor, aval, deudor solidario)."""

    def flag(self) -> Flag:
        return Flag(self.rule(), Result(self.result), self.age, self.unless_obligor)


class SuppliedOnlySection(RuleRef):
    """[supplied_only]: contact only at the points given to the institution."""

    provenances: list[Annotated[str, one_of(PROVENANCES)]] = []
    """Where a contact point may come from."""


class CallbackSection(RuleRef):
    """[callback]: a callback the debtor asked for is outside the caps (a jurisdiction preset only)."""

    tolerance_minutes: int = Field(15, ge=0, le=120)
    """How far from the asked time the callback may be, in minutes."""


class CapRow(RuleRef):
    """One [[cap]]: at most `limit` contacts in a period."""

    limit: int = Field(ge=1, le=1000)
    """The most contacts the period allows."""
    counts: Annotated[str, one_of(c.value for c in Counts)]
    """What is counted: attempts, conversations, or distinct channels."""
    period: Annotated[str, one_of(p.value for p in Period)]
    """The period: the debtor's day or week, or the last `days` days (rolling)."""
    days: int = Field(7, ge=1, le=366)
    """The days of a rolling period."""
    scope: Annotated[str, one_of(s.value for s in Scope)] = "person"
    """Whose contacts add up: the person's, the debt's or the creditor's."""
    channels: list[Channel] = []
    """The channels counted; empty: every channel."""

    def cap(self) -> Cap:
        counts, period, scope = Counts(self.counts), Period(self.period), Scope(self.scope)
        return Cap(self.rule(), self.limit, counts, period, self.days, scope, frozenset(self.channels))


class LockRow(RuleRef):
    """One [[lock]]: no outbound contact for some days after a conversation."""

    days: int = Field(ge=1, le=90)
    """The local days without contact (the conversation's day is day 1)."""
    scope: Annotated[str, one_of(s.value for s in Scope)] = "person"
    """Whose conversation locks: the person's, the debt's or the creditor's."""
    channels: list[Channel] = []
    """The channels locked; empty: every channel."""

    def lock(self) -> Lock:
        return Lock(self.rule(), self.days, Scope(self.scope), frozenset(self.channels))


class RuleLayer(FileModel):
    """The rule sections every layer may hold: a preset, an overlay and the institution's own rules."""

    handle_minutes: dict[Channel, Annotated[int, Field(ge=0, le=240)]] = {}
    """Minutes kept free at a window's end, by channel, so a contact can end in it (0 to 240)."""
    windows: WindowsSection | None = None
    """When contact is allowed."""
    holidays: HolidaysSection | None = None
    """Whether holidays are days without contact."""
    consent: ConsentSection | None = None
    """The channels that need consent."""
    opt_out: RuleRef | None = None
    """The rule an opt-out applies."""
    holds: dict[Annotated[str, one_of(HOLD_KINDS)], RuleRef] = {}
    """The rule each kind of restriction applies (cease, deceased, dispute, legal_hold, wrong_number)."""
    roles: RolesSection | None = None
    """Who may not be asked to pay."""
    minors: AgeSection | None = None
    """Contact with minors."""
    older_adults: AgeSection | None = None
    """Contact with older adults."""
    supplied_only: SuppliedOnlySection | None = None
    """Contact only at the points given."""
    callback: CallbackSection | None = None
    """Callbacks outside the caps."""
    cap: list[CapRow] = []
    """Caps on contacts."""
    lock: list[LockRow] = []
    """Pauses after a conversation."""


def _preset_only(callback: CallbackSection | None) -> CallbackSection | None:
    if callback is not None:
        raise fault("callback_preset_only")
    return callback


def _on_the_preset(name: str, info: ValidationInfo) -> str:
    """An overlay of contact_rules.toml must extend the preset in force there."""
    preset, parents = info.data.get("preset"), _extends(info)
    if preset is None or name not in parents or parents[name] == preset:
        return name
    if parents[name] is None:
        raise fault("not_an_overlay", preset=shown(preset))
    raise fault("overlay_elsewhere", parent=shown(parents[name]), preset=shown(preset))


class PresetFile(RuleLayer):
    """config/rules/<name>.toml without `extends`: a jurisdiction's contact rules."""

    name: NonBlank
    """The preset's name, the file's (mx_condusef)."""
    title: str = ""
    """The law it reads, for people."""
    version: NonBlank
    """The preset's release (2026.11.1)."""
    country: NonBlank
    """The country whose holidays it uses (MX)."""
    legal_review_required: bool = False
    """Whether counsel must sign off its values before a release."""
    windows: WindowsSection
    """When contact is allowed: every preset says it."""


class OverlayFile(RuleLayer):
    """config/rules/<name>.toml with `extends`: a state's or a city's rules on a jurisdiction preset."""

    extends: JurisdictionName
    """The jurisdiction preset it adds to."""
    name: str = ""
    """The overlay's name, the file's (us_ma)."""
    title: str = ""
    """The law it reads, for people."""
    version: str = ""
    """The overlay's release."""
    country: str = ""
    """The country (the preset's)."""
    legal_review_required: bool = False
    """Whether counsel must sign off its values before a release."""

    _no_callback = field_validator("callback")(_preset_only)


class ContactRulesFile(RuleLayer):
    """contact_rules.toml: the rules in force, a preset and its overlays, and the institution's own
    rules, which can only add restrictions."""

    version: str = ""
    """The policy release the file belongs to."""
    preset: JurisdictionName
    """The jurisdiction preset in force (mx_condusef)."""
    overlays: list[Annotated[PresetName, AfterValidator(_on_the_preset)]] = []
    """Overlays on that preset (a state, a city)."""

    _no_callback = field_validator("callback")(_preset_only)


def _extends(info: ValidationInfo) -> dict[str, Any]:
    """What each preset file that could be read extends (None: it is a jurisdiction preset), from
    the validation context; a file missing from it goes unchecked."""
    found = info.context.get("extends") if isinstance(info.context, dict) else None
    return found or {}


def rules_file(data: dict[str, Any]) -> type[PresetFile | OverlayFile]:
    """The model of a file in config/rules/: an overlay when it extends a preset."""
    return OverlayFile if "extends" in data else PresetFile


def build_rules(
    preset: PresetFile,
    overlays: Sequence[OverlayFile],
    institution: RuleLayer | None,
    holidays_of: Callable[[str], Iterable[date]] | None = None,
) -> RuleSet:
    """The rule set of a preset with its overlays and the institution's additions.

    `holidays_of(country)` gives the holiday dates of a country (a calendar library's, outside this
    pure module); called only when some layer blocks holidays.
    """
    layers: list[RuleLayer] = [preset, *overlays, *([institution] if institution else [])]
    handle: dict[str, int] = {}
    for layer in layers:
        for channel, minutes in layer.handle_minutes.items():
            handle[channel] = max(handle.get(channel, 0), minutes)
    rules = RuleSet(
        name=preset.name,
        version=preset.version,
        country=preset.country,
        window_rules=tuple(
            WindowRule(layer.windows.rule(), tuple(row.window() for row in layer.windows.window))
            for layer in layers
            if layer.windows
        ),
        caps=tuple(row.cap() for layer in layers for row in layer.cap),
        locks=tuple(row.lock() for layer in layers for row in layer.lock),
        handle_minutes=handle,
    )
    for layer in layers:
        rules = _standing(layer, rules)
    if rules.holiday_rule is not None and holidays_of is not None:
        rules = replace(rules, holidays=frozenset(holidays_of(preset.country)))
    return rules


def _standing(layer: RuleLayer, rules: RuleSet) -> RuleSet:
    """The rules that do not depend on time; a later layer can only add to them."""
    if layer.holidays and layer.holidays.block:
        rules = replace(rules, holiday_rule=layer.holidays.rule())
    if layer.consent:
        channels = rules.consent_channels | frozenset(layer.consent.channels)
        rules = replace(rules, consent_rule=layer.consent.rule(), consent_channels=channels)
    if layer.opt_out:
        rules = replace(rules, opt_out_rule=layer.opt_out.rule())
    if layer.holds:
        rules = replace(rules, holds={**rules.holds, **{kind: ref.rule() for kind, ref in layer.holds.items()}})
    if layer.roles:
        blocked = rules.blocked_roles | frozenset(layer.roles.blocked)
        rules = replace(rules, roles_rule=layer.roles.rule(), blocked_roles=blocked)
    if layer.minors:
        rules = replace(rules, minors=layer.minors.flag())
    if layer.older_adults:
        rules = replace(rules, older_adults=layer.older_adults.flag())
    if layer.supplied_only:
        provenances = frozenset(layer.supplied_only.provenances)
        rules = replace(rules, supplied_only=layer.supplied_only.rule(), supplied_provenances=provenances)
    if layer.callback:
        tolerance = timedelta(minutes=layer.callback.tolerance_minutes)
        rules = replace(rules, callback_exempts=layer.callback.rule(), callback_tolerance=tolerance)
    return rules
