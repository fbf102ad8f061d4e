"""Personal data as shown by default: enough to recognise, not enough to misuse. Showing it in full
is an explicit action that is audited (see services.accounts)."""

from __future__ import annotations

from cobro_tui.domain.phones import search_digits

HIDDEN = "•"


def last_digits(value: str, keep: int = 4) -> str:
    """A card or account number: only its last `keep` digits."""
    return f"{HIDDEN * 4} {value[-keep:]}" if len(value) > keep else value


def phone(value: str) -> str:
    """A phone number: the last four digits of its national number (E.164 or as written, one width)."""
    digits = search_digits(value)
    return f"{HIDDEN * max(0, len(digits) - 4)}{digits[-4:]}" if len(digits) > 4 else HIDDEN * len(digits)


def email(value: str) -> str:
    """An e-mail address: the first letter of the mailbox and the domain."""
    mailbox, at, domain = value.partition("@")
    if not at:
        return HIDDEN * len(value)
    return f"{mailbox[:1]}{HIDDEN * 3}@{domain}"


def identifier(value: str, keep: int = 4) -> str:
    """An RFC, CURP or similar: its first `keep` characters (the initials)."""
    return f"{value[:keep]}{HIDDEN * max(0, len(value) - keep)}"


def address(value: str) -> str:
    """A postal address: only what follows the last comma (town, state)."""
    _head, comma, tail = value.rpartition(",")
    return f"{HIDDEN * 3},{tail}" if comma else HIDDEN * 3


# Why an agent shows personal data in full: the reason is asked every time and kept in the audit log
# by its code (PCI DSS 3.4.1, 10.2: access to cardholder data is for a business need, and recorded).
REVEAL_REASONS = ("customer_verification", "payment_arrangement", "dispute", "data_correction", "supervisor_review")
