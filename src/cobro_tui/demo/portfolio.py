"""The demo portfolio generator: customers, accounts and their history, as domain objects.

Deterministic for (seed, as_of, size): the same arguments give the same portfolio byte for byte.
It streams customer by customer so that 100,000 accounts never sit in memory at once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import accumulate
from typing import TypeVar
from zoneinfo import ZoneInfo

from faker import Faker

from cobro_tui.demo.identity import curp, luhn_complete, rfc
from cobro_tui.demo.places import PLACES, Place
from cobro_tui.domain.buckets import BucketSet
from cobro_tui.domain.ids import seeded_uuid7
from cobro_tui.domain.models import (
    Account,
    BucketHistoryEntry,
    Channel,
    ContactAttempt,
    ContactKind,
    ContactPoint,
    Customer,
    Direction,
    Installment,
    InstallmentStatus,
    Payment,
    PaymentPlan,
    PlanStatus,
    Product,
    Promise,
    PromiseStatus,
    Provenance,
    Reference,
    ReferenceRole,
    Restriction,
    RestrictionKind,
    Stage,
)
from cobro_tui.domain.money import Money

T = TypeVar("T")

DEMO_AGENTS: tuple[str, ...] = tuple(f"agente{n:02d}" for n in range(1, 11))

# Share of accounts by bucket code; the set in config decides the dpd ranges.
BUCKET_MIX = {"preventiva": 10, "1-29": 33, "30-59": 18, "60-89": 12, "90-119": 9, "120+": 11, "castigo": 7}
PRODUCT_MIX = (
    (Product.CREDIT_CARD, 45),
    (Product.PERSONAL_LOAN, 25),
    (Product.PAYROLL_LOAN, 20),
    (Product.AUTO_LOAN, 10),
)
# Principal in pesos: median and spread (log-normal) by product.
PRINCIPAL = {
    Product.CREDIT_CARD: (18_000, 0.8),
    Product.PERSONAL_LOAN: (45_000, 0.7),
    Product.PAYROLL_LOAN: (25_000, 0.6),
    Product.AUTO_LOAN: (210_000, 0.5),
}
TERM_MONTHS = {Product.CREDIT_CARD: 18, Product.PERSONAL_LOAN: 24, Product.PAYROLL_LOAN: 18, Product.AUTO_LOAN: 48}
PAYMENT_CHANNELS = ("spei", "oxxo", "ventanilla", "domiciliacion", "app")
# Result codes of earlier calls, weighted as a real floor sees them.
CALL_RESULTS = (
    ("NC", 30),
    ("BZ", 18),
    ("OCUP", 6),
    ("TERC", 8),
    ("PP", 12),
    ("NEG", 5),
    ("CB", 6),
    ("YAPAGO", 3),
    ("NUMERR", 2),
    ("DISP", 1),
)
_CALL_CODES = [code for code, _ in CALL_RESULTS]
_CALL_CUM = list(accumulate(weight for _, weight in CALL_RESULTS))
_TALKED = frozenset(("PP", "NEG", "CB", "YAPAGO", "DISP"))
_PRODUCTS = [product for product, _ in PRODUCT_MIX]
_PRODUCT_CUM = list(accumulate(weight for _, weight in PRODUCT_MIX))
_PHONE_KINDS = frozenset((ContactKind.MOBILE, ContactKind.HOME, ContactKind.WORK))
PROBLEMS = ("desempleo", "enfermedad", "sobreendeudamiento", "reduccion_ingresos", "olvido", "inconformidad")
RELATIONSHIPS = ("hermano(a)", "madre", "padre", "compañero(a) de trabajo", "amigo(a)", "tío(a)", "cónyuge")


@dataclass(slots=True)
class AccountBundle:
    account: Account
    references: list[Reference] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)
    plans: list[PaymentPlan] = field(default_factory=list)
    contacts: list[ContactAttempt] = field(default_factory=list)
    bucket_history: list[BucketHistoryEntry] = field(default_factory=list)


@dataclass(slots=True)
class CustomerBundle:
    customer: Customer
    place: Place
    contact_points: list[ContactPoint] = field(default_factory=list)
    restrictions: list[Restriction] = field(default_factory=list)
    accounts: list[AccountBundle] = field(default_factory=list)


def _pesos(value: float) -> Money:
    """A generated peso figure rounded to the centavo (the float stays inside the generator)."""
    return Money(round(value * 100))


# Accounts per chunk: each chunk has its own random stream, so chunks can be made in parallel
# and the portfolio is still the same for a seed.
CHUNK_ACCOUNTS = 2000


@dataclass(frozen=True, slots=True)
class PortfolioSpec:
    """What to generate: the same spec always gives the same portfolio."""

    accounts: int
    seed: int
    as_of: datetime
    buckets: BucketSet
    agents: tuple[str, ...] = DEMO_AGENTS

    def __post_init__(self) -> None:
        if self.accounts < 0:
            raise ValueError("the number of accounts cannot be negative")
        if not self.agents:
            raise ValueError("a portfolio needs at least one agent")

    @property
    def chunk_count(self) -> int:
        return -(-self.accounts // CHUNK_ACCOUNTS)


# Entries of Faker's es_MX lists that are typos ("Jos" for José).
_FAKER_TYPOS = frozenset({"Jos"})


@cache
def _names() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Faker's es_MX name lists (female, male, last names), drawn with our own seeded stream."""
    person = Faker("es_MX").provider("faker.providers.person")

    def clean(names: Sequence[str]) -> tuple[str, ...]:
        return tuple(name for name in names if name not in _FAKER_TYPOS)

    return clean(person.first_names_female), clean(person.first_names_male), clean(person.last_names)


class _Generator:
    def __init__(self, spec: PortfolioSpec, chunk: int) -> None:
        self.rng = random.Random(spec.seed * 1_000_003 + chunk)
        self.female_names, self.male_names, self.last_names = _names()
        self.as_of = spec.as_of.astimezone(UTC)
        self.today = self.as_of.date()
        self.ms = int(self.as_of.timestamp() * 1000)
        self.agents = spec.agents
        self.buckets = spec.buckets
        self.places = PLACES
        self.place_cum = list(accumulate(p.weight for p in PLACES))
        self.bucket_codes = [b.code for b in spec.buckets.buckets]
        self.bucket_cum = list(accumulate(BUCKET_MIX.get(code, 5) for code in self.bucket_codes))
        self.zones = {p.tz: ZoneInfo(p.tz) for p in PLACES}
        self.account_serial = chunk * CHUNK_ACCOUNTS
        self.id_serial = 0
        # A chunk makes far fewer than 10**7 ids; chunks keep to their own millisecond ranges.
        self.id_base_ms = self.ms - 10 * 365 * 86_400_000 + chunk * 10**7

    def uid(self) -> str:
        # Ids rise in generation order (one millisecond apart, starting years back), so bulk
        # inserts append to the primary-key b-trees instead of splitting pages at random.
        self.id_serial += 1
        return seeded_uuid7(self.id_base_ms + self.id_serial, self.rng)

    def between(self, low: int, high: int) -> int:
        """A whole number in [low, high]; cheaper than randint on the hot path."""
        return low + int(self.rng.random() * (high - low + 1))

    def pick(self, items: Sequence[T]) -> T:
        """One item of a non-empty sequence; cheaper than Random.choice on the hot path."""
        return items[int(self.rng.random() * len(items))]

    def person_name(self) -> str:
        rng = self.rng
        first = self.pick(self.female_names if rng.random() < 0.5 else self.male_names)
        return f"{first} {self.pick(self.last_names)} {self.pick(self.last_names)}"

    def phone(self, place: Place) -> str:
        """A Mexican number of the place's area code, in E.164 as every phone is stored (+52 and ten digits)."""
        digits = 10 - len(place.lada)
        return "+52" + place.lada + str(self.between(10 ** (digits - 1) * 2, 10**digits - 1))

    def customer(self) -> CustomerBundle:
        rng = self.rng
        place = rng.choices(self.places, cum_weights=self.place_cum)[0]
        female = rng.random() < 0.48
        first = self.pick(self.female_names if female else self.male_names)
        paternal, maternal = self.pick(self.last_names), self.pick(self.last_names)
        age_days = self.between(21 * 365, 78 * 365)
        birth = self.today - timedelta(days=age_days)
        cid = self.uid()
        customer = Customer(
            id=cid,
            full_name=f"{first} {paternal} {maternal}",
            rfc=rfc(first, paternal, maternal, birth, self.between(0, 34 * 34 - 1)),
            curp=curp(first, paternal, maternal, birth, female, place.curp_state, self.between(0, 9)),
            birth_date=birth,
        )
        bundle = CustomerBundle(customer, place)
        self.contact_points(bundle, first, paternal)
        return bundle

    def contact_points(self, bundle: CustomerBundle, first: str, paternal: str) -> None:
        rng, place, cid = self.rng, bundle.place, bundle.customer.id
        points = bundle.contact_points

        def add(kind: ContactKind, value: str, **flags: bool) -> ContactPoint:
            point = ContactPoint(
                id=self.uid(),
                customer_id=cid,
                kind=kind,
                value=value,
                provenance=Provenance.DEBTOR if rng.random() < 0.15 else Provenance.CREDITOR,
                state_code=place.inegi_code[:2],
                municipality_code=place.inegi_code,
                postal_code=place.postal_prefix + f"{self.between(0, 999):03d}",
                **flags,
            )
            points.append(point)
            return point

        mobile = self.phone(place)
        add(
            ContactKind.MOBILE,
            mobile,
            is_primary=True,
            consent_sms=rng.random() < 0.7,
            opted_out=rng.random() < 0.03,
            wrong_number=rng.random() < 0.04,
        )
        if rng.random() < 0.25:
            add(ContactKind.MOBILE, self.phone(place), consent_sms=rng.random() < 0.5, wrong_number=rng.random() < 0.06)
        if rng.random() < 0.5:
            add(ContactKind.HOME, self.phone(place), opted_out=rng.random() < 0.02, wrong_number=rng.random() < 0.05)
        if rng.random() < 0.3:
            add(ContactKind.WORK, self.phone(place), opted_out=rng.random() < 0.03)
        if rng.random() < 0.45:
            add(ContactKind.WHATSAPP, mobile, consent_whatsapp=rng.random() < 0.8)
        if rng.random() < 0.6:
            user = f"{first.split()[0]}.{paternal}".lower().replace(" ", "")
            user = user.translate(str.maketrans("áéíóúüñ", "aeiouun"))
            domain = self.pick(("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx", "prodigy.net.mx"))
            add(ContactKind.EMAIL, f"{user}{self.between(0, 99)}@{domain}", consent_email=rng.random() < 0.6)
        for point in points:
            if point.opted_out:
                bundle.restrictions.append(
                    Restriction(
                        id=self.uid(),
                        customer_id=cid,
                        kind=RestrictionKind.OPT_OUT,
                        created_at=self.as_of - timedelta(days=rng.uniform(1, 200)),
                        source="debtor",
                        contact_point_id=point.id,
                        note="Solicitud de no contacto (REUS/propia)",
                    )
                )
            if point.wrong_number:
                bundle.restrictions.append(
                    Restriction(
                        id=self.uid(),
                        customer_id=cid,
                        kind=RestrictionKind.WRONG_NUMBER,
                        created_at=self.as_of - timedelta(days=rng.uniform(1, 100)),
                        source="agent",
                        contact_point_id=point.id,
                    )
                )
        roll = rng.random()
        for kind, share in (
            (RestrictionKind.DISPUTE, 0.01),
            (RestrictionKind.CEASE, 0.005),
            (RestrictionKind.DECEASED, 0.002),
        ):
            if roll < share:
                bundle.restrictions.append(
                    Restriction(
                        id=self.uid(),
                        customer_id=cid,
                        kind=kind,
                        created_at=self.as_of - timedelta(days=rng.uniform(1, 60)),
                        source="debtor",
                    )
                )
                break
            roll -= share

    def account(self, bundle: CustomerBundle, agent: str) -> AccountBundle:
        rng = self.rng
        product = rng.choices(_PRODUCTS, cum_weights=_PRODUCT_CUM)[0]
        bucket = self.buckets.by_code(rng.choices(self.bucket_codes, cum_weights=self.bucket_cum)[0])
        low = max(bucket.min_dpd, -5)
        high = bucket.max_dpd if bucket.max_dpd is not None else low + 540
        dpd = self.between(low, high)
        median, spread = PRINCIPAL[product]
        principal_pesos = round(rng.lognormvariate(0, spread) * median, -1)
        installment = principal_pesos / TERM_MONTHS[product] * 1.25
        months_late = max(0, -(-dpd // 30))
        interest = principal_pesos * 0.035 * (months_late + rng.uniform(0.5, 1.5))
        fees = 450.0 * min(months_late, 4)
        vat = (interest + fees) * 0.16
        past_due = min(installment * months_late, principal_pesos + interest)
        self.account_serial += 1
        if product is Product.CREDIT_CARD:
            number = luhn_complete(
                self.pick(("557910", "415231", "491566", "547046")) + f"{self.between(0, 10**9 - 1):09d}"
            )
        else:
            number = f"{self.pick(('71', '72', '73'))}{self.account_serial:08d}{self.between(0, 99):02d}"
        if dpd >= 180:
            stage = Stage.CHARGED_OFF
        elif dpd >= 120 and rng.random() < 0.4:
            stage = Stage.LEGAL
        elif dpd <= 0:
            stage = Stage.PREVENTIVE
        else:
            stage = Stage.COLLECTION
        risk = "ABCDE"[min(4, max(0, dpd // 45 + self.pick((-1, 0, 0, 1))))]
        # Opened at least three months before it first fell behind (drawn as before, then moved back if needed).
        opened = min(
            self.today - timedelta(days=self.between(200, 8 * 365)), self.today - timedelta(days=max(dpd, 0) + 90)
        )
        account = Account(
            id=self.uid(),
            customer_id=bundle.customer.id,
            number=number,
            product=product,
            principal=_pesos(principal_pesos),
            interest=_pesos(interest),
            fees=_pesos(fees),
            vat=_pesos(vat),
            past_due=_pesos(past_due),
            min_to_cure=_pesos(past_due + fees * 1.16),
            dpd=dpd,
            bucket=bucket.code,
            stage=stage,
            risk_segment=risk,
            assigned_agent=agent,
            opened_on=opened,
        )
        result = AccountBundle(account)
        self.references(result, bundle)
        self.history(result, bundle, installment)
        return result

    def references(self, result: AccountBundle, bundle: CustomerBundle) -> None:
        rng, account = self.rng, result.account
        for _ in range(self.pick((1, 1, 2))):
            result.references.append(
                Reference(
                    id=self.uid(),
                    account_id=account.id,
                    role=ReferenceRole.REFERENCE,
                    full_name=self.person_name(),
                    phone=self.phone(bundle.place),
                    relationship=self.pick(RELATIONSHIPS),
                )
            )
        role = None
        if account.product is Product.AUTO_LOAN and rng.random() < 0.3:
            role = ReferenceRole.GUARANTOR
        elif account.product is Product.PERSONAL_LOAN and rng.random() < 0.15:
            role = ReferenceRole.JOINT_OBLIGOR
        if role is not None:
            result.references.append(
                Reference(
                    id=self.uid(),
                    account_id=account.id,
                    role=role,
                    full_name=self.person_name(),
                    phone=self.phone(bundle.place),
                    relationship=self.pick(RELATIONSHIPS),
                )
            )

    def cured_episode(self, result: AccountBundle) -> None:
        """Half the accounts fell behind once before and cured, most of them lately: their time in the
        first bucket is split by an episode in the next one (a third of those rolled one bucket further).
        Drawn from a generator of the account's own, so the rest of the portfolio stays as it was."""
        rng = random.Random(f"{result.account.id}:cure")
        history, codes = result.bucket_history, [b.code for b in self.buckets.buckets]
        if len(codes) < 3 or not history or history[0].bucket != codes[0] or rng.random() >= 0.5:
            return
        first = history[0]
        end = first.left_on or self.today
        rolled = rng.random() < 0.3
        late, worse = (29, rng.randint(1, 25)) if rolled else (rng.randint(3, 25), 0)
        cured = end - timedelta(days=rng.randint(3, 60))
        start = cured - timedelta(days=late + worse)
        if (start - first.entered_on).days < 30:
            return

        def entry(bucket: str, entered: date, left: date | None) -> BucketHistoryEntry:
            return BucketHistoryEntry(
                seeded_uuid7(self.id_base_ms + self.id_serial, rng), result.account.id, bucket, entered, left
            )

        episode = [replace(first, left_on=start), entry(codes[1], start, start + timedelta(days=late))]
        if rolled:
            episode.append(entry(codes[2], start + timedelta(days=late), cured))
        episode.append(entry(codes[0], cured, first.left_on))
        history[0:1] = episode

    def history(self, result: AccountBundle, bundle: CustomerBundle, installment: float) -> None:
        rng, account, today = self.rng, result.account, self.today
        # Bucket history: one entry per bucket the account walked through on its way to today.
        for bucket in self.buckets.buckets:
            if bucket.min_dpd > account.dpd:
                break
            entered = (
                today - timedelta(days=account.dpd - max(bucket.min_dpd, 0))
                if bucket.min_dpd > 0
                else account.opened_on
            )
            left = (
                None if bucket.holds(account.dpd) else today - timedelta(days=account.dpd - (bucket.max_dpd or 0) - 1)
            )
            result.bucket_history.append(BucketHistoryEntry(self.uid(), account.id, bucket.code, entered, left))
        self.cured_episode(result)
        # Payments: the last ones came before the account fell behind.
        last_paid = None
        for _ in range(self.pick((0, 1, 1, 2, 3))):
            days_ago = max(account.dpd, 0) + self.between(1, 90)
            paid_on = today - timedelta(days=days_ago)
            result.payments.append(
                Payment(
                    id=self.uid(),
                    account_id=account.id,
                    amount=_pesos(round(installment * rng.uniform(0.3, 1.0), -1) or 100),
                    paid_on=paid_on,
                    channel=self.pick(PAYMENT_CHANNELS),
                    reference=f"REF{self.between(0, 10**10 - 1):010d}",
                )
            )
            last_paid = max(last_paid or paid_on, paid_on)
        # Earlier calls, in the debtor's daytime.
        zone = self.zones[bundle.place.tz]
        last_contact = None
        calls = 0 if account.dpd <= 0 else self.pick((0, 1, 2, 2, 3, 4, 5))
        phones = [p for p in bundle.contact_points if p.kind in _PHONE_KINDS]
        for _ in range(calls):
            day = today - timedelta(days=self.between(1, 30))
            local = datetime.combine(day, time(self.between(9, 20), self.between(0, 59)), zone)
            started = local.astimezone(UTC)
            code = rng.choices(_CALL_CODES, cum_weights=_CALL_CUM)[0]
            talked = code in _TALKED
            ended = started + timedelta(seconds=self.between(120, 600) if talked else self.between(15, 60))
            contact = ContactAttempt(
                id=self.uid(),
                account_id=account.id,
                customer_id=bundle.customer.id,
                channel=Channel.VOICE,
                direction=Direction.OUTBOUND,
                started_at=started,
                ended_at=ended,
                result_code=code,
                agent=account.assigned_agent,
                contact_point_id=self.pick(phones).id if phones else None,
                problem_code=self.pick(PROBLEMS) if talked else None,
            )
            result.contacts.append(contact)
            last_contact = max(last_contact or started, started)
            if code == "PP":
                self.promise(result, contact)
        if account.dpd > 30 and rng.random() < 0.03:
            self.plan(result)
        result.account = replace(account, last_payment_on=last_paid, last_contact_at=last_contact)

    def promise(self, result: AccountBundle, contact: ContactAttempt) -> None:
        rng, account = self.rng, result.account
        due = contact.started_at.date() + timedelta(days=self.between(2, 15))
        amount = max(round(account.past_due.centavos * rng.uniform(0.3, 1.0) / 5000) * 5000, 20000)
        grace = 2
        if (self.today - due).days <= grace:
            status, paid = PromiseStatus.OPEN, None
        else:
            roll = rng.random()
            status = (
                PromiseStatus.KEPT if roll < 0.45 else PromiseStatus.PARTIAL if roll < 0.55 else PromiseStatus.BROKEN
            )
            paid = Money(
                amount if status is PromiseStatus.KEPT else amount // 3 if status is PromiseStatus.PARTIAL else 0
            )
            if status is PromiseStatus.PARTIAL:
                status = PromiseStatus.BROKEN  # past its grace, a partial promise is broken
        result.promises.append(
            Promise(
                id=self.uid(),
                account_id=account.id,
                amount=Money(amount),
                due_on=due,
                channel=self.pick(PAYMENT_CHANNELS),
                created_at=contact.started_at,
                created_by=contact.agent,
                status=status,
                paid=paid,
                grace_days=grace,
            )
        )

    def plan(self, result: AccountBundle) -> None:
        account = result.account
        count = self.pick((3, 4, 6))
        down = Money(max(account.past_due.centavos // 10 // 100 * 100, 50000))
        rest = max(account.past_due.centavos - down.centavos, count * 100)
        share, remainder = divmod(rest, count)
        start = self.today - timedelta(days=self.between(0, 40))
        items = tuple(
            Installment(
                n,
                start + timedelta(days=30 * n),
                Money(share + (remainder if n == count else 0)),
                InstallmentStatus.KEPT if start + timedelta(days=30 * n) < self.today else InstallmentStatus.DUE,
            )
            for n in range(1, count + 1)
        )
        result.plans.append(
            PaymentPlan(
                id=self.uid(),
                account_id=account.id,
                down_payment=down,
                installments=items,
                created_at=datetime.combine(start, time(17, 0), UTC),
                created_by=account.assigned_agent,
                status=PlanStatus.ACTIVE,
            )
        )


def generate_chunk(spec: PortfolioSpec, chunk: int) -> list[CustomerBundle]:
    """Chunk number `chunk` of the portfolio: customers with CHUNK_ACCOUNTS accounts (fewer in the last)."""
    gen = _Generator(spec, chunk)
    size = min(CHUNK_ACCOUNTS, spec.accounts - chunk * CHUNK_ACCOUNTS)
    customers: list[CustomerBundle] = []
    made = 0
    while made < size:
        # A person keeps one agent for all their accounts.
        agent = spec.agents[(len(customers) + chunk) % len(spec.agents)]
        bundle = gen.customer()
        want = min(gen.rng.choices((1, 2, 3), cum_weights=(70, 92, 100))[0], size - made)
        for _ in range(want):
            bundle.accounts.append(gen.account(bundle, agent))
        made += want
        customers.append(bundle)
    return customers


def generate_portfolio(spec: PortfolioSpec) -> Iterator[CustomerBundle]:
    """The whole portfolio, customer by customer, chunk after chunk."""
    for chunk in range(spec.chunk_count):
        yield from generate_chunk(spec, chunk)
