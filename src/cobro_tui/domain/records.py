"""Each entity as a plain JSON-ready record (dates as ISO text, money as centavos): the `data` of
the sync feed and of the server's documents. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, get_args, get_origin, get_type_hints

from cobro_tui.domain.models import (
    Account,
    BucketHistoryEntry,
    ContactAttempt,
    ContactPoint,
    Customer,
    Installment,
    Note,
    Payment,
    PaymentPlan,
    Promise,
    Reference,
    Restriction,
)
from cobro_tui.domain.money import Money


def instant_text(value: datetime) -> str:
    """Fixed-width ISO-8601 UTC text, so that text order is time order (the cache relies on it)."""
    if value.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


# Entity kind on the wire -> domain class.
KINDS: dict[str, type] = {
    "customer": Customer,
    "account": Account,
    "contact_point": ContactPoint,
    "reference": Reference,
    "payment": Payment,
    "promise": Promise,
    "payment_plan": PaymentPlan,
    "contact_attempt": ContactAttempt,
    "restriction": Restriction,
    "bucket_history": BucketHistoryEntry,
    "note": Note,
}
KIND_OF = {cls: kind for kind, cls in KINDS.items()}


@cache
def field_types(cls: type) -> dict[str, Any]:
    """The type of each field of an entity class (its annotations resolved, once)."""
    return get_type_hints(cls)


def _encoder(hint: Any) -> Callable[[Any], Any] | None:
    """How to write one field (None: as it is), chosen once per class from its type hints."""
    args = [a for a in get_args(hint) if a is not type(None)]
    base = args[0] if args and get_origin(hint) is not tuple else hint
    if get_origin(base) is tuple:
        (item,) = get_args(base)[:1]
        if item is Installment:
            return lambda v: [to_record(i) for i in v]
        return list
    if base is Money:
        return lambda v: None if v is None else {"centavos": v.centavos, "currency": v.currency}
    if base is datetime:
        return lambda v: None if v is None else instant_text(v)
    if base is date:
        return lambda v: None if v is None else v.isoformat()
    if isinstance(base, type) and issubclass(base, StrEnum):
        return lambda v: None if v is None else v.value
    return None


_ENCODERS: dict[type, tuple[tuple[str, Callable[[Any], Any] | None], ...]] = {}


def field_encoders(cls: type) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """How `to_record` writes each field of an entity class, in field order (None: as it is)."""
    encoders = _ENCODERS.get(cls)
    if encoders is None:
        hints = field_types(cls)
        encoders = _ENCODERS[cls] = tuple((f.name, _encoder(hints[f.name])) for f in fields(cls))
    return encoders


def to_record(entity: Any) -> dict[str, Any]:
    """The record of a domain entity."""
    return {
        name: getattr(entity, name) if enc is None else enc(getattr(entity, name))
        for name, enc in field_encoders(type(entity))
    }


def _decoder(hint: Any) -> Callable[[Any], Any]:
    # Optional[X] decodes as X, and None stays None.
    args = [a for a in get_args(hint) if a is not type(None)]
    base = args[0] if args and get_origin(hint) is not tuple else hint
    if get_origin(base) is tuple:
        (item,) = get_args(base)[:1]
        if item is Installment:
            return lambda v: tuple(_decode_installment(i) for i in v)
        return lambda v: tuple(v)
    decode: Callable[[Any], Any]
    if base is Money:
        decode = lambda v: Money(v["centavos"], v["currency"])  # noqa: E731
    elif base is datetime:
        decode = datetime.fromisoformat
    elif base is date:
        decode = date.fromisoformat
    elif base is bool:
        decode = bool  # the cache keeps flags as 0/1
    elif isinstance(base, type) and issubclass(base, StrEnum):
        decode = base
    else:
        return lambda v: v
    return lambda v: None if v is None else decode(v)


def _decode_installment(data: dict[str, Any]) -> Installment:
    return from_record("installment", data, Installment)


_DECODERS: dict[type, dict[str, Callable[[Any], Any]]] = {}


def from_record(kind: str, data: dict[str, Any], cls: type | None = None) -> Any:
    """The domain entity of a record; unknown keys are an error (a newer server, or a bug)."""
    cls = cls or KINDS[kind]
    decoders = _DECODERS.get(cls)
    if decoders is None:
        hints = field_types(cls)
        decoders = _DECODERS[cls] = {f.name: _decoder(hints[f.name]) for f in fields(cls)}
    unknown = set(data) - set(decoders)
    if unknown:
        raise ValueError(f"{kind} record has unknown fields: {', '.join(sorted(unknown))}")
    return cls(**{name: decoders[name](value) for name, value in data.items()})
