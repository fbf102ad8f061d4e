"""Stable ids of what the core sends: the same customer, account, contact point or reference gets the
same id on every import (uuid5 of its natural key), so a file imported twice adds nothing."""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("6f1c2b7e-3a55-5d7e-9c1a-4b2f0e6d8a10")


def customer_id(customer_ref: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "customer:" + customer_ref))


def account_id(account_number: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "account:" + account_number))


def contact_point_id(customer_ref: str, kind: str, value: str) -> str:
    """`value` as normalized (E.164 for phones, lower-case for e-mails)."""
    return str(uuid.uuid5(NAMESPACE, f"contact_point:{customer_ref}\x1f{kind}\x1f{value}"))


def reference_id(account_number: str, role: str, phone: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"reference:{account_number}\x1f{role}\x1f{phone}"))
