"""Payment plans: exact schedules, the limits with their messages, and a plan proposed on the
workstation reaching the server once and coming back synced."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import NOW
from hypothesis import given
from hypothesis import strategies as st
from sync_support import make_station, running_server, server_view

from cobro_tui.clock import FixedClock
from cobro_tui.domain.money import Money
from cobro_tui.domain.plans import Frequency, due_dates, schedule
from cobro_tui.policy import Policy


@pytest.fixture
def server(tmp_path: Path):
    with running_server(tmp_path, accounts=60, seed=3) as running:
        yield running


@given(
    total=st.integers(1, 10**10),
    down_share=st.floats(0, 0.9),
    count=st.integers(1, 24),
    frequency=st.sampled_from(list(Frequency)),
    start=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
)
def test_a_schedule_adds_up_to_the_centavo_in_order(
    total: int, down_share: float, count: int, frequency: Frequency, start: date
) -> None:
    down = Money(int(total * down_share))
    items = schedule(Money(total), down, count, start, frequency)
    assert len(items) == count
    assert down.centavos + sum(i.amount.centavos for i in items) == total
    amounts = [i.amount.centavos for i in items]
    assert max(amounts[:-1] or [amounts[-1]]) == min(amounts[:-1] or [amounts[-1]])  # equal but the last
    assert 0 <= amounts[-1] - amounts[0] < count
    days = [i.due_on for i in items]
    assert days == sorted(days) and len(set(days)) == count and days[0] == start


def test_monthly_dates_keep_the_day_of_the_month_where_they_can() -> None:
    assert due_dates(date(2027, 1, 31), 4, Frequency.MONTHLY) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert due_dates(date(2026, 12, 15), 3, Frequency.BIWEEKLY) == [
        date(2026, 12, 15),
        date(2026, 12, 29),
        date(2027, 1, 12),
    ]


def test_a_plan_outside_the_limits_says_what_is_allowed(tmp_path: Path, policy: Policy, clock: FixedClock) -> None:
    from portfolio_fixtures import fill

    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.services.promises import problem_text
    from cobro_tui.settings import load_settings
    from cobro_tui.store.engine import CacheFile
    from cobro_tui.store.migrate import upgrade

    cache = CacheFile(tmp_path / "c.db", bytes(range(32)))
    engine = cache.open()
    upgrade(engine)
    fill(cache, policy, accounts=5)
    ws = build_workstation(engine, load_settings(), clock, policy, "agente01", "demo")
    account_id = ws.queue.page(None, 1).entries[0].account_id
    account = ws.accounts.open(account_id).file.account
    balance = account.balance
    most = policy.offers.plan.max_installments(account.bucket, balance.centavos)
    today = NOW.date()
    texts = [
        problem_text(p)
        for p in ws.plans.preview(
            account_id, balance + Money(100), balance + Money(100), 30, today - timedelta(days=1), Frequency.MONTHLY
        ).problems
    ]
    assert any(t.startswith("El total del convenio debe ser mayor que cero y no exceder el saldo") for t in texts)
    assert any(t.startswith("El enganche no puede ser negativo ni igual o mayor") for t in texts)
    assert f"En el tramo {account.bucket} y con este saldo, el número de pagos debe estar entre 1 y {most}." in texts
    assert any(t.startswith("El primer pago debe caer entre hoy") for t in texts)
    small = [
        problem_text(p)
        for p in ws.plans.preview(account_id, Money(50000), Money(5000), 5, today, Frequency.WEEKLY).problems
    ]
    assert small == ["Cada pago debe ser de al menos $200.00; reduzca el número de pagos."]
    no_down = [
        problem_text(p)
        for p in ws.plans.preview(account_id, Money(50000), Money(4999), 1, today, Frequency.WEEKLY).problems
    ]
    assert no_down == ["El enganche debe ser de al menos el 10% del total: $50.00."]
    engine.dispose()


def test_a_proposed_plan_reaches_the_server_once_and_comes_back_synced(
    tmp_path: Path,
    server,
    clock: FixedClock,
    policy: Policy,
) -> None:
    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.settings import load_settings

    station = make_station(tmp_path, "plan", server[1].url, "agente01", clock, policy)
    assert station.round().ok
    ws = build_workstation(station.cache, load_settings(), clock, policy, "agente01", "live")
    account_id = next(
        a
        for a, _ in station.accounts()
        if not ws.accounts.open(a).file.plans and ws.accounts.open(a).file.account.balance.centavos > 100_000
    )
    balance = ws.accounts.open(account_id).file.account.balance
    down = Money(-(-balance.centavos * policy.offers.plan.min_down_percent // 100))
    plan = ws.plans.propose(account_id, balance, down, 4, NOW.date() + timedelta(days=3), Frequency.MONTHLY)
    report = station.round()
    assert report.ok and report.applied == 1
    again = ws.plans.preview(account_id, balance, down, 2, NOW.date(), Frequency.MONTHLY)
    assert [p.key for p in again.problems] == ["plan.overlap"]
    with station.cache.connect() as conn:
        state = conn.exec_driver_sql("SELECT sync_state FROM payment_plan WHERE id = ?", (plan.id,)).scalar_one()
        rows = conn.exec_driver_sql("SELECT count(*) FROM plan_installment WHERE plan_id = ?", (plan.id,)).scalar_one()
    assert state == "synced" and rows == 4
    assert station.view() == server_view(server[0], "agente01")


def test_the_agreement_document_splits_the_amount_by_part_and_names_only_the_institutions_account(
    tmp_path: Path, policy: Policy, clock: FixedClock
) -> None:
    from portfolio_fixtures import fill

    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.domain.agreements import apportion, check_digit, payment_reference
    from cobro_tui.domain.models import PlanKind
    from cobro_tui.errors import UserFacingError
    from cobro_tui.settings import load_settings
    from cobro_tui.store.engine import CacheFile
    from cobro_tui.store.migrate import upgrade

    cache = CacheFile(tmp_path / "c.db", bytes(range(32)))
    engine = cache.open()
    upgrade(engine)
    fill(cache, policy, accounts=40)
    ws = build_workstation(engine, load_settings(), clock, policy, "agente01", "demo")
    account_id = next(
        e.account_id
        for e in ws.queue.page(None, 40).entries
        if not ws.accounts.open(e.account_id).file.plans
        and ws.accounts.open(e.account_id).file.account.bucket in ("120+", "castigo")
    )
    with pytest.raises(UserFacingError, match="no tiene un convenio"):
        ws.plans.document(account_id)
    account = ws.accounts.open(account_id).file.account
    pay = Money(account.balance.centavos * 80 // 100)  # 20 % off: within the agent's discount here
    plan = ws.plans.propose(
        account_id, pay, Money(0), 2, NOW.date() + timedelta(days=3), Frequency.BIWEEKLY, kind=PlanKind.SETTLEMENT
    )
    text_path, html_path = ws.plans.save_document(account_id, tmp_path / "docs")
    text, page = text_path.read_text(), html_path.read_text()
    covered = apportion(account, pay)
    assert sum(m.centavos for m in covered.values()) == pay.centavos  # split by part to the centavo
    assert covered["fees"] == account.fees  # costs are covered first
    assert "Liquidación con descuento" in text and "Descuento (se condona)" in text
    assert f"${(account.balance.centavos - pay.centavos) / 100:,.2f}" in text
    for item in plan.installments:
        assert item.due_on.strftime("%d/%m/%Y") in text
    institution = policy.offers.institution
    assert institution.clabe in text and payment_reference(account) in text and institution.clabe in page
    assert account.number not in text and account.number not in page  # the full number stays masked
    reference = payment_reference(account)
    assert reference[-1] == check_digit(reference[:-1]) and len(reference) == 13
    assert page.startswith("<!DOCTYPE html>") and "&lt;" not in institution.name and "<td>" in page
    engine.dispose()
