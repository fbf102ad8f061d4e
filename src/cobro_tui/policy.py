"""The collection policy in config/ (buckets, result codes, ...), read and checked by file and key.

Each file is validated by its model (policy_files.py; rules/presets.py for the contact rules), and
what a file names from another (bucket codes, result codes, presets) against what the other file
defines. Every problem of every file is found in one run and worded in the interface language:
`check_policy` lists them, `load_policy` refuses with them or builds the Policy.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cobro_tui.config_errors import message, problems, toml_problem
from cobro_tui.domain.assignment import AssignmentRules
from cobro_tui.domain.buckets import BucketSet
from cobro_tui.domain.offers import OfferPolicy
from cobro_tui.domain.priority import PriorityPoints
from cobro_tui.domain.result_codes import PcrProblem, ResultCodeCatalog
from cobro_tui.domain.scripts import Script
from cobro_tui.domain.text import MAX_DEPTH, TooDeep, cleaned
from cobro_tui.errors import PolicyError
from cobro_tui.policy_assignment import AssignmentFile
from cobro_tui.policy_files import (
    BucketsFile,
    OffersFile,
    PriorityFile,
    ProblemsFile,
    ResultCodesFile,
    ScriptFile,
    TargetsFile,
    ZonesFile,
    statutory_holidays,
)
from cobro_tui.resources import shipped_dir
from cobro_tui.rules.engine import RuleSet
from cobro_tui.rules.presets import ContactRulesFile, OverlayFile, PresetFile, build_rules, rules_file
from cobro_tui.rules.zones import ZoneTable

POLICY_FILES = (
    "buckets.toml",
    "result_codes.toml",
    "problems.toml",
    "priority.toml",
    "zones.toml",
    "contact_rules.toml",
    "offers.toml",
)
# Read when present: the recovery targets per team (the KPI report sets payments against them), and
# the rules that give a portfolio import's new accounts to teams and agents (the server's).
OPTIONAL_FILES = ("targets.toml", "assignment.toml")

M = TypeVar("M", bound=BaseModel)


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
    assignment: AssignmentRules = field(
        default_factory=AssignmentRules
    )  # no assignment.toml: no new account assigned by rule


def default_policy_dir() -> Path:
    return shipped_dir("config")


class _Folder:
    """The files of a policy folder, read and validated, with every problem of every file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []

    def data(self, name: str) -> dict[str, Any] | None:
        """A file's TOML, or None with the problem noted."""
        path = self.folder / name
        try:
            with path.open("rb") as handle:
                return cleaned(tomllib.load(handle))  # labels and scripts reach the agent's screen
        except FileNotFoundError:
            self.problems.append(f"{path}: {message('file_missing', name=name)}")
        except tomllib.TOMLDecodeError as exc:
            self.problems.append(f"{path}: {toml_problem(exc)}")
        except UnicodeDecodeError as exc:  # TOML is UTF-8: a file saved in another encoding
            self.problems.append(f"{path}: {message('not_utf8', offset=exc.start)}")
        except TooDeep:
            self.problems.append(f"{path}: {message('too_deep', depth=MAX_DEPTH)}")
        except OSError as exc:
            self.problems.append(f"{path}: {message('file_unreadable', error=exc.strerror)}")
        return None

    def validate(self, name: str, model: type[M], data: dict[str, Any] | None, **names: Any) -> M | None:
        """A file's model, checked against the `names` other files define, or None with its problems noted."""
        if data is None:
            return None
        try:
            return model.model_validate(data, context=names)
        except ValidationError as exc:
            self.problems.extend(problems(exc, model, self.folder / name))
            return None

    def read(self, name: str, model: type[M], **names: Any) -> M | None:
        return self.validate(name, model, self.data(name), **names)

    def scripts(self, names: dict[str, Any]) -> tuple[Script, ...] | None:
        folder = self.folder / "scripts"
        paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        if not paths:
            self.problems.append(f"{folder}: {message('no_scripts')}")
            return None
        found = [self.read(f"scripts/{path.name}", ScriptFile, **names) for path in paths]
        scripts = tuple(script.script() for script in found if script is not None)
        return scripts if len(scripts) == len(found) else None

    def presets(self) -> tuple[dict[str, Any], dict[str, PresetFile | OverlayFile | None]]:
        """Every file of rules/ as its model, and the names they define for contact_rules.toml."""
        data = {path.stem: self.data(f"rules/{path.name}") for path in sorted((self.folder / "rules").glob("*.toml"))}
        names = {
            "presets": tuple(data),
            "extends": {stem: found.get("extends") for stem, found in data.items() if found is not None},
        }
        models = {
            stem: self.validate(f"rules/{stem}.toml", rules_file(found), found, **names)
            for stem, found in data.items()
            if found is not None
        }
        return names, models

    def assignment(self, names: dict[str, Any]) -> AssignmentRules | None:
        """assignment.toml's rules, checked against the buckets `names` holds; the file may be left
        out (no rules). None when it has problems (noted)."""
        if not (self.folder / "assignment.toml").is_file():
            return AssignmentRules()
        found = self.read("assignment.toml", AssignmentFile, **names)
        return found.assignment_rules() if found is not None else None

    def contact_rules(self) -> RuleSet | None:
        """The preset named in contact_rules.toml, its overlays, and the institution's own rules."""
        names, models = self.presets()
        institution = self.read("contact_rules.toml", ContactRulesFile, **names)
        return _rules(models, institution) if institution is not None else None


def _rules(models: dict[str, PresetFile | OverlayFile | None], institution: ContactRulesFile) -> RuleSet | None:
    """The rule set of the preset and overlays contact_rules.toml names, when each of their files is sound."""
    base = models.get(institution.preset)
    layers = [layer for layer in map(models.get, institution.overlays) if isinstance(layer, OverlayFile)]
    if not isinstance(base, PresetFile) or len(layers) != len(institution.overlays):
        return None
    return build_rules(base, layers, institution, holidays_of=statutory_holidays)


def _defined(data: dict[str, Any] | None, table: str) -> tuple[str, ...] | None:
    """The codes a file defines, one per [[table]], even when other keys of it are wrong: the files
    that name them are checked in the same run. None when the file could not be read."""
    rows = data.get(table) if data is not None else None
    if not isinstance(rows, list):
        return None
    return tuple(row["code"] for row in rows if isinstance(row, dict) and isinstance(row.get("code"), str))


def _read(folder: Path) -> tuple[Policy | None, list[str]]:
    """The policy of a folder and every problem of its files (a Policy only when there are none)."""
    if not folder.is_dir():
        return None, [f"{folder}: {message('not_a_folder', files=', '.join(POLICY_FILES))}"]
    files = _Folder(folder)
    bucket_data, code_data = files.data("buckets.toml"), files.data("result_codes.toml")
    names = {"buckets": _defined(bucket_data, "bucket"), "result_codes": _defined(code_data, "code")}
    buckets = files.validate("buckets.toml", BucketsFile, bucket_data)
    codes = files.validate("result_codes.toml", ResultCodesFile, code_data)
    pcr_problems = files.read("problems.toml", ProblemsFile)
    priority = files.read("priority.toml", PriorityFile)
    zones = files.read("zones.toml", ZonesFile)
    scripts = files.scripts(names)
    rules = files.contact_rules()
    offers = files.read("offers.toml", OffersFile, **names)
    targets = files.read("targets.toml", TargetsFile) if (folder / "targets.toml").is_file() else None
    assignment = files.assignment(names)
    if (
        files.problems
        or buckets is None
        or codes is None
        or pcr_problems is None
        or priority is None
        or zones is None
        or scripts is None
        or rules is None
        or offers is None
    ):
        return None, files.problems
    policy = Policy(
        buckets.bucket_set(),
        codes.catalog(),
        pcr_problems.problems(),
        priority.priority_points(),
        zones.zone_table(),
        scripts,
        rules,
        offers.offer_policy(),
        policy_hash(folder),
        folder,
        tz_database_version(),
        calendar_version(),
        targets.targets() if targets is not None else {},
        assignment or AssignmentRules(),
    )
    return policy, []


def read_assignment(folder: Path) -> tuple[AssignmentRules | None, list[str]]:
    """assignment.toml of a policy folder alone (what the server's import needs, without the rest of
    the policy), its bucket names checked against the folder's buckets.toml: the rules, or None and
    every problem. No assignment.toml: no rules, no problem."""
    if not folder.is_dir():
        return None, [f"{folder}: {message('not_a_folder', files='assignment.toml')}"]
    files = _Folder(folder)
    names = {"buckets": _defined(files.data("buckets.toml"), "bucket")}
    rules = files.assignment(names)
    return (rules if not files.problems else None), files.problems


def check_policy(folder: Path) -> list[str]:
    """Every problem of a policy folder, each naming its file and key; empty when it is sound."""
    return _read(folder)[1]


def load_policy(folder: Path | None = None) -> Policy:
    """The policy of a folder (the shipped one by default), or PolicyError listing every problem."""
    policy, found = _read(folder or default_policy_dir())
    if policy is None:
        raise PolicyError(found)
    return policy


def preset_rules(preset: str, overlays: tuple[str, ...] = (), folder: Path | None = None) -> RuleSet:
    """A preset with its overlays and no institution rules (tests), checked as contact_rules.toml
    would name them, or PolicyError."""
    files = _Folder(folder or default_policy_dir())
    names, models = files.presets()
    asked = files.validate("rules", ContactRulesFile, {"preset": preset, "overlays": list(overlays)}, **names)
    rules = _rules(models, asked) if asked is not None else None
    if rules is None:
        raise PolicyError(files.problems)
    return rules


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
