"""The collection policy in config/ (buckets, result codes, ...), loaded and checked by file and key."""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dateutil.easter import easter

from cobro_tui.domain.buckets import Bucket, BucketSet, bucket_set_problems
from cobro_tui.domain.offers import (
    AUTHORITY,
    FREQUENCIES,
    MIN_BASES,
    Band,
    Institution,
    OfferPolicy,
    PlanPolicy,
    PlanTerm,
    PromisePolicy,
    RestructurePolicy,
    SettlementBand,
    SettlementPolicy,
)
from cobro_tui.domain.priority import PriorityPoints
from cobro_tui.domain.result_codes import PcrProblem, ResultCode, ResultCodeCatalog
from cobro_tui.domain.scripts import PHASES, Script, ScriptStep
from cobro_tui.domain.text import TooDeep, cleaned
from cobro_tui.errors import PolicyError
from cobro_tui.resources import shipped_dir
from cobro_tui.rules.engine import RuleSet
from cobro_tui.rules.presets import Layer, build_rules
from cobro_tui.rules.zones import ZoneTable, zone_problems

POLICY_FILES = (
    "buckets.toml",
    "result_codes.toml",
    "problems.toml",
    "priority.toml",
    "zones.toml",
    "contact_rules.toml",
    "offers.toml",
)
# Read when present: the recovery targets per team (the KPI report sets payments against them).
OPTIONAL_FILES = ("targets.toml",)
EASTER = re.compile(r"easter([+-]\d{1,2})?")
# Years of holidays a rule set carries (the calendar library computes them; a release spans a few).
HOLIDAY_YEARS = (2020, 2040)
CHANNELS = ("voice", "sms", "whatsapp", "email", "visit", "letter")


@dataclass(frozen=True, slots=True)
class Policy:
    """The policy in force, and the hash that identifies it in the audit log."""

    buckets: BucketSet
    result_codes: ResultCodeCatalog
    problems: tuple[PcrProblem, ...]
    priority: PriorityPoints
    zones: ZoneTable
    scripts: tuple[Script, ...]
    rules: RuleSet
    offers: OfferPolicy
    config_hash: str
    folder: Path
    tz_version: str = ""  # the tz database the zones come from, for every rule decision's record
    calendar_version: str = ""  # the holiday calendar's library and version
    targets: dict[str, int] = field(default_factory=dict)  # team -> amount to recover a month, centavos


def default_policy_dir() -> Path:
    return shipped_dir("config")


class _Reader:
    """Collects every problem of a policy folder instead of stopping at the first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []

    def load(self, name: str) -> dict[str, Any] | None:
        path = self.folder / name
        try:
            with path.open("rb") as handle:
                return cleaned(tomllib.load(handle))  # labels and scripts reach the agent's screen
        except FileNotFoundError:
            self.problems.append(f"{path}: missing; every policy folder needs {name}")
        except tomllib.TOMLDecodeError as exc:
            self.problems.append(f"{path}: not valid TOML ({exc})")
        except TooDeep as exc:
            self.problems.append(f"{path}: {exc}")
        return None

    def field(
        self, where: str, item: dict[str, Any], key: str, kind: type | tuple[type, ...], required: bool = True
    ) -> Any:
        if key not in item:
            if required:
                self.problems.append(f"{where}: key {key} is missing")
            return None
        value = item[key]
        # bool is an int; a number field must not accept true/false.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.problems.append(f"{where}: key {key} must be {names}, not {value!r}")
            return None
        return value

    def tables(
        self, name: str, key: str, known: tuple[str, ...]
    ) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]] | None:
        """The [[key]] tables of file `name`, each with where it is ("file: key[i]"), or None."""
        data = self.load(name)
        if data is None:
            return None
        path = self.folder / name
        rows = data.get(key)
        if not isinstance(rows, list) or not rows:
            self.problems.append(f"{path}: key {key} must be a list of [[{key}]] tables with at least one entry")
            return None
        found: list[tuple[str, dict[str, Any]]] = []
        for index, row in enumerate(rows):
            where = f"{path}: {key}[{index}]"
            if not isinstance(row, dict):
                self.problems.append(f"{where}: must be a [[{key}]] table, not {row!r}")
                continue
            self.unknown(where, row, known)
            found.append((where, row))
        return (data, found) if len(found) == len(rows) else None

    def unknown(self, where: str, item: dict[str, Any], known: tuple[str, ...]) -> None:
        for key in item:
            if key not in known:
                self.problems.append(f"{where}: key {key} is not known here; known keys: {', '.join(known)}")


_BUCKET_KEYS = ("code", "label_es", "label_en", "min_dpd", "max_dpd")
_PROBLEM_KEYS = ("code", "label_es", "label_en")
_CODE_KEYS = ("code", "label_es", "label_en", "worked", "right_party_contact", "attempt", "channels", "promise")


def _buckets(reader: _Reader) -> BucketSet | None:
    found = reader.tables("buckets.toml", "bucket", _BUCKET_KEYS)
    if found is None:
        return None
    data, rows = found
    buckets: list[Bucket] = []
    for where, row in rows:
        code = reader.field(where, row, "code", str)
        label_es = reader.field(where, row, "label_es", str)
        label_en = reader.field(where, row, "label_en", str)
        min_dpd = reader.field(where, row, "min_dpd", int)
        max_dpd = reader.field(where, row, "max_dpd", int, required=False)
        if None not in (code, label_es, label_en, min_dpd):
            buckets.append(Bucket(code, label_es, label_en, min_dpd, max_dpd))
    if len(buckets) != len(rows):
        return None
    problems = bucket_set_problems(buckets)
    reader.problems.extend(f"{reader.folder / 'buckets.toml'}: {problem}" for problem in problems)
    if problems:
        return None
    return BucketSet(str(data.get("name", "estandar")), tuple(buckets))


def _result_codes(reader: _Reader) -> ResultCodeCatalog | None:
    found = reader.tables("result_codes.toml", "code", _CODE_KEYS)
    if found is None:
        return None
    codes: list[ResultCode] = []
    seen: set[str] = set()
    for where, row in found[1]:
        code = reader.field(where, row, "code", str)
        values = [reader.field(where, row, key, str) for key in ("label_es", "label_en")]
        flags = [reader.field(where, row, key, bool) for key in ("worked", "right_party_contact", "attempt")]
        channels = reader.field(where, row, "channels", list, required=False) or []
        promise = bool(reader.field(where, row, "promise", bool, required=False))
        if promise and flags[1] is False:
            reader.problems.append(
                f"{where}: key promise is true but right_party_contact is false; "
                "only a right-party contact records a promise"
            )
        for channel in channels:
            if channel not in CHANNELS:
                reader.problems.append(f"{where}: key channels has {channel!r}; channels are {', '.join(CHANNELS)}")
        if code in seen:
            reader.problems.append(f"{where}: code {code!r} appears more than once")
        seen.add(code)
        if code is not None and None not in values and None not in flags:
            codes.append(ResultCode(code, values[0], values[1], flags[0], flags[1], flags[2], tuple(channels), promise))
    if len(codes) != len(found[1]):
        return None
    return ResultCodeCatalog(tuple(codes))


def _problems(reader: _Reader) -> tuple[PcrProblem, ...] | None:
    found = reader.tables("problems.toml", "problem", _PROBLEM_KEYS)
    if found is None:
        return None
    problems: list[PcrProblem] = []
    for where, row in found[1]:
        values = [reader.field(where, row, key, str) for key in _PROBLEM_KEYS]
        if values[0] in {p.code for p in problems}:
            reader.problems.append(f"{where}: code {values[0]!r} appears more than once")
        elif None not in values:
            problems.append(PcrProblem(*values))
    return tuple(problems) if len(problems) == len(found[1]) else None


def _priority(reader: _Reader) -> PriorityPoints | None:
    data = reader.load("priority.toml")
    if data is None:
        return None
    where = f"{reader.folder / 'priority.toml'}: points"
    points = data.get("points")
    if not isinstance(points, dict):
        reader.problems.append(f"{where}: missing; priority.toml needs a [points] table")
        return None
    known = tuple(f.name for f in fields(PriorityPoints))
    reader.unknown(where, points, known)
    values: dict[str, Any] = {}
    for name in known:
        if name == "risk":
            risk = points.get("risk", {})
            if not isinstance(risk, dict) or any(not isinstance(v, int) or isinstance(v, bool) for v in risk.values()):
                reader.problems.append(f"{where}.risk: must map risk segments to whole numbers of points")
                return None
            values["risk"] = dict(risk)
        elif name in points:
            values[name] = reader.field(where, points, name, int)
    if None in values.values():
        return None
    return PriorityPoints(**values)


_SCRIPT_KEYS = ("name", "buckets", "segments", "step")
_STEP_KEYS = ("id", "phase", "text_es", "text_en", "first_contact_only")


def _scripts(reader: _Reader, buckets: BucketSet | None) -> tuple[Script, ...] | None:
    folder = reader.folder / "scripts"
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not files:
        reader.problems.append(f"{folder}: no call scripts; add at least one scripts/<name>.toml")
        return None
    scripts: list[Script] = []
    before = len(reader.problems)
    for path in files:
        name = f"scripts/{path.name}"
        data = reader.load(name)
        if data is None:
            continue
        where = str(path)
        reader.unknown(where, data, (*_SCRIPT_KEYS, "version"))
        title = reader.field(where, data, "name", str)
        codes = reader.field(where, data, "buckets", list) or []
        segments = reader.field(where, data, "segments", list, required=False) or []
        if buckets is not None:
            known = {b.code for b in buckets.buckets}
            for code in codes:
                if code not in known:
                    reader.problems.append(f"{where}: key buckets has {code!r}, which buckets.toml does not define")
        found = reader.tables(name, "step", _STEP_KEYS)
        steps: list[ScriptStep] = []
        for step_where, row in found[1] if found else []:
            values = [reader.field(step_where, row, key, str) for key in ("id", "phase", "text_es", "text_en")]
            first = reader.field(step_where, row, "first_contact_only", bool, required=False)
            if values[1] is not None and values[1] not in PHASES:
                reader.problems.append(f"{step_where}: key phase is {values[1]!r}; phases are {', '.join(PHASES)}")
            elif None not in values:
                step_id, phase, text_es, text_en = (str(value) for value in values)
                steps.append(ScriptStep(step_id, phase, text_es, text_en, first_contact_only=bool(first)))
        if title is not None:
            scripts.append(Script(title, tuple(map(str, codes)), tuple(map(str, segments)), tuple(steps)))
    return tuple(scripts) if len(reader.problems) == before else None


def _zones(reader: _Reader) -> ZoneTable | None:
    data = reader.load("zones.toml")
    if data is None:
        return None
    where = str(reader.folder / "zones.toml")
    sections = {}
    for key in ("states", "municipalities"):
        section = data.get(key, {})
        if not isinstance(section, dict) or not all(isinstance(v, str) for v in section.values()):
            reader.problems.append(f"{where}: [{key}] must map INEGI codes to zone names (text)")
            return None
        sections[key] = section
    fallback = data.get("fallback", "America/Mexico_City")
    countries = data.get("countries", {})
    us = data.get("us", {})
    us_states, zip3 = us.get("states", {}), us.get("zip3", {})
    shapes = [("countries", countries, str), ("us.states", us_states, list), ("us.zip3", zip3, str)]
    for key, section, kind in shapes:
        if not isinstance(section, dict) or not all(isinstance(v, kind) for v in section.values()):
            reader.problems.append(f"{where}: [{key}] must map codes to zone names ({kind.__name__})")
            return None
    table = ZoneTable(
        sections["states"],
        sections["municipalities"],
        str(fallback),
        {k: tuple(map(str, v)) for k, v in us_states.items()},
        dict(zip3),
        dict(countries),
    )
    problems = zone_problems(table)
    reader.problems.extend(f"{where}: {problem}" for problem in problems)
    return None if problems else table


def _contact_rules(reader: _Reader) -> RuleSet | None:
    """The preset named in contact_rules.toml, its overlays, and the institution's own rules."""
    data = reader.load("contact_rules.toml")
    if data is None:
        return None
    where = str(reader.folder / "contact_rules.toml")
    preset = reader.field(where, data, "preset", str)
    overlays = reader.field(where, data, "overlays", list, required=False) or []
    if preset is None:
        return None
    presets = sorted(p.stem for p in (reader.folder / "rules").glob("*.toml"))
    layers = []
    for name in [preset, *overlays]:
        if not isinstance(name, str) or name not in presets:
            reader.problems.append(
                f"{where}: {name!r} is not a preset in {reader.folder / 'rules'}; known: {', '.join(presets)}"
            )
            return None
        found = reader.load(f"rules/{name}.toml")
        if found is None:
            return None
        layers.append(Layer(str(reader.folder / "rules" / f"{name}.toml"), found))
    own = {k: v for k, v in data.items() if k not in ("version", "preset", "overlays")}
    rules, problems = build_rules(layers[0], layers[1:], Layer(where, own), holidays_of=_holidays_of)
    reader.problems.extend(problems)
    return rules


class _Section:
    """One table of offers.toml: typed keys with their ranges, every problem named by file and key."""

    def __init__(self, reader: _Reader, where: str, data: object, known: tuple[str, ...]) -> None:
        self.reader, self.where = reader, where
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            reader.problems.append(f"{where}: must be a table")
        reader.unknown(where, self.data, known)

    def number(self, key: str, default: int | None = None, least: int = 0, most: int | None = None) -> int | None:
        if key not in self.data and default is not None:
            return default
        value = self.reader.field(self.where, self.data, key, int)
        if value is not None and (value < least or (most is not None and value > most)):
            span = f"from {least} to {most}" if most is not None else f"at least {least}"
            self.reader.problems.append(f"{self.where}: key {key} is {value}; it must be {span}")
            return None
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.reader.field(self.where, self.data, key, bool, required=False)
        return default if value is None else value

    def words(
        self, key: str, allowed: tuple[str, ...], default: tuple[str, ...] | None = None
    ) -> tuple[str, ...] | None:
        if key not in self.data and default is not None:
            return default
        value = self.reader.field(self.where, self.data, key, list)
        if value is None:
            return None
        wrong = [v for v in value if v not in allowed]
        if wrong or not value:
            self.reader.problems.append(
                f"{self.where}: key {key} has {wrong or value!r}; it takes one or more of {', '.join(allowed)}"
            )
            return None
        return tuple(value)

    def band(self, buckets: tuple[str, ...]) -> Band | None:
        codes = self.words("buckets", buckets)
        low = self.number("min_balance", default=0)
        high = self.number("max_balance", default=-1, least=-1)
        if codes is None or low is None or high is None:
            return None
        if high != -1 and high <= low:
            self.reader.problems.append(f"{self.where}: key max_balance ({high}) must be above min_balance ({low})")
            return None
        return Band(codes, low, None if high == -1 else high)

    def rows(self, key: str, known: tuple[str, ...]) -> list[_Section]:
        found = self.data.get(key)
        if not isinstance(found, list) or not found or not all(isinstance(row, dict) for row in found):
            self.reader.problems.append(f"{self.where}: key {key} must be a list of [[{key}]] tables, at least one")
            return []
        return [_Section(self.reader, f"{self.where}.{key}[{i}]", row, known) for i, row in enumerate(found)]


_PROMISE_KEYS = (
    "min_basis",
    "min_percent",
    "min_amount",
    "max_open",
    "grace_days",
    "broken_for_approval",
    "max_days",
    "move_off_holidays",
)
_PLAN_KEYS = ("min_down_percent", "min_installment", "max_days_to_first", "frequencies", "move_off_holidays", "term")
_BAND_KEYS = ("buckets", "min_balance", "max_balance")


def _offers(
    reader: _Reader, buckets: BucketSet | None, result_codes: ResultCodeCatalog | None = None
) -> OfferPolicy | None:
    """offers.toml: promise, plan, settlement and restructure policy (amounts in centavos, shares in percent)."""
    data = reader.load("offers.toml")
    if data is None or buckets is None:
        return None
    before = len(reader.problems)
    path = str(reader.folder / "offers.toml")
    codes = tuple(b.code for b in buckets.buckets)
    codes_known = tuple(c.code for c in result_codes.codes) if result_codes is not None else ()
    reader.unknown(
        path,
        data,
        ("version", "calendar", "bank_holidays", "promise", "plan", "settlement", "restructure", "agreement", "pcr"),
    )
    calendar = reader.field(path, data, "calendar", str)
    import holidays

    if calendar is not None and calendar not in holidays.list_supported_countries():
        reader.problems.append(f"{path}: key calendar is {calendar!r}, not a country code the holidays library knows")
    promise = _Section(reader, f"{path}: promise", data.get("promise"), _PROMISE_KEYS)
    basis = reader.field(promise.where, promise.data, "min_basis", str)
    if basis is not None and basis not in MIN_BASES:
        reader.problems.append(f"{promise.where}: key min_basis is {basis!r}; it takes {' or '.join(MIN_BASES)}")
    days = _Section(reader, f"{path}: promise.max_days", promise.data.get("max_days"), ("default", *codes))
    max_days = {key: days.number(key) for key in days.data}
    if "default" not in max_days:
        reader.problems.append(f"{days.where}: key default is missing (the days for buckets not listed)")
    promise_policy = PromisePolicy(
        str(basis),
        promise.number("min_percent", least=1, most=100) or 0,
        promise.number("min_amount") or 0,
        promise.number("max_open", least=1) or 1,
        promise.number("grace_days", most=30) or 0,
        promise.number("broken_for_approval", least=1) or 1,
        {k: v or 0 for k, v in max_days.items()},
        promise.flag("move_off_holidays", True),
    )
    plan = _Section(reader, f"{path}: plan", data.get("plan"), _PLAN_KEYS)
    terms = []
    for row in plan.rows("term", (*_BAND_KEYS, "max_installments")):
        band, most = row.band(codes), row.number("max_installments", least=1, most=120)
        if band is not None and most is not None:
            terms.append(PlanTerm(band, most))
    plan_policy = PlanPolicy(
        plan.number("min_down_percent", most=99) or 0,
        plan.number("min_installment") or 0,
        plan.number("max_days_to_first", least=1) or 1,
        plan.words("frequencies", FREQUENCIES) or (),
        plan.flag("move_off_holidays", True),
        tuple(terms),
    )
    settlement = _Section(
        reader, f"{path}: settlement", data.get("settlement"), ("max_days_to_pay", "max_installments", "band")
    )
    bands = []
    for row in settlement.rows("band", (*_BAND_KEYS, *AUTHORITY)):
        band = row.band(codes)
        limits = {level: row.number(level, most=100) for level in AUTHORITY}
        if band is None or None in limits.values():
            continue
        ordered = [limits[level] for level in AUTHORITY]
        if ordered != sorted(ordered):  # type: ignore[type-var]
            reader.problems.append(
                f"{row.where}: discounts must not fall as authority rises "
                f"(agent {ordered[0]}, supervisor {ordered[1]}, manager {ordered[2]})"
            )
            continue
        bands.append(SettlementBand(band, {k: int(v or 0) for k, v in limits.items()}))
    settlement_policy = SettlementPolicy(
        settlement.number("max_days_to_pay", least=1) or 1,
        settlement.number("max_installments", least=1) or 1,
        tuple(bands),
    )
    restructure = _Section(
        reader,
        f"{path}: restructure",
        data.get("restructure"),
        ("buckets", "min_down_percent", "max_installments", "frequencies"),
    )
    restructure_policy = RestructurePolicy(
        restructure.words("buckets", codes) or (),
        restructure.number("min_down_percent", most=99) or 0,
        restructure.number("max_installments", least=1, most=120) or 1,
        restructure.words("frequencies", FREQUENCIES) or (),
    )
    agreement = _Section(reader, f"{path}: agreement", data.get("agreement"), ("institution", "bank", "clabe", "phone"))
    words = {
        key: reader.field(agreement.where, agreement.data, key, str)
        for key in ("institution", "bank", "clabe", "phone")
    }
    clabe = words["clabe"] or ""
    if words["clabe"] is not None and not (len(clabe) == 18 and clabe.isdigit()):
        reader.problems.append(f"{agreement.where}: key clabe must be the institution's 18-digit CLABE, not {clabe!r}")
    pcr = _Section(reader, f"{path}: pcr", data.get("pcr", {}), ("required_with",))
    pcr_codes = pcr.words("required_with", tuple(codes_known), ()) if codes_known else ()
    extra = _bank_holidays(reader, path, data.get("bank_holidays", []))
    if len(reader.problems) != before or calendar is None:
        return None
    institution = Institution(words["institution"] or "", words["bank"] or "", clabe, words["phone"] or "")
    days_off = frozenset(_holidays_of(calendar)) | extra  # the country's statutory holidays, and the banks' own
    return OfferPolicy(
        calendar,
        promise_policy,
        plan_policy,
        settlement_policy,
        restructure_policy,
        days_off,
        institution,
        frozenset(pcr_codes or ()),
    )


def _bank_holidays(reader: _Reader, where: str, days: object) -> frozenset[date]:
    """Extra closing days: "YYYY-MM-DD" once; "MM-DD" every year of the calendar's span; "easter-3"
    (Holy Thursday), "easter-2" (Good Friday): days from Easter Sunday, every year."""
    found: set[date] = set()
    years = range(HOLIDAY_YEARS[0], HOLIDAY_YEARS[1] + 1)
    if not isinstance(days, list):
        reader.problems.append(
            f'{where}: key bank_holidays must be a list of dates ("YYYY-MM-DD", "MM-DD" or "easter-2")'
        )
        return frozenset()
    for text in days:
        try:
            if isinstance(text, str) and EASTER.fullmatch(text):
                found |= {easter(year) + timedelta(days=int(text[6:] or 0)) for year in years}
            elif isinstance(text, str) and len(text) == 5:
                month, day_of_month = int(text[:2]), int(text[3:])
                found |= {date(year, month, day_of_month) for year in years}
            else:
                found.add(date.fromisoformat(str(text)))
        except ValueError:
            reader.problems.append(
                f'{where}: key bank_holidays has {text!r}; write "YYYY-MM-DD", "MM-DD" or days '
                'from Easter Sunday such as "easter-2" (Good Friday)'
            )
    return frozenset(found)


def preset_rules(preset: str, overlays: tuple[str, ...] = (), folder: Path | None = None) -> RuleSet:
    """A preset with its overlays and no institution rules (tests, `rules explain --preset`)."""
    folder = folder or default_policy_dir()
    reader = _Reader(folder)
    layers = []
    for name in (preset, *overlays):
        data = reader.load(f"rules/{name}.toml")
        if data is None:
            raise PolicyError(reader.problems)
        layers.append(Layer(str(folder / "rules" / f"{name}.toml"), data))
    rules, problems = build_rules(layers[0], layers[1:], None, holidays_of=_holidays_of)
    if rules is None:
        raise PolicyError(problems)
    return rules


@functools.lru_cache(maxsize=8)
def _holidays_of(country: str) -> list[date]:
    import holidays

    return list(holidays.country_holidays(country, years=range(HOLIDAY_YEARS[0], HOLIDAY_YEARS[1] + 1)))


def check_presets(folder: Path) -> list[str]:
    """Every preset in config/rules/ must build on its own (an overlay on the preset it extends)."""
    reader = _Reader(folder)
    for path in sorted((folder / "rules").glob("*.toml")):
        data = reader.load(f"rules/{path.name}")
        if data is None:
            continue
        layer = Layer(str(path), data)
        parent = data.get("extends")
        if parent is None:
            reader.problems.extend(build_rules(layer, [], None)[1])
            continue
        base = reader.load(f"rules/{parent}.toml") if (folder / "rules" / f"{parent}.toml").is_file() else None
        if base is None:
            reader.problems.append(f"{path}: key extends names {parent!r}, which is not a preset in {folder / 'rules'}")
            continue
        reader.problems.extend(
            p
            for p in build_rules(Layer(str(folder / "rules" / f"{parent}.toml"), base), [layer], None)[1]
            if p.startswith(str(path))
        )
    return reader.problems


def tz_database_version() -> str:
    """The tz database zoneinfo reads: the system's tzdata.zi version line, else the tzdata package."""
    import zoneinfo
    from importlib.metadata import PackageNotFoundError, version

    for folder in zoneinfo.TZPATH:
        marker = Path(folder) / "tzdata.zi"
        if marker.is_file():
            with marker.open(encoding="utf-8") as handle:
                first = handle.readline().strip()
            if first.startswith("# version "):
                return first.removeprefix("# version ")
    try:
        return f"tzdata {version('tzdata')}"
    except PackageNotFoundError:
        return "unknown"


def calendar_version() -> str:
    from importlib.metadata import version

    return f"holidays {version('holidays')}"


def _targets(reader: _Reader) -> dict[str, int]:
    """targets.toml, when there is one: [[team]] tables with the team's name and its monthly amount in centavos."""
    if not (reader.folder / "targets.toml").is_file():
        return {}
    found = reader.tables("targets.toml", "team", ("team", "monthly"))
    if found is None:
        return {}
    targets: dict[str, int] = {}
    for where, row in found[1]:
        team = reader.field(where, row, "team", str)
        monthly = reader.field(where, row, "monthly", int)
        if team in targets:
            reader.problems.append(f"{where}: team {team!r} appears more than once")
        elif monthly is not None and monthly <= 0:
            reader.problems.append(
                f"{where}: key monthly is {monthly}; it is the amount to recover a month, in centavos, above 0"
            )
        elif team is not None and monthly is not None:
            targets[team] = monthly
    return targets


def policy_hash(folder: Path) -> str:
    """SHA-256 over the policy files' names and bytes: which policy was in force."""
    digest = hashlib.sha256()
    names = [
        *POLICY_FILES,
        *OPTIONAL_FILES,
        *(f"scripts/{p.name}" for p in sorted((folder / "scripts").glob("*.toml"))),
        *(f"rules/{p.name}" for p in sorted((folder / "rules").glob("*.toml"))),
    ]
    for name in names:
        path = folder / name
        if path.is_file():
            digest.update(name.encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()


def check_policy(folder: Path) -> list[str]:
    """Every problem of a policy folder, each naming its file and key; empty when it is sound."""
    if not folder.is_dir():
        return [f"{folder}: not a folder; name the folder that holds {', '.join(POLICY_FILES)}"]
    reader = _Reader(folder)
    buckets = _buckets(reader)
    codes = _result_codes(reader)
    _problems(reader)
    _priority(reader)
    _zones(reader)
    _scripts(reader, buckets)
    _contact_rules(reader)
    _offers(reader, buckets, codes)
    _targets(reader)
    return reader.problems + [p for p in check_presets(folder) if p not in reader.problems]


def load_policy(folder: Path | None = None) -> Policy:
    """The policy of a folder (the shipped one by default), or PolicyError listing every problem."""
    folder = folder or default_policy_dir()
    if not folder.is_dir():
        raise PolicyError(check_policy(folder))
    reader = _Reader(folder)
    buckets = _buckets(reader)
    codes = _result_codes(reader)
    problems = _problems(reader)
    priority = _priority(reader)
    zones = _zones(reader)
    scripts = _scripts(reader, buckets)
    rules = _contact_rules(reader)
    offers = _offers(reader, buckets, codes)
    targets = _targets(reader)
    if (
        reader.problems
        or buckets is None
        or codes is None
        or problems is None
        or priority is None
        or zones is None
        or scripts is None
        or rules is None
        or offers is None
    ):
        raise PolicyError(reader.problems)
    return Policy(
        buckets,
        codes,
        problems,
        priority,
        zones,
        scripts,
        rules,
        offers,
        policy_hash(folder),
        folder,
        tz_database_version(),
        calendar_version(),
        targets,
    )
