"""The parts of the account screen as text tables: what a view holds, worded and masked.

Plain functions from an AccountView to Rich tables, so the screen only places them; styles stay
in the .tcss (no colours here)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich import box
from rich.table import Table
from rich.text import Text

from cobro_tui.domain import masking
from cobro_tui.domain.models import ContactPoint
from cobro_tui.domain.priority import Reason
from cobro_tui.i18n import day, instant, language, money, number, t
from cobro_tui.rules.engine import Outcome
from cobro_tui.services.accounts import AccountView
from cobro_tui.services.rules import PointDecision, masked


def _table(*columns: str, title: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, expand=True, pad_edge=False,
                  show_header=any(columns))
    for column in columns:
        table.add_column(column)
    return table


def heading(view: AccountView, revealed: bool) -> Text:
    account, customer = view.file.account, view.file.customer
    number = account.number if revealed else masking.last_digits(account.number)
    first = t("account.heading", name=customer.full_name, product=t(f"product.{account.product.value}"), number=number,
              bucket=view.bucket.label(language()), dpd=account.dpd)
    days = view.days_to_next_bucket
    roll = t("account.next_bucket", days=days) if days is not None else t("account.last_bucket")
    ids = t("account.customer_ids",
            rfc=customer.rfc if revealed else masking.identifier(customer.rfc),
            curp=customer.curp if revealed else masking.identifier(customer.curp))
    zone = view.debtor_zone.key
    second = f"{roll} · {ids} · " + t("account.debtor_time", time=instant(view.debtor_now)[-5:], zone=zone)
    return Text(f"{first}\n{second}")


def balances(view: AccountView) -> Table:
    account = view.file.account
    table = _table(title=t("account.balances"))
    table.add_column("", ratio=2)
    table.add_column("", justify="right", ratio=1)
    for key, amount in (("principal", account.principal), ("interest", account.interest), ("fees", account.fees),
                        ("vat", account.vat), ("total", account.balance), ("past_due", account.past_due),
                        ("min_to_cure", account.min_to_cure)):
        table.add_row(t(f"account.{key}"), money(amount))
    last = day(account.last_payment_on) if account.last_payment_on else t("queue.never")
    table.add_row(t("account.last_payment"), last)
    return table


def other_accounts(view: AccountView, revealed: bool) -> Table:
    table = _table(title=t("account.other_accounts"))
    for column in (t("queue.col_account"), t("queue.col_product"), t("queue.col_dpd"), t("queue.col_balance")):
        table.add_column(column)
    for other in view.file.other_accounts:
        number = other.number if revealed else masking.last_digits(other.number)
        table.add_row(number, t(f"product.{other.product.value}"), str(other.dpd), money(other.balance))
    if not view.file.other_accounts:
        table.add_row(t("account.none"), "", "", "")
    return table


def promises(view: AccountView) -> Table:
    table = _table(t("queue.col_state"), t("promise.amount"), t("account.due"), t("promise.channel"),
                   title=t("account.promises"))
    for tracked in view.file.promises:
        promise = tracked.item
        state = t(f"promise.status_{promise.status.value}")
        if tracked.sync_state != "synced":
            state += f" · {t(f'sync_state.{tracked.sync_state}')}"
        table.add_row(state, money(promise.amount), day(promise.due_on), t(f"pay_channel.{promise.channel}"))
    for tracked in view.file.plans:
        plan = tracked.item
        state = t(f"plan.status_{plan.status.value}")
        if tracked.sync_state != "synced":
            state += f" · {t(f'sync_state.{tracked.sync_state}')}"
        first = plan.installments[0] if plan.installments else None
        table.add_row(state, money(plan.total), day(first.due_on) if first else "",
                      t("account.plan", down=money(plan.down_payment), count=len(plan.installments)))
    if not view.file.promises and not view.file.plans:
        table.add_row(t("account.none"), "", "", "")
    return table


def payments(view: AccountView) -> Table:
    table = _table(t("account.date"), t("promise.amount"), t("promise.channel"),
                   title=t("account.payments"))
    for payment in view.file.payments:
        table.add_row(day(payment.paid_on), money(payment.amount), payment.channel)
    if not view.file.payments:
        table.add_row(t("account.none"), "", "")
    return table


def point_value(point: ContactPoint, revealed: bool) -> str:
    return point.value if revealed else masked(point)


def contact_points(view: AccountView, revealed: bool) -> Table:
    table = _table("", "", "", title=t("account.contact_points"))
    for point in view.file.contact_points:
        flags = []
        if point.is_primary:
            flags.append(t("account.primary"))
        if point.opted_out:
            flags.append(t("account.opted_out"))
        if point.wrong_number:
            flags.append(t("account.wrong_number"))
        consents = [t(f"channel.{c}") for c, ok in (("sms", point.consent_sms), ("whatsapp", point.consent_whatsapp),
                                                     ("email", point.consent_email)) if ok]
        if consents:
            flags.append(t("account.consent", channels=", ".join(consents)))
        zone = view.point_zones.get(point.id, view.debtor_zone)
        local = instant(view.debtor_now.astimezone(zone))[-5:]
        badge = rule_badge(view.rules[point.id], zone) if point.id in view.rules else ""
        table.add_row(t(f"contact_kind.{point.kind.value}"), point_value(point, revealed),
                      " · ".join([local, *flags, *([badge] if badge else [])]))
    return table


def rule_badge(found: PointDecision, zone: ZoneInfo) -> str:
    """What the contact rules say about one point, in a few characters: allowed until, or why not and until when."""
    decision = found.decision
    ids = ", ".join(dict.fromkeys(c.rule.id for c in decision.reasons))
    if decision.outcome is Outcome.ALLOWED:
        closes = decision.window_closes
        return "✓ " + (t("rules.badge_until", at=closes.astimezone(zone).strftime("%H:%M")) if closes else t("rules.outcome_allowed"))
    if decision.outcome is Outcome.WARN:
        return f"! {ids}"
    if decision.next_allowed is None:
        return f"✗ {ids} · {t('rules.badge_never')}"
    opens = decision.next_allowed.astimezone(zone)
    when = opens.strftime("%H:%M") if opens.date() == decision.at.astimezone(zone).date() else opens.strftime("%d/%m %H:%M")
    return f"✗ {ids} · {t('rules.badge_from', at=when)}"


def references(view: AccountView, revealed: bool) -> Table:
    table = _table("", "", "", title=t("account.references"))
    for reference in view.file.references:
        phone = reference.phone if revealed else masking.phone(reference.phone)
        found = view.rules.get(f"ref:{reference.id}")
        badge = f" · {rule_badge(found, view.debtor_zone)}" if found else ""
        table.add_row(t(f"role.{reference.role.value}"), reference.full_name, f"{phone} · {reference.relationship}{badge}")
    if not view.file.references:
        table.add_row(t("account.none"), "", "")
    return table


def history(view: AccountView, result_label: dict[str, str]) -> Table:
    table = _table("", "", "", "", title=t("account.history"))
    for tracked in view.file.contacts:
        attempt = tracked.item
        when = instant(attempt.started_at.astimezone(view.debtor_zone))
        state = "" if tracked.sync_state == "synced" else t(f"sync_state.{tracked.sync_state}")
        table.add_row(when, t(f"channel.{attempt.channel.value}"),
                      result_label.get(attempt.result_code, attempt.result_code), f"{attempt.agent} {state}".strip())
    if not view.file.contacts:
        table.add_row(t("account.no_history"), "", "", "")
    return table


def priority_line(reasons: list[Reason]) -> str:
    """Why an account stands where it does in the queue: its score and each factor's points."""
    total = sum(r.points for r in reasons)
    if not reasons:
        return t("priority.none", score=number(total))
    parts = [f"{t(f'priority.{r.factor}')} {r.points:+,}" for r in reasons]
    return t("priority.heading", score=number(total), reasons=" · ".join(parts))
