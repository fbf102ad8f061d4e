"""The policy files of config/ as pydantic models, one per file: what each key means and takes.

Each model checks its own file: types, ranges and what its keys must agree on (buckets without
gaps, discounts that do not fall as authority rises). What a file names from another (bucket codes,
result codes) is checked against the names in the validation context, which policy.py fills from
the files it has read; without them (that file could not be read) the names go unchecked. Each
model builds the domain object it stands for.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated

from dateutil.easter import easter
from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from cobro_tui.config_errors import FileModel, checked, defined_in, fault, faults, once, one_of, parses, shown
from cobro_tui.domain.buckets import Bucket, BucketSet, bucket_set_faults
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
from cobro_tui.rules.presets import Channel
from cobro_tui.rules.zones import ZoneTable, is_zone

# Years of holidays a policy carries (the calendar library computes them; a release spans a few).
HOLIDAY_YEARS = range(2020, 2041)
EASTER = re.compile(r"easter([+-]\d{1,2})?")

BucketCode = Annotated[str, defined_in("buckets", "unknown_bucket")]
"""A bucket's code, one that buckets.toml defines."""
ResultCodeName = Annotated[str, defined_in("result_codes", "unknown_result_code")]
"""A result code, one that result_codes.toml defines."""
Zone = Annotated[str, checked(is_zone, "not_a_zone")]
"""An IANA time zone (America/Mexico_City)."""
Percent = Annotated[int, Field(ge=0, le=100)]
Installments = Annotated[int, Field(ge=1, le=120)]
# Bounds that keep every figure within what dates and the cache can hold (a policy of 10^20 days or
# pesos would pass its types and then fail the workstation): ten years, a thousand million pesos.
Days = Annotated[int, Field(ge=0, le=3650)]
DaysPast = Annotated[int, Field(ge=-3650, le=36500)]  # before the due date (preventive) to decades past
Amount = Annotated[int, Field(ge=0, le=10**11)]
Points = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
Count = Annotated[int, Field(ge=1, le=1000)]
Frequency = Annotated[str, one_of(FREQUENCIES)]


class PolicyFile(FileModel):
    """What every policy file may say of itself."""

    version: str = ""
    """The policy release the file belongs to (2026.11.1)."""


# --- buckets.toml ---------------------------------------------------------------------------


class BucketRow(FileModel):
    """One [[bucket]]: a tramo of days past due."""

    code: str
    """The bucket's code, as reports and the other policy files name it ("30-59")."""
    label_es: str
    """Its name on the agent's screen, in Spanish."""
    label_en: str
    """Its name in English."""
    min_dpd: DaysPast
    """The first day past due it holds; negative: days before the due date."""
    max_dpd: DaysPast | None = None
    """The last day past due it holds; left out in the last bucket only, which has no end."""

    def bucket(self) -> Bucket:
        return Bucket(self.code, self.label_es, self.label_en, self.min_dpd, self.max_dpd)


class BucketsFile(PolicyFile):
    """buckets.toml: the delinquency buckets, an ordered and gapless cover of days past due."""

    name: str = "estandar"
    """The bucket set's name."""
    bucket: list[BucketRow] = Field(min_length=1)
    """The buckets, lowest first: each starts the day after the one before it ends, the last is open-ended."""

    @field_validator("bucket")
    @classmethod
    def _gapless(cls, rows: list[BucketRow]) -> list[BucketRow]:
        found = bucket_set_faults([row.bucket() for row in rows])
        if found:
            raise faults(
                (
                    (f.index, f.key),
                    fault(f"bucket_{f.kind}", **{k: shown(v) for k, v in f.values.items()}),
                    getattr(rows[f.index], f.key),
                )
                for f in found
            )
        return rows

    def bucket_set(self) -> BucketSet:
        return BucketSet(self.name, tuple(row.bucket() for row in self.bucket))


# --- result_codes.toml and problems.toml ----------------------------------------------------


class ResultCodeRow(FileModel):
    """One [[code]]: a contact's result, and what it counts as."""

    code: Annotated[str, once("code")]
    """The code agents type (PP); each code once."""
    label_es: str
    """What it means, in Spanish."""
    label_en: str
    """What it means, in English."""
    worked: bool
    """Whether the account counts as handled."""
    right_party_contact: bool
    """Whether the agent spoke with the debtor."""
    attempt: bool
    """Whether it counts against the contact caps."""
    channels: list[Channel] = []
    """The channels it may be logged on; empty: every channel."""
    promise: bool = False
    """Whether it records a promise or an agreement (the promise rate counts them); a right-party contact only."""

    @field_validator("promise")
    @classmethod
    def _spoke_with_the_debtor(cls, promise: bool, info: ValidationInfo) -> bool:
        if promise and info.data.get("right_party_contact") is False:
            raise fault("promise_needs_rpc")
        return promise

    def result_code(self) -> ResultCode:
        return ResultCode(
            self.code,
            self.label_es,
            self.label_en,
            self.worked,
            self.right_party_contact,
            self.attempt,
            tuple(self.channels),
            self.promise,
        )


class ResultCodesFile(PolicyFile):
    """result_codes.toml: the catalogue of contact result codes."""

    code: list[ResultCodeRow] = Field(min_length=1)
    """The result codes agents choose from."""

    def catalog(self) -> ResultCodeCatalog:
        return ResultCodeCatalog(tuple(row.result_code() for row in self.code))


class ProblemRow(FileModel):
    """One [[problem]]: a reason for non-payment, the P of PCR."""

    code: Annotated[str, once("problem")]
    """The reason's code; each code once."""
    label_es: str
    """The reason, in Spanish."""
    label_en: str
    """The reason, in English."""


class ProblemsFile(PolicyFile):
    """problems.toml: the reasons for non-payment an agent picks from."""

    problem: list[ProblemRow] = Field(min_length=1)
    """The reasons, in the order the agent sees them."""

    def problems(self) -> tuple[PcrProblem, ...]:
        return tuple(PcrProblem(row.code, row.label_es, row.label_en) for row in self.problem)


# --- priority.toml --------------------------------------------------------------------------

_POINTS = PriorityPoints()  # a factor left out scores what the domain's default says


class PointsTable(FileModel):
    """[points]: what each factor adds to an account's score, in whole points; 0 switches it off."""

    callback_due: Points = _POINTS.callback_due
    """The debtor asked to be called back and the time has come."""
    promise_due_today: Points = _POINTS.promise_due_today
    """An open promise falls due today."""
    promise_broken: Points = _POINTS.promise_broken
    """An open promise is past its due date."""
    per_bucket_rank: Points = _POINTS.per_bucket_rank
    """Times the bucket's rank (0 for the least delinquent bucket)."""
    per_10k_past_due: Points = _POINTS.per_10k_past_due
    """Per $10,000 past due, up to max_past_due_points."""
    max_past_due_points: Points = _POINTS.max_past_due_points
    """The most points the past-due amount scores."""
    not_contacted_7_days: Points = _POINTS.not_contacted_7_days
    """Nobody has contacted the customer for a week or more."""
    contacted_today: Points = _POINTS.contacted_today
    """Someone already worked the customer today (usually negative)."""
    contact_allowed_now: Points = _POINTS.contact_allowed_now
    """The contact rules allow calling the debtor now."""
    risk: dict[str, int] = {}
    """Points by risk segment (A, B, ...)."""


class PriorityFile(PolicyFile):
    """priority.toml: how the work queue is ordered."""

    points: PointsTable
    """The points of each factor."""

    def priority_points(self) -> PriorityPoints:
        return PriorityPoints(**{**self.points.model_dump(), "risk": dict(self.points.risk)})


# --- zones.toml -----------------------------------------------------------------------------


def _digits(width: int) -> Callable[[str], bool]:
    return lambda code: len(code) == width and code.isdigit()


InegiState = Annotated[str, checked(_digits(2), "inegi_code", width=2)]
InegiMunicipality = Annotated[str, checked(_digits(5), "inegi_code", width=5)]
Zip3 = Annotated[str, checked(_digits(3), "zip3")]


class UsZones(FileModel):
    """[us]: the zones of the United States (Regulation F presets)."""

    states: dict[str, Annotated[list[Zone], Field(min_length=1)]] = {}
    """Each state's zones by USPS code, the main one first."""
    zip3: dict[Zip3, Zone] = {}
    """The zone by the ZIP code's first three digits, for the states that span zones."""


class ZonesFile(PolicyFile):
    """zones.toml: the time zone of a debtor's place."""

    fallback: Zone = "America/Mexico_City"
    """The zone of a Mexican place neither the municipality nor the state resolves."""
    states: dict[InegiState, Zone] = {}
    """Mexico's zones by 2-digit INEGI state code."""
    municipalities: dict[InegiMunicipality, Zone] = {}
    """Municipalities whose zone differs from their state's, by 5-digit INEGI code."""
    countries: dict[str, Zone] = {}
    """The zone of single-zone countries, by ISO code (CO, PE)."""
    us: UsZones = UsZones()
    """The United States' zones."""

    def zone_table(self) -> ZoneTable:
        return ZoneTable(
            dict(self.states),
            dict(self.municipalities),
            self.fallback,
            {state: tuple(zones) for state, zones in self.us.states.items()},
            dict(self.us.zip3),
            dict(self.countries),
        )


# --- scripts/*.toml -------------------------------------------------------------------------


class StepRow(FileModel):
    """One [[step]] of a call script."""

    id: str
    """The step's id."""
    phase: Annotated[str, one_of(PHASES)]
    """The part of the call it belongs to."""
    text_es: str
    """What the agent says or does, in Spanish."""
    text_en: str
    """The same, in English."""
    first_contact_only: bool = False
    """Whether the step is shown at the first contact only (the disclosures)."""


class ScriptFile(PolicyFile):
    """scripts/<name>.toml: a call guide for some buckets and risk segments."""

    name: str
    """The script's title on the agent's screen."""
    buckets: list[BucketCode]
    """The buckets it is for."""
    segments: list[str] = []
    """The risk segments it is for; empty: every segment."""
    step: list[StepRow] = Field(min_length=1)
    """The steps of the call, in order."""

    def script(self) -> Script:
        steps = (ScriptStep(s.id, s.phase, s.text_es, s.text_en, s.first_contact_only) for s in self.step)
        return Script(self.name, tuple(self.buckets), tuple(self.segments), tuple(steps))


# --- offers.toml ----------------------------------------------------------------------------


class PromiseDays(FileModel):
    """[promise.max_days]: the furthest due date of a promise, in days from the debtor's today, by bucket."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[BucketCode, Days]  # the buckets with days of their own

    default: Days
    """The days for the buckets not listed."""


class PromiseSection(FileModel):
    """[promise]: the smallest promise, how many may be open, and when one needs a supervisor."""

    min_basis: Annotated[str, one_of(MIN_BASES)]
    """What min_percent is a share of: the past-due amount or the minimum to cure."""
    min_percent: int = Field(ge=1, le=100)
    """The smallest promise, in percent of min_basis."""
    min_amount: Amount
    """The smallest promise in centavos (or the whole balance when that is less)."""
    max_open: Count
    """Promises an account may have open at once."""
    grace_days: int = Field(ge=0, le=30)
    """Days after its due date before an unpaid promise counts as broken."""
    broken_for_approval: Count
    """Broken promises in the last 90 days from which a new promise needs a supervisor."""
    max_days: PromiseDays
    """The furthest due date by bucket."""
    move_off_holidays: bool = True
    """Whether a due date on a weekend or holiday moves to the next business day."""


class BalanceBand(FileModel):
    """Rows that apply to some buckets and a balance band, from min_balance up to (not including) max_balance."""

    buckets: list[BucketCode] = Field(min_length=1)
    """The buckets the row applies to."""
    min_balance: Amount = 0
    """The lowest balance it applies to, in centavos."""
    max_balance: Amount | None = None
    """The balance it stops at, in centavos, above min_balance; left out: no upper end."""

    @field_validator("max_balance")
    @classmethod
    def _above_min(cls, high: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("min_balance")
        if high is not None and low is not None and high <= low:
            raise fault("balance_band", low=low)
        return high

    def band(self) -> Band:
        return Band(tuple(self.buckets), self.min_balance, self.max_balance)


class TermRow(BalanceBand):
    """One [[plan.term]]: the most installments in its band; the first row that fits applies."""

    max_installments: Installments
    """The most installments a plan may have here (1 to 120)."""


class PlanSection(FileModel):
    """[plan]: payment plans (convenios)."""

    min_down_percent: int = Field(ge=0, le=99)
    """The smallest down payment, in percent of the balance."""
    min_installment: Amount
    """The smallest installment, in centavos."""
    max_days_to_first: Annotated[int, Field(ge=1, le=3650)]
    """The furthest first installment, in days from today."""
    frequencies: list[Frequency] = Field(min_length=1)
    """How often installments may fall."""
    move_off_holidays: bool = True
    """Whether installments on weekends or holidays move to the next business day."""
    term: list[TermRow] = Field(min_length=1)
    """The most installments by bucket and balance."""


class SettlementRow(BalanceBand):
    """One [[settlement.band]]: the largest discount each authority level may grant, in percent of the balance."""

    agent: Percent
    """The agent's own authority."""
    supervisor: Percent
    """A supervisor's; at least the agent's."""
    manager: Percent
    """A manager's; at least the supervisor's."""

    @field_validator(*AUTHORITY[1:])
    @classmethod
    def _not_below_lower_level(cls, limit: int, info: ValidationInfo) -> int:
        lower = AUTHORITY[AUTHORITY.index(str(info.field_name)) - 1]
        below = info.data.get(lower)
        if below is not None and limit < below:
            raise fault("discounts_fall", lower=lower, limit=below)
        return limit


class SettlementSection(FileModel):
    """[settlement]: settlements (quita, liquidación); above the agent's discount a supervisor approves."""

    max_days_to_pay: Annotated[int, Field(ge=1, le=3650)]
    """Days the debtor has to pay a settlement."""
    max_installments: Annotated[int, Field(ge=1, le=360)]
    """Installments a settlement may be paid in."""
    band: list[SettlementRow] = Field(min_length=1)
    """The discounts by bucket and balance."""


class RestructureSection(FileModel):
    """[restructure]: new terms for the whole balance, always approved by a supervisor."""

    buckets: list[BucketCode] = Field(min_length=1)
    """The buckets that may be restructured."""
    min_down_percent: int = Field(ge=0, le=99)
    """The smallest down payment, in percent of the balance."""
    max_installments: Installments
    """The most installments (1 to 120)."""
    frequencies: list[Frequency] = Field(min_length=1)
    """How often installments may fall."""


class AgreementSection(FileModel):
    """[agreement]: who the debtor pays, on the agreement document: the institution's own account."""

    institution: str
    """The institution's legal name."""
    bank: str
    """The bank of its collection account."""
    clabe: Annotated[str, checked(_digits(18), "clabe")]
    """The 18-digit CLABE of its collection account."""
    phone: str
    """The phone the debtor calls."""


class PcrSection(FileModel):
    """[pcr]: the contacts that must say the Problem, the Circumstance and the Resolution."""

    required_with: list[ResultCodeName] = []
    """The result codes whose contacts carry the whole PCR."""


@functools.lru_cache(maxsize=8)
def statutory_holidays(country: str) -> frozenset[date]:
    """A country's statutory holidays over HOLIDAY_YEARS, from the holidays library (imported when a
    policy is read, not with this module: it is large); NotImplementedError for a country it lacks."""
    import holidays

    return frozenset(holidays.country_holidays(country, years=HOLIDAY_YEARS))


def bank_holiday_dates(text: str) -> set[date]:
    """The days a bank holiday names over HOLIDAY_YEARS: "YYYY-MM-DD" once; "MM-DD" every year;
    "easter-2" (Good Friday) days from Easter Sunday, every year. ValueError when it names none."""
    if EASTER.fullmatch(text):
        return {easter(year) + timedelta(days=int(text[6:] or 0)) for year in HOLIDAY_YEARS}
    if len(text) == 5:
        month, day_of_month = int(text[:2]), int(text[3:])
        return {date(year, month, day_of_month) for year in HOLIDAY_YEARS}
    return {date.fromisoformat(text)}


class OffersFile(PolicyFile):
    """offers.toml: what an agent may agree with a debtor, and what goes to a supervisor (amounts in
    centavos, shares in whole percents)."""

    calendar: str
    """Whose statutory holidays move due dates: a country code of the holidays library (MX)."""
    bank_holidays: list[Annotated[str, parses(bank_holiday_dates, "bank_holiday")]] = []
    """Days banks close besides: "YYYY-MM-DD" once, "MM-DD" every year, "easter-2" from Easter Sunday."""
    promise: PromiseSection
    """Promises to pay."""
    plan: PlanSection
    """Payment plans."""
    settlement: SettlementSection
    """Settlements."""
    restructure: RestructureSection
    """Restructures."""
    agreement: AgreementSection
    """The agreement document."""
    pcr: PcrSection = PcrSection()
    """Which contacts carry the PCR."""

    @field_validator("calendar")
    @classmethod
    def _known_calendar(cls, country: str) -> str:
        import holidays

        # Only a country code the library lists: any other name there (a module, a class) is not one.
        if country not in holidays.list_supported_countries():
            raise fault("not_a_calendar")
        try:
            statutory_holidays(country)  # computed once: the policy needs them anyway
        except NotImplementedError:
            raise fault("not_a_calendar") from None
        return country

    def offer_policy(self) -> OfferPolicy:
        promise, plan, settlement, restructure = self.promise, self.plan, self.settlement, self.restructure
        days_off = statutory_holidays(self.calendar).union(*map(bank_holiday_dates, self.bank_holidays))
        return OfferPolicy(
            self.calendar,
            PromisePolicy(
                promise.min_basis,
                promise.min_percent,
                promise.min_amount,
                promise.max_open,
                promise.grace_days,
                promise.broken_for_approval,
                {"default": promise.max_days.default, **(promise.max_days.model_extra or {})},
                promise.move_off_holidays,
            ),
            PlanPolicy(
                plan.min_down_percent,
                plan.min_installment,
                plan.max_days_to_first,
                tuple(plan.frequencies),
                plan.move_off_holidays,
                tuple(PlanTerm(term.band(), term.max_installments) for term in plan.term),
            ),
            SettlementPolicy(
                settlement.max_days_to_pay,
                settlement.max_installments,
                tuple(
                    SettlementBand(row.band(), {level: getattr(row, level) for level in AUTHORITY})
                    for row in settlement.band
                ),
            ),
            RestructurePolicy(
                tuple(restructure.buckets),
                restructure.min_down_percent,
                restructure.max_installments,
                tuple(restructure.frequencies),
            ),
            days_off,
            Institution(self.agreement.institution, self.agreement.bank, self.agreement.clabe, self.agreement.phone),
            frozenset(self.pcr.required_with),
        )


# --- targets.toml ---------------------------------------------------------------------------


class TeamRow(FileModel):
    """One [[team]]: what a team must recover each month."""

    team: Annotated[str, once("team")]
    """The team's name; each team once."""
    monthly: Annotated[int, Field(gt=0, le=10**13)]
    """The amount to recover a month, in centavos, above 0."""


class TargetsFile(PolicyFile):
    """targets.toml (may be left out): the recovery targets per team the KPI report sets payments against."""

    team: list[TeamRow] = Field(min_length=1)
    """The teams with a target."""

    def targets(self) -> dict[str, int]:
        return {row.team: row.monthly for row in self.team}
