"""The agreement document: a printable summary of an agreed plan or settlement (plain text and
HTML) with the amounts split by part of the debt, the dates, and the institution's payment
reference. Payments go to the institution's collection account with a reference made from the
account number; never to a person's account."""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass

from cobro_tui.domain.models import Account, Customer, PaymentPlan, PlanKind
from cobro_tui.domain.money import Money
from cobro_tui.domain.offers import Institution

# How a payment covers the debt: costs first, then interest and its tax, then principal.
WATERFALL = ("fees", "interest", "vat", "principal")


def check_digit(digits: str) -> str:
    """Luhn check digit, as bank references carry one."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def payment_reference(account: Account) -> str:
    """The reference the debtor writes with the payment: 12 digits drawn from the account's id (so
    the document does not reveal the account number) and a check digit. The institution maps it
    back to the account the same way."""
    digits = str(int(hashlib.sha256(account.id.encode()).hexdigest(), 16) % 10**12).rjust(12, "0")
    return digits + check_digit(digits)


def apportion(account: Account, paid: Money) -> dict[str, Money]:
    """What `paid` covers of each part of the debt, in waterfall order (the rest of the last part it reaches stays owed)."""
    left = paid.centavos
    covered = {}
    for part in WATERFALL:
        owed = getattr(account, part).centavos
        take = min(owed, max(left, 0))
        covered[part] = Money(take, paid.currency)
        left -= take
    return covered


@dataclass(frozen=True, slots=True)
class Agreement:
    """What the document says, worded by the caller (labels in the interface language)."""

    institution: Institution
    customer: Customer
    account: Account
    plan: PaymentPlan
    labels: dict[str, str]  # heading, parts, columns, closing sentences
    money: dict[str, str]  # every amount, formatted
    dates: dict[str, str]  # every date, formatted

    @property
    def reference(self) -> str:
        return payment_reference(self.account)


def lines(doc: Agreement) -> list[tuple[str, str]]:
    """The document as (label, value) rows, shared by the text and the HTML forms."""
    plan, labels = doc.plan, doc.labels
    rows = [
        (labels["institution"], doc.institution.name),
        (labels["customer"], doc.customer.full_name),
        (labels["account"], f"•••• {doc.account.number[-4:]}"),
        (labels["kind"], labels[f"kind_{plan.kind.value}"]),
        (labels["balance"], doc.money["balance"]),
        (labels["total"], doc.money["total"]),
    ]
    if plan.kind is PlanKind.SETTLEMENT and plan.forgiven is not None:
        rows.append((labels["forgiven"], doc.money["forgiven"]))
    for part in WATERFALL:
        rows.append((labels[f"part_{part}"], doc.money[f"part_{part}"]))
    if plan.down_payment.centavos:
        rows.append((labels["down"], doc.money["down"]))
    for item in plan.installments:
        rows.append(
            (
                f"{labels['installment']} {item.number} · {doc.dates[f'due_{item.number}']}",
                doc.money[f"installment_{item.number}"],
            )
        )
    rows += [
        (labels["bank"], doc.institution.bank),
        (labels["clabe"], doc.institution.clabe),
        (labels["reference"], doc.reference),
        (labels["phone"], doc.institution.phone),
    ]
    return rows


def as_text(doc: Agreement) -> str:
    rows = lines(doc)
    width = max(len(label) for label, _ in rows)
    body = [doc.labels["title"], "=" * len(doc.labels["title"]), ""]
    body += [f"{label.ljust(width)}  {value}" for label, value in rows]
    body += ["", doc.labels["closing"], doc.labels["never_personal"]]
    return "\n".join(body) + "\n"


def as_html(doc: Agreement) -> str:
    cells = "\n".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>" for label, value in lines(doc)
    )
    title = html.escape(doc.labels["title"])
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(doc.labels["lang"])}">\n<head><meta charset="utf-8"><title>{title}</title>\n'
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}th{text-align:left;padding-right:1em}"
        "td{text-align:right}</style></head>\n"
        f"<body>\n<h1>{title}</h1>\n<table>\n{cells}\n</table>\n"
        f"<p>{html.escape(doc.labels['closing'])}</p>\n<p><strong>{html.escape(doc.labels['never_personal'])}</strong></p>\n"
        "</body>\n</html>\n"
    )
