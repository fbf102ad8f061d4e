"""The contact rules in the workstation, through Pilot on a real cache: who is callable in the
queue, the badges and the explanation on the account, a blocked call refused with its reasons, an
opt-out recorded offline and in force at once, a supervisor's override."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import NOW
from textual.widgets import Input, Select, Static
from ui_support import demo_app, shown, text_of, wait_for

from cobro_tui.domain.models import Channel
from cobro_tui.policy import Policy
from cobro_tui.ui.screens.account import AccountScreen
from cobro_tui.ui.screens.contact_form import ContactForm
from cobro_tui.ui.screens.restriction_form import RestrictionForm
from cobro_tui.ui.screens.rules_view import RulesView
from cobro_tui.ui.widgets.queue_table import QueueTable

NIGHT = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 01:30 in Mexico City, 23:30 in Tijuana: nobody may be called


def _db(app):
    return app.workstation.status.engine


def _count(app, sql: str) -> int:
    with _db(app).connect() as conn:
        return conn.exec_driver_sql(sql).scalar_one()


async def _open(pilot, account_id: str | None = None) -> AccountScreen:
    from cobro_tui.ui.messages import OpenAccount

    app = pilot.app
    table = app.screen.query_one(QueueTable)
    await wait_for(pilot, lambda: table.row_count > 0)
    target = account_id or table.cursor_key
    app.post_message(OpenAccount(target))
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, AccountScreen) and app.screen.account_id == target and app.screen.view is not None
        ),
    )
    return app.screen


async def test_at_night_nobody_is_callable_and_a_call_is_refused_with_its_reasons(
    tmp_path: Path, policy: Policy
) -> None:
    app = demo_app(tmp_path, policy, now=NIGHT)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(QueueTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        calls = [table.get_row_at(row)[-1] for row in range(table.row_count)]
        assert not any(cell == "ahora" for cell in calls)
        assert sum(cell == "07:00" for cell in calls) > table.row_count // 2, calls  # the Centro zone opens at 07:00
        screen = await _open(pilot)
        points = text_of(screen.query_one("#panel-contact-points"))
        assert "✗ MX-1" in " ".join(points.split())  # the cell may wrap between the mark and the rule
        before = _count(app, "SELECT count(*) FROM contact_attempt")
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ContactForm))
        form = app.screen
        assert "MX-1" in text_of(form.query_one("#contact-check", Static))  # said before anything is typed
        form.query_one("#contact-result", Select).value = "NC"
        await pilot.press("ctrl+s")
        check = form.query_one("#contact-check", Static)
        await wait_for(pilot, lambda: "no permiten" in text_of(check))
        said = text_of(check)
        assert "MX-1" in said and "07:00" in said and "se permite desde" in said
        assert _count(app, "SELECT count(*) FROM contact_attempt") == before
        blocked = _count(app, 'SELECT count(*) FROM audit_event WHERE body LIKE \'%"type":"rules.blocked"%\'')
        assert blocked == 1
        # The debtor calling in is always allowed.
        form.query_one("#contact-direction", Select).value = "inbound"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        assert _count(app, "SELECT count(*) FROM contact_attempt") == before + 1


async def test_x_explains_every_rule_with_its_source(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy, now=NIGHT)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, RulesView))
        text = app.screen.query_one("#rules-text", Static)
        await wait_for(pilot, lambda: "MX-1" in text_of(text))
        said = text_of(text)
        assert "mx_condusef@" in said and "CONDUSEF" in said and app.workstation.policy.tz_version in said
        assert "✗ MX-1" in said and "✓ MX-5" in said and "INST-1" in said
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))


async def test_an_opt_out_recorded_offline_blocks_that_number_at_once(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy)  # a demo workstation: no server at all
    async with app.run_test(size=(120, 40)) as pilot:
        ws = app.workstation
        table = app.screen.query_one(QueueTable)
        await wait_for(pilot, lambda: table.row_count > 0)  # the queue's contact times are made by then
        target = next(e.account_id for e in ws.queue.page(None, 200).entries if e.callable_now)
        screen = await _open(pilot, target)
        phone = next(
            p
            for p in shown(screen).file.contact_points
            if p.id in shown(screen).rules
            and shown(screen).rules[p.id].channel is Channel.VOICE
            and shown(screen).rules[p.id].decision.allowed
        )
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, RestrictionForm))
        app.screen.query_one("#restriction-what", Select).value = f"point:{phone.id}"
        app.screen.query_one("#restriction-note", Input).value = "pidió no llamarle a este número"
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, AccountScreen)
                and app.screen.view is not None
                and not app.screen.view.rules[phone.id].decision.allowed
            ),
        )
        assert "✗ MX-OPT" in text_of(app.screen.query_one("#panel-contact-points"))
        assert _count(app, "SELECT count(*) FROM outbox WHERE name = 'restriction.request@1'") == 1
        with pytest.raises(Exception, match="MX-OPT"):
            ws.contacts.log(
                account_id=target,
                customer_id=shown(screen).file.customer.id,
                channel=Channel.VOICE,
                result_code="NC",
                contact_point_id=phone.id,
            )


async def test_the_callable_now_filter(tmp_path: Path, policy: Policy) -> None:
    from textual.widgets import Checkbox

    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(QueueTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        everyone = table.row_count
        await pilot.press("slash")
        await wait_for(pilot, lambda: app.screen.query("#filter-callable"))
        app.screen.query_one("#filter-callable", Checkbox).value = True
        await pilot.press("ctrl+s")
        heading = app.screen.query_one("#queue-heading", Static)
        await wait_for(pilot, lambda: "llamables" in str(heading.render()))
        await wait_for(pilot, lambda: table.row_count > 0)
        assert 0 < table.row_count < everyone
        calls = {table.get_row_at(row)[-1] for row in range(table.row_count)}
        assert calls == {"ahora"}


def test_a_supervisor_override_needs_a_reason_and_is_logged_as_such(tmp_path: Path, policy: Policy) -> None:
    from cobro_tui.services.contacts import ContactRefused

    agent = demo_app(tmp_path / "agent", policy, now=NIGHT).workstation
    account = agent.queue.page(None, 1).entries[0].account_id
    customer = agent.accounts.open(account).file.customer.id
    with pytest.raises(ContactRefused, match="Solo un supervisor"):
        agent.contacts.log(
            account_id=account,
            customer_id=customer,
            channel=Channel.VOICE,
            result_code="NC",
            override_reason="El deudor pidió que le llamáramos ya",
        )
    boss = demo_app(tmp_path / "boss", policy, now=NIGHT, role="supervisor").workstation
    account = boss.queue.page(None, 1).entries[0].account_id
    customer = boss.accounts.open(account).file.customer.id
    with pytest.raises(ContactRefused, match="al menos 15"):
        boss.contacts.log(
            account_id=account, customer_id=customer, channel=Channel.VOICE, result_code="NC", override_reason="ok"
        )
    logged = boss.contacts.log(
        account_id=account,
        customer_id=customer,
        channel=Channel.VOICE,
        result_code="NC",
        override_reason="Urgencia: el deudor pidió la llamada por escrito",
    )
    assert logged.outbox.args["override_reason"] == "Urgencia: el deudor pidió la llamada por escrito"
    with boss.status.engine.connect() as conn:
        bodies = [json.loads(b) for b in conn.exec_driver_sql("SELECT body FROM audit_event ORDER BY seq").scalars()]
    override = next(b for b in bodies if b["type"] == "rules.override")
    assert override["data"]["outcome"] == "blocked" and "override_reason_sha256" in override["data"]
    assert "Urgencia" not in json.dumps(bodies)  # the reason travels with the contact, not in the log
    # In hours the rules allow the call: an override is not needed and not taken.
    day = demo_app(tmp_path / "day", policy, now=NOW + timedelta(hours=1), role="supervisor").workstation
    day.queue.rescore(None)
    free = next(e.account_id for e in day.queue.page(None, 200).entries if e.callable_now)
    with pytest.raises(ContactRefused, match="no hace falta"):
        day.contacts.log(
            account_id=free,
            customer_id=day.accounts.open(free).file.customer.id,
            channel=Channel.VOICE,
            result_code="NC",
            override_reason="Urgencia: el deudor pidió la llamada",
        )


def test_a_callback_the_debtor_asked_for_is_outside_the_daily_cap(tmp_path: Path, policy: Policy) -> None:
    from cobro_tui.bootstrap import build_workstation
    from cobro_tui.clock import FixedClock
    from cobro_tui.services.contacts import ContactRefused
    from cobro_tui.settings import load_settings

    app = demo_app(tmp_path, policy)
    ws = app.workstation
    ws.queue.rescore(None)
    account = next(e.account_id for e in ws.queue.page(None, 200).entries if e.callable_now)
    customer = ws.accounts.open(account).file.customer.id
    for minutes in (90, 60):
        ws.contacts.log(
            account_id=account,
            customer_id=customer,
            channel=Channel.VOICE,
            result_code="NC",
            started_at=NOW - timedelta(minutes=minutes),
        )
    ws.contacts.log(
        account_id=account,
        customer_id=customer,
        channel=Channel.VOICE,
        result_code="CB",
        callback_at=NOW + timedelta(hours=3),
    )
    # Three attempts today: the institution's cap (INST-1) refuses a fourth call now...
    with pytest.raises(ContactRefused, match="INST-1"):
        ws.contacts.log(account_id=account, customer_id=customer, channel=Channel.VOICE, result_code="NC")
    # ...but not the call back at the time the debtor asked for.
    engine = ws.status.engine
    later = build_workstation(
        engine, load_settings(), FixedClock(NOW + timedelta(hours=3, minutes=2)), policy, "agente01", "demo"
    )
    logged = later.contacts.log(
        account_id=account,
        customer_id=customer,
        channel=Channel.VOICE,
        result_code="PP",
        problem_code="desempleo",
        circumstance="perdió el empleo en octubre",
        resolution="promesa de pago",
    )
    assert logged.attempt.result_code == "PP"
    with pytest.raises(ContactRefused, match="INST-1"):  # an hour after it, the cap holds again
        build_workstation(
            engine, load_settings(), FixedClock(NOW + timedelta(hours=4)), policy, "agente01", "demo"
        ).contacts.log(account_id=account, customer_id=customer, channel=Channel.VOICE, result_code="NC")
