"""The parts of the account screen as rows of text: what a view holds, worded and masked.

Plain functions from an AccountView to panel rows (widgets/table_panel.py), so the screen only
places them; styles stay in the .tcss (no colours here)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.text import Text

from cobro_tui.domain import masking
from cobro_tui.domain.models import ContactKind, ContactPoint
from cobro_tui.domain.phones import national
from cobro_tui.domain.priority import Reason
from cobro_tui.domain.text import shown_line
from cobro_tui.i18n import day, instant, language, money, number, t
from cobro_tui.rules.engine import Outcome
from cobro_tui.services.accounts import AccountView
from cobro_tui.services.rules import PointDecision, masked
from cobro_tui.ui.widgets.table_panel import Rows


def heading(view: AccountView, revealed: bool) -> Text:
    account, customer = view.file.account, view.file.customer
    number = account.number if revealed else masking.last_digits(account.number)
    first = t(
        "account.heading",
        name=shown_line(customer.full_name),
        product=t(f"product.{account.product.value}"),
        number=number,
        bucket=view.bucket.label(language()),
        dpd=account.dpd,
    )
    days = view.days_to_next_bucket
    roll = t("account.next_bucket", days=days) if days is not None else t("account.last_bucket")
    ids = t(
        "account.customer_ids",
        rfc=customer.rfc if revealed else masking.identifier(customer.rfc),
        curp=customer.curp if revealed else masking.identifier(customer.curp),
    )
    zone = view.debtor_zone.key
    second = f"{roll} · {ids} · " + t("account.debtor_time", time=instant(view.debtor_now)[-5:], zone=zone)
    return Text(f"{first}\n{second}")


def balances(view: AccountView) -> Rows:
    account = view.file.account
    rows = [
        (t(f"account.{key}"), money(amount))
        for key, amount in (
            ("principal", account.principal),
            ("interest", account.interest),
            ("fees", account.fees),
            ("vat", account.vat),
            ("total", account.balance),
            ("past_due", account.past_due),
            ("min_to_cure", account.min_to_cure),
        )
    ]
    last = day(account.last_payment_on) if account.last_payment_on else t("queue.never")
    rows.append((t("account.last_payment"), last))
    return Rows(t("account.balances"), None, tuple(rows), right=frozenset({1}), grow=0)


def offers(view: AccountView) -> Rows:
    """What the offer policy lets the agent offer now, best first, with its figures."""
    rows = []
    for offer in view.offers:
        if offer.kind == "settlement":
            detail = t("offers.discount", percent=offer.discount)
        elif offer.count > 1 and offer.each is not None and offer.down is not None:
            detail = t("offers.installments", down=money(offer.down), count=offer.count, each=money(offer.each))
        else:
            detail = ""
        if offer.approval:
            detail = " · ".join(filter(None, [detail, t("offers.approval", level=t(f"role_name.{offer.approval}"))]))
        rows.append((t(f"offers.{offer.kind}"), money(offer.amount), day(offer.due_on), detail))
    return Rows(t("offers.title"), None, tuple(rows) or ((t("offers.none"), "", "", ""),), right=frozenset({1}), grow=3)


def other_accounts(view: AccountView, revealed: bool) -> Rows:
    rows = [
        (
            other.number if revealed else masking.last_digits(other.number),
            t(f"product.{other.product.value}"),
            str(other.dpd),
            money(other.balance),
        )
        for other in view.file.other_accounts
    ]
    header = (t("queue.col_account"), t("queue.col_product"), t("queue.col_dpd"), t("queue.col_balance"))
    return Rows(
        t("account.other_accounts"),
        header,
        tuple(rows) or ((t("account.none"), "", "", ""),),
        right=frozenset({2, 3}),
        grow=1,
    )


def promises(view: AccountView) -> Rows:
    rows = []
    for tracked in view.file.promises:
        promise = tracked.item
        state = t(f"promise.status_{promise.status.value}")
        if tracked.sync_state != "synced":
            state += f" · {t(f'sync_state.{tracked.sync_state}')}"
        rows.append((state, money(promise.amount), day(promise.due_on), t(f"pay_channel.{promise.channel}")))
    for held in view.file.plans:
        plan = held.item
        state = t(f"{plan.kind.value}.status_{plan.status.value}")  # plan, settlement or restructure
        if held.sync_state != "synced":
            state += f" · {t(f'sync_state.{held.sync_state}')}"
        first = plan.installments[0] if plan.installments else None
        detail = t("account.plan", down=money(plan.down_payment), count=len(plan.installments))
        rows.append((state, money(plan.total), day(first.due_on) if first else "", detail))
    header = (t("queue.col_state"), t("promise.amount"), t("account.due"), t("promise.channel"))
    return Rows(
        t("account.promises"), header, tuple(rows) or ((t("account.none"), "", "", ""),), right=frozenset({1}), grow=3
    )


def payments(view: AccountView) -> Rows:
    rows = tuple(
        (day(payment.paid_on), money(payment.amount), t(f"pay_channel.{payment.channel}"))
        for payment in view.file.payments
    )
    return Rows(
        t("account.payments"),
        (t("account.date"), t("promise.amount"), t("promise.channel")),
        rows or ((t("account.none"), "", ""),),
        right=frozenset({1}),
        grow=2,
    )


def point_value(point: ContactPoint, revealed: bool) -> str:
    """The value as the agent reads it: masked, or in full (a phone in its national format, 55 1234 5678;
    it is stored and dialled in E.164)."""
    if not revealed:
        return masked(point)
    return point.value if point.kind in (ContactKind.EMAIL, ContactKind.ADDRESS) else national(point.value)


def contact_points(view: AccountView, revealed: bool) -> Rows:
    rows = []
    for point in view.file.contact_points:
        flags = []
        if point.is_primary:
            flags.append(t("account.primary"))
        if point.opted_out:
            flags.append(t("account.opted_out"))
        if point.wrong_number:
            flags.append(t("account.wrong_number"))
        consents = [
            t(f"channel.{c}")
            for c, ok in (
                ("sms", point.consent_sms),
                ("whatsapp", point.consent_whatsapp),
                ("email", point.consent_email),
            )
            if ok
        ]
        if consents:
            flags.append(t("account.consent", channels=", ".join(consents)))
        zone = view.point_zones.get(point.id, view.debtor_zone)
        local = instant(view.debtor_now.astimezone(zone))[-5:]
        badge = rule_badge(view.rules[point.id], zone) if point.id in view.rules else ""
        rows.append(
            (
                t(f"contact_kind.{point.kind.value}"),
                point_value(point, revealed),
                " · ".join([local, *flags, *([badge] if badge else [])]),
            )
        )
    return Rows(t("account.contact_points"), None, tuple(rows) or ((t("account.none"), "", ""),), grow=2)


def rule_badge(found: PointDecision, zone: ZoneInfo) -> str:
    """What the contact rules say about one point, in a few characters: allowed until, or why not and until when."""
    decision = found.decision
    ids = ", ".join(dict.fromkeys(c.rule.id for c in decision.reasons))
    if decision.outcome is Outcome.ALLOWED:
        closes = decision.window_closes
        return "✓ " + (
            t("rules.badge_until", at=closes.astimezone(zone).strftime("%H:%M"))
            if closes
            else t("rules.outcome_allowed")
        )
    if decision.outcome is Outcome.WARN:
        return f"! {ids}"
    if decision.next_allowed is None:
        return f"✗ {ids} · {t('rules.badge_never')}"
    opens = decision.next_allowed.astimezone(zone)
    when = (
        opens.strftime("%H:%M")
        if opens.date() == decision.at.astimezone(zone).date()
        else opens.strftime("%d/%m %H:%M")
    )
    return f"✗ {ids} · {t('rules.badge_from', at=when)}"


def references(view: AccountView, revealed: bool) -> Rows:
    rows = []
    for reference in view.file.references:
        phone = national(reference.phone) if revealed else masking.phone(reference.phone)
        found = view.rules.get(f"ref:{reference.id}")
        badge = f" · {rule_badge(found, view.debtor_zone)}" if found else ""
        rows.append(
            (t(f"role.{reference.role.value}"), reference.full_name, f"{phone} · {reference.relationship}{badge}")
        )
    return Rows(t("account.references"), None, tuple(rows) or ((t("account.none"), "", ""),), grow=2)


def history(view: AccountView, result_label: dict[str, str]) -> Rows:
    rows = []
    for tracked in view.file.contacts:
        attempt = tracked.item
        when = instant(attempt.started_at.astimezone(view.debtor_zone))
        state = "" if tracked.sync_state == "synced" else t(f"sync_state.{tracked.sync_state}")
        rows.append(
            (
                when,
                t(f"channel.{attempt.channel.value}"),
                result_label.get(attempt.result_code, attempt.result_code),
                f"{attempt.agent} {state}".strip(),
            )
        )
    return Rows(t("account.history"), None, tuple(rows) or ((t("account.no_history"), "", "", ""),), grow=3)


def priority_line(reasons: list[Reason]) -> str:
    """Why an account stands where it does in the queue: its score and each factor's points."""
    total = sum(r.points for r in reasons)
    if not reasons:
        return t("priority.none", score=number(total))
    parts = [f"{t(f'priority.{r.factor}')} {r.points:+,}" for r in reasons]
    return t("priority.heading", score=number(total), reasons=" · ".join(parts))
