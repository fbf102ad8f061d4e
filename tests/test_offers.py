"""The offer policy (config/offers.toml): its checks as tables, the schedules it makes, and the
problems `config check` finds in it, named by file and key."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobro_tui.domain.models import Account, Product, Promise, PromiseStatus, Stage
from cobro_tui.domain.money import Money
from cobro_tui.domain.offers import (
    broken_recently,
    check_plan,
    check_promise,
    check_restructure,
    check_settlement,
    discount_percent,
    offers_for,
)
from cobro_tui.domain.plans import Frequency, business_day, schedule
from cobro_tui.i18n import set_language
from cobro_tui.policy import Policy, check_policy, default_policy_dir

TODAY = date(2026, 11, 23)  # a Monday


def account(
    bucket: str = "30-59", balance: int = 1_000_000, past_due: int = 200_000, min_to_cure: int = 150_000
) -> Account:
    """An account whose balance is all principal (centavos)."""
    return Account(
        id="a1",
        customer_id="c1",
        number="5555000011112222",
        product=Product.CREDIT_CARD,
        principal=Money(balance),
        interest=Money(0),
        fees=Money(0),
        vat=Money(0),
        past_due=Money(past_due),
        min_to_cure=Money(min_to_cure),
        dpd=45,
        bucket=bucket,
        stage=Stage.COLLECTION,
        risk_segment="B",
        assigned_agent="agente01",
        opened_on=date(2020, 1, 1),
    )


def promise(amount: int, due_on: date, status: PromiseStatus = PromiseStatus.OPEN) -> Promise:
    from datetime import UTC, datetime

    return Promise(
        id=f"p{amount}{due_on}",
        account_id="a1",
        amount=Money(amount),
        due_on=due_on,
        channel="spei",
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
        created_by="agente01",
        status=status,
    )


def keys(verdict) -> list[str]:
    return [p.key for p in verdict.problems]


@pytest.mark.parametrize(
    ("bucket", "amount", "due", "expected"),
    [
        ("30-59", 150_000, TODAY, []),  # the minimum to cure, today
        ("30-59", 149_999, TODAY, ["promise.too_small"]),  # a centavo short
        ("30-59", 150_000, TODAY + timedelta(days=15), []),  # the last day for 30-59 (default 15)
        ("30-59", 150_000, TODAY + timedelta(days=16), ["promise.too_far"]),
        ("1-29", 150_000, TODAY + timedelta(days=20), []),  # 1-29 allows 20
        ("1-29", 150_000, TODAY + timedelta(days=21), ["promise.too_far"]),
        ("castigo", 150_000, TODAY + timedelta(days=30), []),
        ("30-59", 150_000, TODAY - timedelta(days=1), ["promise.in_past"]),
        ("30-59", 1_000_001, TODAY, ["promise.above_balance"]),
    ],
)
def test_promise_limits_by_bucket(policy: Policy, bucket: str, amount: int, due: date, expected: list[str]) -> None:
    verdict = check_promise(account(bucket), [], 0, Money(amount), due, TODAY, policy.offers)
    assert keys(verdict) == expected
    assert verdict.approval is None


def test_the_promise_minimum_follows_its_basis_floor_and_balance(policy: Policy) -> None:
    rules = policy.offers.promise
    assert rules.minimum(account(min_to_cure=150_000)) == Money(150_000)
    assert rules.minimum(account(min_to_cure=5_000)) == Money(10_000)  # never below the floor of $100
    assert rules.minimum(account(balance=8_000, min_to_cure=8_000)) == Money(8_000)  # never above the balance
    half = replace(rules, min_basis="past_due", min_percent=50)
    assert half.minimum(account(past_due=200_001)) == Money(100_001)  # rounded up to the centavo


def test_broken_promises_send_a_new_one_to_a_supervisor_and_overlap_refuses(policy: Policy) -> None:
    history = [
        promise(150_000, TODAY - timedelta(days=10), PromiseStatus.BROKEN),
        promise(150_000, TODAY - timedelta(days=40), PromiseStatus.BROKEN),
        promise(150_000, TODAY - timedelta(days=120), PromiseStatus.BROKEN),
    ]  # too old to count
    assert broken_recently(history, TODAY) == 2
    verdict = check_promise(account(), [], broken_recently(history, TODAY), Money(150_000), TODAY, TODAY, policy.offers)
    assert verdict.allowed and verdict.approval == "supervisor"
    assert [p.key for p in verdict.why] == ["offer.why_broken"]
    assert check_promise(account(), [], 1, Money(150_000), TODAY, TODAY, policy.offers).approval is None
    open_one = [promise(150_000, TODAY + timedelta(days=3))]
    assert keys(check_promise(account(), open_one, 0, Money(150_000), TODAY, TODAY, policy.offers)) == [
        "promise.overlap"
    ]


@pytest.mark.parametrize(
    ("bucket", "balance", "count", "expected"),
    [
        ("30-59", 4_999_999, 6, []),
        ("30-59", 4_999_999, 7, ["plan.count_range"]),  # below $50,000: 6 at most
        ("30-59", 5_000_000, 12, []),  # from $50,000: 12
        ("90-119", 5_000_000, 24, []),
        ("90-119", 5_000_000, 25, ["plan.count_range"]),
    ],
)
def test_plan_terms_by_bucket_and_balance(
    policy: Policy, bucket: str, balance: int, count: int, expected: list[str]
) -> None:
    acc = account(bucket, balance)
    down = Money(-(-balance // 10))
    verdict = check_plan(
        acc, [], Money(balance), down, count, TODAY + timedelta(days=7), "monthly", TODAY, policy.offers
    )
    assert keys(verdict) == expected


def test_plan_down_payment_frequency_and_the_buckets_without_plans(policy: Policy) -> None:
    acc = account()
    first = TODAY + timedelta(days=7)
    assert keys(check_plan(acc, [], Money(1_000_000), Money(99_999), 3, first, "monthly", TODAY, policy.offers)) == [
        "plan.down_small"
    ]
    assert keys(check_plan(acc, [], Money(1_000_000), Money(100_000), 3, first, "daily", TODAY, policy.offers)) == [
        "plan.bad_frequency"
    ]
    offers = replace(policy.offers, plan=replace(policy.offers.plan, terms=()))
    assert keys(check_plan(acc, [], Money(1_000_000), Money(100_000), 3, first, "monthly", TODAY, offers)) == [
        "plan.not_offered"
    ]


@pytest.mark.parametrize(
    ("bucket", "balance", "pay_share", "level", "approval", "expected"),
    [
        ("120+", 1_000_000, 70, "agent", None, []),  # 30 % off: the agent's own limit
        ("120+", 1_000_000, 69, "agent", "supervisor", []),  # 31 %: a supervisor
        ("120+", 1_000_000, 55, "agent", "supervisor", []),  # 45 %: still the supervisor's
        ("120+", 1_000_000, 54, "agent", "manager", []),  # 46 %: a manager
        ("120+", 1_000_000, 39, "agent", None, ["settlement.discount_too_big"]),  # 61 %: nobody
        ("120+", 1_000_000, 60, "manager", None, []),  # a manager grants 40 % alone
        ("30-59", 1_000_000, 100, "agent", None, ["settlement.amount_range"]),
        ("30-59", 1_000_000, 99, "agent", "supervisor", []),  # agents grant no discount in early buckets
    ],
)
def test_settlement_discounts_by_authority(
    policy: Policy, bucket: str, balance: int, pay_share: int, level: str, approval: str | None, expected: list[str]
) -> None:
    acc = account(bucket, balance)
    pay = Money(balance * pay_share // 100)
    verdict = check_settlement(acc, pay, TODAY + timedelta(days=5), TODAY, level, policy.offers)
    assert keys(verdict) == expected
    if not expected:
        assert verdict.approval == approval


def test_the_55_percent_settlement_needs_the_supervisor_exactly(policy: Policy) -> None:
    # 45 % off is within the supervisor's 45 %, so the supervisor (not the manager) approves it.
    verdict = check_settlement(
        account("120+"), Money(550_000), TODAY + timedelta(days=5), TODAY, "agent", policy.offers
    )
    assert verdict.approval == "supervisor" and discount_percent(Money(1_000_000), Money(550_000)) == 45


def test_a_restructure_always_needs_a_supervisor(policy: Policy) -> None:
    verdict = check_restructure(account("90-119"), Money(50_000), 48, "monthly", policy.offers)
    assert verdict.allowed and verdict.approval == "supervisor"
    wrong = check_restructure(account("1-29"), Money(49_999), 49, "weekly", policy.offers)
    assert keys(wrong) == ["restructure.bucket", "restructure.down", "restructure.count", "plan.bad_frequency"]


def test_offers_are_ranked_and_within_the_users_authority(policy: Policy) -> None:
    found = offers_for(account("120+"), [], 0, TODAY, "agent", policy.offers)
    assert [o.kind for o in found] == ["promise_cure", "promise_past_due", "settlement", "plan", "restructure"]
    settlement = found[2]
    assert settlement.discount == 30 and settlement.amount == Money(700_000) and settlement.approval is None
    plan = found[3]
    assert plan.down is not None and plan.each is not None
    assert (
        plan.down.centavos + plan.each.centavos * plan.count
        <= 1_000_000
        < plan.down.centavos + plan.each.centavos * (plan.count + 1)
    )
    assert found[4].approval == "supervisor"
    early = offers_for(account("1-29"), [], 0, TODAY, "agent", policy.offers)
    assert "settlement" not in [o.kind for o in early] and "restructure" not in [o.kind for o in early]


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(1, 10**9),
    count=st.integers(1, 24),
    frequency=st.sampled_from(list(Frequency)),
    start=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
)
def test_plan_installments_fall_on_business_days_and_add_up(
    policy: Policy, total: int, count: int, frequency: Frequency, start: date
) -> None:
    holidays = policy.offers.holidays
    down = Money(total // 10)
    items = schedule(Money(total), down, count, start, frequency, holidays)
    assert down.centavos + sum(i.amount.centavos for i in items) == total
    days = [i.due_on for i in items]
    assert all(d.weekday() < 5 and d not in holidays for d in days)
    assert days == sorted(days) and len(set(days)) == count


def test_mexican_holidays_move_a_due_date() -> None:
    from cobro_tui.policy import load_policy

    holidays = load_policy().offers.holidays
    assert date(2026, 11, 16) in holidays  # Revolution Day, third Monday of November
    assert business_day(date(2026, 11, 16), holidays) == date(2026, 11, 17)
    assert business_day(date(2026, 12, 25), holidays) == date(2026, 12, 28)  # Christmas, a Friday
    # The banks' own closing days (offers.toml bank_holidays): Holy Thursday and Friday, 12 December.
    assert business_day(date(2026, 4, 2), holidays) == date(2026, 4, 6)
    assert business_day(date(2028, 12, 12), holidays) == date(2028, 12, 13)  # a Tuesday
    # Holy Week from Easter every year ("easter-3", "easter-2"), past any year written out: Easter 2035 is 25 March.
    assert {date(2035, 3, 22), date(2035, 3, 23), date(2029, 3, 29), date(2029, 3, 30)} <= holidays
    assert date(2035, 3, 21) not in holidays and date(2035, 3, 24) not in holidays  # a Wednesday and a Saturday


def test_config_check_names_the_file_and_key_of_offer_problems(tmp_path: Path) -> None:
    set_language("en")
    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)
    text = (folder / "offers.toml").read_text()
    text = text.replace('min_basis = "min_to_cure"', 'min_basis = "saldo"')
    text = text.replace('"1-29" = 20', '"1-29" = "veinte"')
    text = text.replace("agent = 30\nsupervisor = 45", "agent = 50\nsupervisor = 45")
    text = text.replace('frequencies = ["weekly", "biweekly", "monthly"]', 'frequencies = ["daily"]')
    text = text.replace('calendar = "MX"', 'calendar = "ZZ"')
    text = text.replace('"12-12",', '"12-32", "easter+x",')
    text = text.replace("max_balance = 5000000\nmax_installments = 6", "max_balance = 0\nmax_installments = 6")
    (folder / "offers.toml").write_text(text)
    problems = check_policy(folder)
    where = str(folder / "offers.toml")
    assert f"{where}: promise.min_basis: must be one of past_due, min_to_cure; not 'saldo'" in problems
    assert f"{where}: promise.max_days.1-29: must be a whole number, not 'veinte'" in problems
    assert (
        f"{where}: settlement.band[3].supervisor: 45 is below agent (50): discounts must not fall as authority rises"
        in problems
    )
    assert f"{where}: plan.frequencies[0]: must be one of weekly, biweekly, monthly; not 'daily'" in problems
    assert f"{where}: calendar: 'ZZ' is not a country code the holidays library knows, such as MX" in problems
    written = ' is not a date; write "YYYY-MM-DD", "MM-DD" or days from Easter Sunday such as "easter-2" (Good Friday)'
    assert f"{where}: bank_holidays[1]: '12-32'{written}" in problems
    assert f"{where}: bank_holidays[2]: 'easter+x'{written}" in problems
    assert f"{where}: plan.term[0].max_balance: must be above min_balance (0), not 0" in problems
    assert check_policy(default_policy_dir()) == []


def test_a_promise_result_needs_the_whole_pcr_where_the_policy_says_so(tmp_path: Path, policy: Policy) -> None:
    from conftest import NOW
    from portfolio_fixtures import fill

    from cobro_tui.clock import FixedClock
    from cobro_tui.domain.models import Channel, Direction
    from cobro_tui.errors import UserFacingError
    from cobro_tui.services.contacts import ContactService
    from cobro_tui.store.device import ensure_device
    from cobro_tui.store.engine import CacheFile
    from cobro_tui.store.migrate import upgrade

    cache = CacheFile(tmp_path / "c.db", bytes(range(32)))
    engine = cache.open()
    upgrade(engine)
    fill(cache, policy, accounts=5)
    contacts = ContactService(engine, FixedClock(NOW), policy, ensure_device(engine, "agente01"))
    with engine.connect() as conn:
        account_id, customer_id = conn.exec_driver_sql("SELECT id, customer_id FROM account LIMIT 1").one()
    # Inbound: the contact rules do not come into it.
    base = {
        "account_id": account_id,
        "customer_id": customer_id,
        "channel": Channel.VOICE,
        "direction": Direction.INBOUND,
    }
    with pytest.raises(UserFacingError) as refused:
        contacts.log(**base, result_code="PP", problem_code="desempleo")
    assert (
        refused.value.message
        == "Una gestión con resultado PP lleva el PCR completo; falta: la circunstancia, la resolución."
    )
    contacts.log(**base, result_code="NC")  # no PCR asked for a no-answer
    logged = contacts.log(
        **base,
        result_code="PP",
        problem_code="desempleo",
        circumstance="sin empleo desde octubre",
        resolution="promesa del mínimo el día 30",
    )
    assert logged.attempt.problem_code == "desempleo"
    engine.dispose()


def test_config_check_names_an_unknown_result_code_in_the_pcr_rule(tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)
    text = (
        (folder / "offers.toml")
        .read_text()
        .replace('required_with = ["PP", "CONV"]', 'required_with = ["PP", "PROMESA"]')
    )
    (folder / "offers.toml").write_text(text)
    problems = check_policy(folder)
    assert any(
        p.startswith(f"{folder / 'offers.toml'}: pcr.required_with[1]: 'PROMESA' no es un código de result_codes.toml")
        for p in problems
    )
