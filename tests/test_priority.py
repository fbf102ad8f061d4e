"""The queue order: configured points per factor, kept in an indexed score, with reasons on demand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW
from portfolio_fixtures import fill

from cobro_tui.bootstrap import build_workstation
from cobro_tui.clock import FixedClock
from cobro_tui.domain.models import Channel
from cobro_tui.domain.priority import AccountFacts, PriorityPoints, reasons, score
from cobro_tui.errors import PolicyError
from cobro_tui.policy import Policy, check_policy, default_policy_dir, load_policy
from cobro_tui.settings import load_settings
from cobro_tui.store.engine import CacheFile

POINTS = PriorityPoints(risk={"A": 0, "E": 160})


def _facts(**changes: object) -> AccountFacts:
    base = {
        "account_id": "a1",
        "bucket_rank": 0,
        "past_due_centavos": 0,
        "risk_segment": "A",
        "last_contact_at": NOW - timedelta(days=1),
        "promise_due_today": False,
        "promise_broken": False,
        "contacted_today": False,
    }
    return AccountFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_each_factor_adds_its_configured_points_and_says_so() -> None:
    facts = _facts(bucket_rank=3, past_due_centavos=2_500_000, risk_segment="E", promise_due_today=True)
    found = {r.factor: r.points for r in reasons(facts, POINTS, NOW)}
    assert found == {"promise_due_today": 900, "bucket": 180, "past_due": 16, "risk": 160}
    assert score(facts, POINTS, NOW) == 900 + 180 + 16 + 160
    assert next(r.factor for r in reasons(facts, POINTS, NOW)) == "promise_due_today"  # largest first


def test_past_due_points_stop_at_their_cap_and_a_week_without_contact_counts() -> None:
    facts = _facts(past_due_centavos=10_000_000_000, last_contact_at=None)
    found = {r.factor: r.points for r in reasons(facts, POINTS, NOW)}
    assert found == {"past_due": 400, "not_contacted_7_days": 150}
    worked = _facts(contacted_today=True, last_contact_at=None)
    assert {r.factor: r.points for r in reasons(worked, POINTS, NOW)} == {"contacted_today": -500}


def test_a_bad_priority_file_is_refused_with_file_and_key(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)
    text = (folder / "priority.toml").read_text().replace("promise_broken = 700", 'promise_broken = "mucho"')
    (folder / "priority.toml").write_text(text + "\nsurprise = 1\n")
    problems = check_policy(folder)
    assert any("priority.toml: points.promise_broken: debe ser un número entero, no 'mucho'" in p for p in problems)
    with pytest.raises(PolicyError):
        load_policy(folder)


def _queue_ids(ws, limit: int = 500) -> list[str]:
    return [e.account_id for e in ws.queue.page(None, limit).entries]


def test_a_promise_due_today_brings_its_account_up_and_working_it_takes_it_down(
    cache_file: CacheFile, policy: Policy, clock: FixedClock
) -> None:
    fill(cache_file, policy, accounts=120)
    engine = cache_file.open()
    ws = build_workstation(engine, load_settings(), clock, policy, "agente01", "demo")
    ws.queue.rescore(None)
    page = ws.queue.page(None, 500)
    scores = [(e.priority, e.dpd) for e in page.entries]
    assert scores == sorted(scores, reverse=True)
    last = next(
        e for e in reversed(page.entries) if e.callable_now and not ws.accounts.open(e.account_id).file.open_promises()
    )
    # Promised yesterday for today: the promise is taken with yesterday's clock.
    yesterday = FixedClock(NOW - timedelta(days=1))
    earlier = build_workstation(engine, load_settings(), yesterday, policy, "agente01", "demo")
    least = policy.offers.promise.minimum(ws.accounts.open(last.account_id).file.account)
    earlier.promises.take(last.account_id, least, NOW.astimezone(ws.accounts.agent_zone).date(), "spei")
    ws.queue.rescore([last.account_id])
    position = _queue_ids(ws).index(last.account_id)
    assert position < 10
    assert "promise_due_today" in [r.factor for r in ws.queue.reasons(last.account_id)]
    customer = ws.accounts.open(last.account_id).file.account.customer_id
    ws.contacts.log(account_id=last.account_id, customer_id=customer, channel=Channel.VOICE, result_code="NC")
    assert _queue_ids(ws).index(last.account_id) > position  # rescored at once after the write
    assert "contacted_today" in [r.factor for r in ws.queue.reasons(last.account_id)]
    engine.dispose()


def test_scores_are_made_again_on_a_new_day(cache_file: CacheFile, policy: Policy) -> None:
    fill(cache_file, policy, accounts=30)
    engine = cache_file.open()
    today = build_workstation(engine, load_settings(), FixedClock(NOW), policy, "agente01", "demo")
    assert today.queue.ensure_today() is True
    assert today.queue.ensure_today() is False
    tomorrow = build_workstation(
        engine, load_settings(), FixedClock(NOW + timedelta(days=1)), policy, "agente01", "demo"
    )
    assert tomorrow.queue.ensure_today() is True
    engine.dispose()


def test_a_bad_script_is_refused_with_file_and_key(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)
    script = folder / "scripts" / "cobranza.toml"
    script.write_text(
        script.read_text()
        .replace('"castigo"]', '"castigo", "eterno"]')
        .replace('phase = "problema"', 'phase = "regaño"')
    )
    problems = check_policy(folder)
    assert any("cobranza.toml: buckets[5]: 'eterno' no es un tramo de buckets.toml" in p for p in problems), problems
    assert any("cobranza.toml: step[2].phase: debe ser uno de" in p and "no 'regaño'" in p for p in problems)


def test_a_callback_moves_its_account_to_the_top_when_its_time_comes(cache_file: CacheFile, policy: Policy) -> None:
    from cobro_tui.domain.account_file import Alert
    from cobro_tui.services.contacts import ContactRefused

    fill(cache_file, policy, accounts=60)
    engine = cache_file.open()
    now = build_workstation(engine, load_settings(), FixedClock(NOW), policy, "agente01", "demo")
    now.queue.rescore(None)
    last = next(e for e in reversed(now.queue.page(None, 500).entries) if e.callable_now)
    customer = now.accounts.open(last.account_id).file.account.customer_id
    with pytest.raises(ContactRefused, match="debe quedar en el futuro"):
        now.contacts.log(
            account_id=last.account_id,
            customer_id=customer,
            channel=Channel.VOICE,
            result_code="CB",
            callback_at=NOW - timedelta(minutes=1),
        )
    with pytest.raises(ContactRefused, match="dentro de 30 días"):
        now.contacts.log(
            account_id=last.account_id,
            customer_id=customer,
            channel=Channel.VOICE,
            result_code="CB",
            callback_at=NOW + timedelta(days=31),
        )
    now.contacts.log(
        account_id=last.account_id,
        customer_id=customer,
        channel=Channel.VOICE,
        result_code="CB",
        callback_at=NOW + timedelta(hours=2),
    )
    assert Alert.CALLBACK_DUE not in now.accounts.open(last.account_id).alerts
    later = build_workstation(
        engine, load_settings(), FixedClock(NOW + timedelta(hours=2, minutes=1)), policy, "agente01", "demo"
    )
    assert later.queue.rescore_callbacks_due(NOW) == 1
    assert _queue_ids(later)[0] == last.account_id
    assert later.queue.reasons(last.account_id)[0].factor == "callback_due"
    assert Alert.CALLBACK_DUE in later.accounts.open(last.account_id).alerts
    # Calling back clears it.
    later.contacts.log(account_id=last.account_id, customer_id=customer, channel=Channel.VOICE, result_code="NC")
    assert "callback_due" not in [r.factor for r in later.queue.reasons(last.account_id)]
    engine.dispose()


def test_a_start_scores_everything_only_when_the_data_or_the_day_changed(cache_file: CacheFile, policy: Policy) -> None:
    fill(cache_file, policy, accounts=30)
    engine = cache_file.open()
    ws = build_workstation(engine, load_settings(), FixedClock(NOW), policy, "agente01", "demo")
    assert ws.queue.ensure_current() is True  # never scored
    assert ws.queue.ensure_current() is False  # nothing changed
    with engine.begin() as conn:  # a headless `cobro-tui sync` brought pages
        conn.exec_driver_sql("UPDATE sync_meta SET cursor = 'e1.42' WHERE id = 1")
    assert ws.queue.ensure_current() is True
    with engine.begin() as conn:  # the app's own round scores what it touched and says so
        conn.exec_driver_sql("UPDATE sync_meta SET cursor = 'e1.43' WHERE id = 1")
    some = ws.queue.page(None, 1).entries[0]
    ws.queue.rescore_after_sync([some.account_id], [], everything=False)
    assert ws.queue.ensure_current() is False
    tomorrow = build_workstation(
        engine, load_settings(), FixedClock(NOW + timedelta(days=1)), policy, "agente01", "demo"
    )
    assert tomorrow.queue.ensure_current() is True
    engine.dispose()
