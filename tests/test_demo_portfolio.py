"""The demo portfolio: reproducible for a seed, and shaped like a Mexican collections book."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections import Counter
from pathlib import Path

import phonenumbers
import pytest
from conftest import NOW
from portfolio_fixtures import fill
from stdnum import luhn
from stdnum.mx import curp, rfc

from cobro_tui.demo.places import PLACES
from cobro_tui.demo.portfolio import CHUNK_ACCOUNTS, PortfolioSpec, generate_portfolio
from cobro_tui.domain.models import (
    ContactKind,
    Product,
    PromiseStatus,
    ReferenceRole,
    RestrictionKind,
)
from cobro_tui.policy import Policy, load_policy
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade

BORDER = {
    "Tijuana",
    "Mexicali",
    "Juárez",
    "Ojinaga",
    "Matamoros",
    "Reynosa",
    "Hermosillo",
    "Mazatlán",
    "Cancún",
    "Mérida",
    "Cuauhtémoc",
    "Guadalajara",
    "Monterrey",
}
TABLES = (
    "customer",
    "contact_point",
    "restriction",
    "account",
    "reference",
    "payment",
    "promise",
    "payment_plan",
    "plan_installment",
    "contact_attempt",
    "bucket_history",
)


@pytest.fixture(scope="module")
def book(policy: Policy) -> list:
    return list(generate_portfolio(PortfolioSpec(3000, 11, NOW, policy.buckets)))


def _digest(cache: CacheFile) -> str:
    engine = cache.open()
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in TABLES:
            order = "plan_id, number" if table == "plan_installment" else "id"
            for row in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}"):
                digest.update(repr(tuple(row)).encode())
    engine.dispose()
    return digest.hexdigest()


def _new_cache(path: Path) -> CacheFile:
    cache = CacheFile(path, secrets.token_bytes(32))
    engine = cache.open()
    upgrade(engine)
    engine.dispose()
    return cache


def test_same_seed_same_portfolio_whether_made_in_one_process_or_two(tmp_path: Path, policy: Policy) -> None:
    accounts = CHUNK_ACCOUNTS + 150  # two chunks
    one, two, other = (_new_cache(tmp_path / f"{n}.db") for n in ("one", "two", "other"))
    fill(one, policy, accounts=accounts, seed=5, workers=1)
    report = fill(two, policy, accounts=accounts, seed=5, workers=2)
    fill(other, policy, accounts=accounts, seed=6, workers=1)
    assert report.accounts == accounts
    assert _digest(one) == _digest(two)
    assert _digest(one) != _digest(other)


def test_exactly_the_requested_number_of_accounts(policy: Policy) -> None:
    for n in (0, 1, 7, CHUNK_ACCOUNTS, CHUNK_ACCOUNTS + 1):
        made = sum(len(c.accounts) for c in generate_portfolio(PortfolioSpec(n, 3, NOW, policy.buckets)))
        assert made == n


def test_customers_live_in_all_four_zones_and_on_the_border(book: list) -> None:
    places = {c.place.municipality for c in book}
    zones = {c.place.tz for c in book}
    assert places >= BORDER
    # Pacific (Tijuana), Mountain (Hermosillo, Mazatlán), Central (Mexico City) and Southeast (Cancún),
    # plus the border zones on US daylight time.
    assert {
        "America/Tijuana",
        "America/Hermosillo",
        "America/Mazatlan",
        "America/Mexico_City",
        "America/Cancun",
        "America/Ciudad_Juarez",
        "America/Ojinaga",
        "America/Matamoros",
    } <= zones
    for place in PLACES:
        assert len(place.inegi_code) == 5 and place.inegi_code.isdigit()


def test_identifiers_are_well_formed(book: list) -> None:
    for bundle in book[:500]:
        customer = bundle.customer
        assert curp.is_valid(customer.curp), customer.curp
        assert rfc.is_valid(customer.rfc, validate_check_digits=True), customer.rfc
        assert customer.curp[:10] == customer.rfc[:10]
        assert customer.curp[11:13] == bundle.place.curp_state
        for point in bundle.contact_points:
            if point.kind in (ContactKind.MOBILE, ContactKind.HOME, ContactKind.WORK, ContactKind.WHATSAPP):
                number = phonenumbers.parse(point.value, "MX")
                assert phonenumbers.is_possible_number(number), point.value
                # Stored in E.164, as every phone is: +52 and the place's area code.
                assert point.value == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                assert point.value.startswith("+52" + bundle.place.lada)
            assert point.municipality_code == bundle.place.inegi_code
        for item in bundle.accounts:
            if item.account.product is Product.CREDIT_CARD:
                assert luhn.is_valid(item.account.number)


def test_a_realistic_spread_of_products_buckets_and_balances(book: list, policy: Policy) -> None:
    accounts = [item.account for bundle in book for item in bundle.accounts]
    products = Counter(a.product for a in accounts)
    buckets = Counter(a.bucket for a in accounts)
    assert set(products) == set(Product)
    assert products[Product.CREDIT_CARD] > products[Product.AUTO_LOAN]
    assert set(buckets) == {b.code for b in policy.buckets.buckets}
    assert buckets["1-29"] > buckets["90-119"]
    for account in accounts:
        assert policy.buckets.bucket_for(account.dpd).code == account.bucket
        assert account.balance.centavos > 0 and account.past_due.centavos >= 0
        assert account.past_due.centavos <= account.balance.centavos
        assert account.min_to_cure.centavos >= account.past_due.centavos
    auto = sorted(a.principal.centavos for a in accounts if a.product is Product.AUTO_LOAN)
    card = sorted(a.principal.centavos for a in accounts if a.product is Product.CREDIT_CARD)
    assert auto[len(auto) // 2] > 3 * card[len(card) // 2]
    assert sum(1 for bundle in book if len(bundle.accounts) > 1) > len(book) * 0.15


def test_history_references_and_restrictions_are_there(book: list) -> None:
    items = [item for bundle in book for item in bundle.accounts]
    roles = Counter(ref.role for item in items for ref in item.references)
    assert set(roles) == set(ReferenceRole)
    assert sum(len(item.payments) for item in items) > len(items) * 0.5
    contacts = [c for item in items for c in item.contacts]
    assert contacts and all(c.started_at <= NOW for c in contacts)
    statuses = Counter(p.status for item in items for p in item.promises)
    assert {PromiseStatus.OPEN, PromiseStatus.KEPT, PromiseStatus.BROKEN} <= set(statuses)
    kinds = Counter(r.kind for bundle in book for r in bundle.restrictions)
    assert kinds[RestrictionKind.OPT_OUT] > 0 and kinds[RestrictionKind.WRONG_NUMBER] > 0
    points = [p for bundle in book for p in bundle.contact_points]
    assert any(p.opted_out for p in points) and any(p.wrong_number for p in points)
    for item in items:
        for plan in item.plans:
            assert plan.total.centavos >= item.account.past_due.centavos - plan.down_payment.centavos
        history = item.bucket_history
        assert history[-1].bucket == item.account.bucket and history[-1].left_on is None
        for before, after in itertools.pairwise(history):
            assert before.left_on == after.entered_on


def test_every_account_of_a_person_has_one_agent(policy: Policy) -> None:
    book = list(generate_portfolio(PortfolioSpec(500, 2, NOW, policy.buckets)))
    for bundle in book:
        assert len({item.account.assigned_agent for item in bundle.accounts}) == 1
    agents = Counter(item.account.assigned_agent for bundle in book for item in bundle.accounts)
    assert len(agents) == 10 and min(agents.values()) > 20


def test_inconvenient_words_are_never_issued_as_initials() -> None:
    from datetime import date

    from cobro_tui.demo.identity import curp as make_curp
    from cobro_tui.demo.identity import rfc as make_rfc

    # Pérez Ugalde, Tomás -> PEUT would be fine; Puente Torres, Olga -> PUTO must become PXTO.
    issued_curp = make_curp("Olga", "Puente", "Torres", date(1990, 5, 4), True, "DF", 3)
    issued_rfc = make_rfc("Olga", "Puente", "Torres", date(1990, 5, 4), 77)
    assert issued_curp.startswith("PXTO") and curp.is_valid(issued_curp)
    assert issued_rfc.startswith("PXTO") and rfc.is_valid(issued_rfc, validate_check_digits=True)


def test_bucket_histories_follow_on_without_gaps_and_some_accounts_cured_before() -> None:
    from collections import defaultdict
    from datetime import timedelta

    from cobro_tui.domain.kpi import roll_rates

    spec = PortfolioSpec(400, 3, NOW, load_policy().buckets)
    accounts = [a for bundle in generate_portfolio(spec) for a in bundle.accounts]
    histories: dict[str, list] = defaultdict(list)
    for item in accounts:
        for entry in item.bucket_history:
            histories[item.account.id].append(entry)
    for item in accounts:
        steps = sorted(histories[item.account.id], key=lambda e: e.entered_on)
        assert steps[0].entered_on == item.account.opened_on  # on the books from its opening day...
        assert all(a.left_on == b.entered_on for a, b in itertools.pairwise(steps))  # ...one stay after another
        assert steps[-1].left_on is None and steps[-1].bucket == item.account.bucket
    today = NOW.date()
    rates = roll_rates([e for h in histories.values() for e in h], today - timedelta(days=30), today)
    assert rates["1-29"].get("preventiva", 0) > 0  # some accounts late a month ago are current again
