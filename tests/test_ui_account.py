"""The account screen and its forms, driven through Pilot on a real cache: open the next account,
read it masked, show data (audited), take a promise, log a contact, see them pending."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW
from textual.widgets import Input, OptionList, Select, Static
from ui_support import demo_app, shown, text_of, top, wait_for

from cobro_tui.domain.phones import national
from cobro_tui.errors import UserFacingError
from cobro_tui.policy import Policy
from cobro_tui.ui.screens.account import AccountScreen
from cobro_tui.ui.screens.contact_form import ContactForm
from cobro_tui.ui.screens.help import HelpScreen
from cobro_tui.ui.screens.promise_form import PromiseForm
from cobro_tui.ui.screens.reveal_reason import RevealReason
from cobro_tui.ui.widgets.queue_table import QueueTable


def _db(app):
    return app.workstation.status.engine


async def _open_first(pilot) -> AccountScreen:
    table = pilot.app.screen.query_one(QueueTable)
    await wait_for(pilot, lambda: table.row_count > 0)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, AccountScreen) and pilot.app.screen.view is not None)
    return pilot.app.screen


async def _open_free(pilot) -> AccountScreen:
    """The first account in queue order with no open promise or plan (a new one would overlap)."""
    from cobro_tui.ui.messages import OpenAccount

    app = pilot.app
    first = await _open_first(pilot)
    accounts = app.workstation.accounts
    target = next(
        e.account_id
        for e in app.workstation.queue.page(None, 200).entries
        if not accounts.open(e.account_id).file.open_promises() and not accounts.open(e.account_id).file.plans
    )
    if target == first.account_id:
        return first
    app.post_message(OpenAccount(target))
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, AccountScreen) and app.screen.account_id == target and app.screen.view is not None
        ),
    )
    return app.screen


async def test_enter_opens_the_account_masked_and_showing_data_is_audited(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_first(pilot)
        view = shown(screen)
        heading = text_of(screen.query_one("#account-heading", Static))
        assert view.file.customer.full_name in heading and "días de atraso" in heading
        assert view.file.account.number not in heading and view.file.account.number[-4:] in heading
        points = text_of(screen.query_one("#panel-contact-points"))
        phones = [p.value for p in view.file.contact_points if p.kind.value in ("mobile", "home", "work")]
        assert phones and not any(phone in points or national(phone) in points for phone in phones)
        assert all(phone[-4:] in points for phone in phones)
        balances = text_of(screen.query_one("#panel-balances"))
        assert "Saldo total" in balances and "$" in balances
        with _db(app).connect() as conn:
            before = conn.exec_driver_sql(
                "SELECT count(*) FROM audit_event WHERE body LIKE '%pii.revealed%'"
            ).scalar_one()
        await pilot.press("v")  # asks why first
        await wait_for(pilot, lambda: isinstance(app.screen, RevealReason))
        asked = app.screen
        assert "motivo" in text_of(asked.query(Static).nodes[1])
        options = asked.query_one(OptionList)
        assert [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)][
            -1
        ] == "Revisión de supervisión"
        await pilot.press("down", "enter")  # the second reason
        await wait_for(pilot, lambda: app.screen is screen and screen.revealed)
        points = text_of(screen.query_one("#panel-contact-points"))
        assert all(national(phone) in points for phone in phones)  # stored in E.164, shown as dialled at home
        assert "bitácora" in str(screen.query_one("#account-privacy", Static).render())
        with _db(app).connect() as conn:
            after = conn.exec_driver_sql(
                "SELECT count(*) FROM audit_event WHERE body LIKE '%pii.revealed%'"
            ).scalar_one()
            bodies = [
                r[0] for r in conn.exec_driver_sql("SELECT body FROM audit_event WHERE body LIKE '%pii.revealed%'")
            ]
        assert after == before + 1
        event = json.loads(bodies[-1])
        assert event["data"]["reason"] == "payment_arrangement" and event["data"]["account_id"] == screen.account_id
        assert all(phone not in body for phone in phones for body in bodies)  # ids only, never the data
        assert view.file.account.number not in bodies[-1]
        await pilot.press("v")  # hides again, asking nothing
        await wait_for(pilot, lambda: not screen.revealed)
        assert app.screen is screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, AccountScreen))


async def test_escape_at_the_reason_shows_nothing_and_records_nothing(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_first(pilot)
        view = shown(screen)
        phones = [p.value for p in view.file.contact_points if p.kind.value in ("mobile", "home", "work")]
        with _db(app).connect() as conn:
            before = conn.exec_driver_sql("SELECT count(*) FROM audit_event").scalar_one()
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, RevealReason))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.pause()
        assert not screen.revealed
        points = text_of(screen.query_one("#panel-contact-points"))
        assert phones and not any(phone in points for phone in phones)
        heading = text_of(screen.query_one("#account-heading", Static))
        assert view.file.customer.rfc not in heading
        with pytest.raises(UserFacingError, match="catálogo"):  # a reason outside the catalog, neither
            app.workstation.accounts.reveal(shown(screen).file.account.id, "contact_data", "curiosity")
        with _db(app).connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM audit_event").scalar_one() == before


async def test_a_revealed_card_number_shows_no_more_than_its_first_six_and_last_four(
    tmp_path: Path, policy: Policy
) -> None:
    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_first(pilot)
        accounts = app.workstation.accounts
        card = next(
            e.account_id
            for e in app.workstation.queue.page(None, 200).entries
            if accounts.open(e.account_id).file.account.product.value == "tarjeta_credito"
        )
        from cobro_tui.ui.messages import OpenAccount

        app.post_message(OpenAccount(card))
        await wait_for(
            pilot, lambda: screen.account_id == card and screen.view is not None and screen.view.file.account.id == card
        )
        number = shown(screen).file.account.number
        assert number[6:-4] == "*" * (len(number) - 10)  # the cache holds the cut form only
        masked = text_of(screen.query_one("#account-heading", Static))
        assert number[:6] not in masked and number[-4:] in masked  # masked: the last four at most
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, RevealReason))
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.revealed)
        assert number in text_of(screen.query_one("#account-heading", Static))


async def test_a_promise_taken_in_the_form_is_saved_pending_and_shown(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_free(pilot)
        account_id = screen.account_id
        assert screen.view is not None
        pesos = -(-policy.offers.promise.minimum(shown(screen).file.account).centavos // 100)  # whole pesos
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, PromiseForm))
        await pilot.press(*str(pesos), "tab", *"30/11/2026")
        form = app.screen
        await wait_for(pilot, lambda: "cumple" in str(form.query_one("#promise-check", Static).render()))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(pilot, lambda: bool(screen.view and screen.view.file.promises))
        promises = text_of(screen.query_one("#panel-promises"))
        assert f"${pesos:,}.00" in promises and "30/11/2026" in promises and "Pendiente" in promises
        with _db(app).connect() as conn:
            outbox = conn.exec_driver_sql("SELECT name, account_id FROM outbox").all()
        assert [tuple(r) for r in outbox] == [("promise.create@1", account_id)]


async def test_a_promise_outside_the_rules_says_what_is_allowed_and_saves_nothing(
    tmp_path: Path, policy: Policy
) -> None:
    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_first(pilot)
        assert screen.view is not None
        account = shown(screen).file.account
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, PromiseForm))
        form = app.screen
        check = form.query_one("#promise-check", Static)
        await pilot.press(*"50", "tab", *"15/01/2027")
        await wait_for(pilot, lambda: "mínimo" in str(check.render()))
        text = str(check.render())
        rules = policy.offers.promise
        least = rules.minimum(account)
        assert f"El monto mínimo de una promesa es ${least.centavos / 100:,.2f}." in text
        days = rules.days_for(account.bucket)
        last_day = (NOW.date() + timedelta(days=days)).strftime("%d/%m/%Y")
        assert (
            f"En el tramo {account.bucket} la fecha de pago debe estar dentro de {days} días: a más tardar el {last_day}."
            in text
        )
        form.query_one("#promise-amount", Input).value = "doce"
        await wait_for(pilot, lambda: "no es un monto" in str(check.render()))
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.screen is form
        with _db(app).connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one() == 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))


async def test_a_logged_contact_is_pending_and_f5_moves_on_to_an_account_not_worked_today(
    tmp_path: Path, policy: Policy
) -> None:
    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_first(pilot)
        first = screen.account_id
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ContactForm))
        form = app.screen
        await pilot.press("ctrl+s")  # no result code yet
        await wait_for(pilot, lambda: "Falta" in str(form.query_one("#contact-check", Static).render()))
        form.query_one("#contact-result", Select).value = "NC"
        form.query_one("#contact-problem", Select).value = "desempleo"
        form.query_one("#contact-notes", Input).value = "No contestó; volver a llamar"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(
            pilot, lambda: screen.view is not None and any(c.sync_state == "pending" for c in screen.view.file.contacts)
        )
        history = text_of(screen.query_one("#panel-history"))
        assert "No contesta" in history and "Pendiente" in history
        with _db(app).connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT result_code, problem_code, notes, sync_state FROM contact_attempt "
                "WHERE account_id = ? AND sync_state = 'pending'",
                (first,),
            ).one()
        assert tuple(row) == ("NC", "desempleo", "No contestó; volver a llamar", "pending")
        await pilot.press("f5")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, AccountScreen) and app.screen.account_id != first and app.screen.view is not None
            ),
        )
        shown = [str(label.render()) for label in app.screen.query(".alert") if not label.has_class("-off")]
        assert "TRABAJADA HOY" not in " ".join(shown)


async def test_f1_lists_the_keys_of_the_screen_in_front(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_first(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = text_of(app.screen.query_one("#help-keys", Static))
        for described in ("Promesa", "Gestión", "Siguiente cuenta", "Ver datos", "Volver", "Salir"):
            assert described in keys
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))


async def test_the_call_guide_fits_the_bucket_and_its_ticked_steps_are_saved_with_the_contact(
    tmp_path: Path, policy: Policy
) -> None:
    import json

    from textual.widgets import SelectionList

    from cobro_tui.domain.scripts import choose_script

    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_first(pilot)
        account = shown(screen).file.account
        script = choose_script(policy.scripts, account.bucket, account.risk_segment)
        assert script is not None
        await pilot.press("f6")
        steps = screen.query_one("#guide-steps", SelectionList)
        await wait_for(pilot, lambda: steps.option_count > 0)
        assert script.name in str(screen.query_one("#guide-title", Static).render())
        expected = [s.id for s in script.steps_for(screen.first_contact())]
        assert [steps.get_option_at_index(i).value for i in range(steps.option_count)] == expected
        await pilot.press("space")
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        assert set(steps.selected) == set(expected[:2])
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ContactForm))
        app.screen.query_one("#contact-result", Select).value = "NC"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen)
        with _db(app).connect() as conn:
            saved = conn.exec_driver_sql(
                "SELECT script_steps FROM contact_attempt WHERE sync_state = 'pending'"
            ).scalar_one()
            outbox = conn.exec_driver_sql("SELECT args_json FROM outbox").scalar_one()
        assert sorted(json.loads(saved)) == sorted(expected[:2])
        assert sorted(json.loads(outbox)["script_steps"]) == sorted(expected[:2])
        await wait_for(pilot, lambda: steps.selected == [])  # the next call starts afresh


async def test_a_plan_is_previewed_as_it_is_typed_and_proposed_pending(tmp_path: Path, policy: Policy) -> None:
    from cobro_tui.ui.screens.plan_form import PlanForm

    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_free(pilot)
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanForm))
        form = app.screen
        preview = form.query_one("#plan-preview", Static)
        await wait_for(pilot, lambda: "6" in text_of(preview) and "Calendario" in text_of(preview))
        form.query_one("#plan-total", Input).value = "3000"
        form.query_one("#plan-down", Input).value = "600"
        form.query_one("#plan-count", Input).value = "3"
        await wait_for(pilot, lambda: "$800.00" in text_of(preview))
        lines = [line for line in text_of(preview).splitlines() if "$800.00" in line]
        assert len(lines) == 3
        form.query_one("#plan-count", Input).value = "tres"
        check = form.query_one("#plan-check", Static)
        await wait_for(pilot, lambda: "no es un número de pagos" in str(check.render()))
        form.query_one("#plan-count", Input).value = "3"
        await wait_for(pilot, lambda: "cumple" in str(check.render()))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(pilot, lambda: bool(screen.view and screen.view.file.plans))
        promises = text_of(screen.query_one("#panel-promises"))
        assert "Convenio" in promises and "$3,000.00" in promises and "Pendiente" in promises
        with _db(app).connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM outbox").scalars().all() == ["plan.propose@1"]
            plan_id = conn.exec_driver_sql("SELECT id FROM payment_plan WHERE sync_state = 'pending'").scalar_one()
            assert (
                conn.exec_driver_sql(
                    "SELECT sum(amount) FROM plan_installment WHERE plan_id = ?", (plan_id,)
                ).scalar_one()
                == 240000
            )


async def test_the_wrapup_line_takes_a_promise_through_the_same_rules(tmp_path: Path, policy: Policy) -> None:
    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_free(pilot)
        await pilot.press("colon")
        line = screen.query_one("#wrapup", Input)
        assert app.focused is line
        await pilot.press(*"p 50 30 spei", "enter")
        await pilot.pause(0.3)
        with _db(app).connect() as conn:
            # Below the minimum: no promise; what the agent saw goes to the server as a refusal.
            assert conn.exec_driver_sql("SELECT name FROM outbox").scalars().all() == ["decision.record@1"]
            assert conn.exec_driver_sql("SELECT count(*) FROM promise WHERE sync_state = 'pending'").scalar_one() == 0
        assert line.value == "p 50 30 spei"  # kept for correcting
        line.value = ""
        assert screen.view is not None
        pesos = -(-policy.offers.promise.minimum(shown(screen).file.account).centavos // 100)
        await pilot.press(*f"p {pesos} 30 spei", "enter")
        await wait_for(pilot, lambda: line.value == "")
        with _db(app).connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT amount, due_on, channel, sync_state FROM promise WHERE sync_state = 'pending'"
            ).one()
        assert tuple(row) == (pesos * 100, "2026-11-30", "spei", "pending")
        await pilot.press(*"g NC no contesta", "enter")
        await wait_for(pilot, lambda: line.value == "")
        with _db(app).connect() as conn:
            names = conn.exec_driver_sql("SELECT name FROM outbox ORDER BY client_seq").scalars().all()
        assert names == ["decision.record@1", "promise.create@1", "contact.log@1"]


async def test_a_callback_is_entered_in_the_debtors_time(tmp_path: Path, policy: Policy) -> None:
    from datetime import UTC, datetime

    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_first(pilot)
        zone = shown(screen).debtor_zone
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ContactForm))
        form = app.screen
        form.query_one("#contact-result", Select).value = "CB"
        form.query_one("#contact-callback-day", Input).value = "23/11"
        form.query_one("#contact-callback-time", Input).value = "25:00"
        await pilot.press("ctrl+s")
        check = form.query_one("#contact-check", Static)
        await wait_for(pilot, lambda: "no es una hora" in str(check.render()))
        form.query_one("#contact-callback-time", Input).value = "18:30"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen)
        with _db(app).connect() as conn:
            saved = conn.exec_driver_sql(
                "SELECT callback_at FROM contact_attempt WHERE sync_state = 'pending'"
            ).scalar_one()
        expected = datetime(2026, 11, 23, 18, 30, tzinfo=zone).astimezone(UTC)
        assert datetime.fromisoformat(saved) == expected


async def test_a_settlement_is_proposed_from_f3_with_its_discount_and_shown_on_the_account(
    tmp_path: Path, policy: Policy
) -> None:
    from cobro_tui.ui.messages import OpenAccount
    from cobro_tui.ui.screens.plan_form import PlanForm

    app = demo_app(tmp_path, policy, accounts=120)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_first(pilot)
        accounts = app.workstation.accounts
        target = next(
            e.account_id
            for e in app.workstation.queue.page(None, 120).entries
            if accounts.open(e.account_id).file.account.bucket in ("120+", "castigo")
            and not accounts.open(e.account_id).file.plans
        )
        app.post_message(OpenAccount(target))
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, AccountScreen)
                and app.screen.account_id == target
                and app.screen.view is not None
            ),
        )
        screen = top(app, AccountScreen)
        offers = text_of(screen.query_one("#panel-offers"))
        assert "Liquidación" in offers and "de descuento" in offers  # what the policy allows, with its figures
        balance = shown(screen).file.account.balance
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanForm))
        form = app.screen
        form.query_one("#plan-kind", Select).value = "settlement"
        limits = policy.offers.settlement.discounts(shown(screen).file.account.bucket, balance.centavos)
        pay = (
            balance.centavos - balance.centavos * (limits["agent"] + 5) // 100
        )  # above the agent's discount, a supervisor's to grant
        form.query_one("#plan-total", Input).value = f"{pay / 100:.2f}"
        form.query_one("#plan-down", Input).value = "0"
        form.query_one("#plan-count", Input).value = "1"
        check = form.query_one("#plan-check", Static)
        await wait_for(pilot, lambda: "Espera autorización de un supervisor" in str(check.render()))
        assert "excede su límite" in str(check.render())
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen and bool(screen.view and screen.view.file.plans))
        promises = text_of(screen.query_one("#panel-promises"))
        assert "Liquidación" in promises and "propuesta" in promises and "Pendiente" in promises  # the state wraps


async def test_c_cancels_the_running_promise_once_the_agent_says_yes(tmp_path: Path, policy: Policy) -> None:
    from cobro_tui.ui.screens.base import Confirm

    app = demo_app(tmp_path, policy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_free(pilot)
        account_id = screen.account_id
        await pilot.press("c")  # nothing running yet: said, nothing asked
        await pilot.pause()
        assert not isinstance(app.screen, Confirm)
        assert any("no tiene una promesa en curso" in n.message for n in app._notifications)
        least = policy.offers.promise.minimum(shown(screen).file.account)
        due = shown(screen).debtor_now.date() + timedelta(days=3)
        promise = app.workstation.promises.take(shown(screen).file.account.id, least, due, "spei")
        screen.load()
        await wait_for(pilot, lambda: bool(screen.view and screen.view.file.open_promises()))
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        assert "¿Cancelar la promesa de" in str(app.screen.query_one(".form-title", Static).render())
        await pilot.press("escape")  # no: nothing changes
        await wait_for(pilot, lambda: app.screen is screen)
        assert shown(screen).file.open_promises()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is screen and not screen.view.file.open_promises())  # type: ignore[union-attr]
        assert "Cancelada" in text_of(screen.query_one("#panel-promises"))
        with _db(app).connect() as conn:
            outbox = conn.exec_driver_sql("SELECT name, args_json FROM outbox ORDER BY client_seq").all()
            events = conn.exec_driver_sql("SELECT body FROM audit_event WHERE body LIKE '%promise.cancelled%'").all()
        assert [r[0] for r in outbox] == ["promise.create@1", "promise.cancel@1"]
        assert json.loads(outbox[1][1]) == {"promise_id": promise.id, "account_id": account_id}
        assert len(events) == 1
