from datetime import UTC, date, datetime

import pytest

from cobro_tui.domain.buckets import Bucket, BucketSet, BucketSetError
from cobro_tui.domain.models import (
    Promise,
    PromiseStatus,
    PromiseTransitionError,
    promise_status_after,
)
from cobro_tui.domain.money import Money
from cobro_tui.policy import Policy


def test_every_days_past_due_falls_in_exactly_one_configured_bucket(policy: Policy) -> None:
    buckets = policy.buckets
    assert buckets.bucket_for(-3).code == "preventiva"
    assert buckets.bucket_for(0).code == "preventiva"
    assert buckets.bucket_for(1).code == "1-29"
    assert buckets.bucket_for(29).code == "1-29"
    assert buckets.bucket_for(30).code == "30-59"
    assert buckets.bucket_for(119).code == "90-119"
    assert buckets.bucket_for(179).code == "120+"
    assert buckets.bucket_for(180).code == "castigo"
    assert buckets.bucket_for(5000).code == "castigo"
    for dpd in range(-30, 400):
        assert sum(b.holds(dpd) for b in buckets.buckets) == 1


def test_days_to_next_bucket(policy: Policy) -> None:
    assert policy.buckets.days_to_next(25) == 5
    assert policy.buckets.days_to_next(200) is None


def test_a_bucket_set_with_a_gap_or_an_overlap_is_refused() -> None:
    with pytest.raises(BucketSetError, match="gap"):
        BucketSet("x", (Bucket("a", "A", "A", 0, 10), Bucket("b", "B", "B", 12, None)))
    with pytest.raises(BucketSetError, match="overlaps"):
        BucketSet("x", (Bucket("a", "A", "A", 0, 10), Bucket("b", "B", "B", 5, None)))
    with pytest.raises(BucketSetError, match="open-ended"):
        BucketSet("x", (Bucket("a", "A", "A", 0, 10),))


def test_result_codes_carry_their_counting_flags(policy: Policy) -> None:
    codes = policy.result_codes
    assert codes.get("PP").right_party_contact and codes.get("PP").worked
    assert not codes.get("NC").right_party_contact and codes.get("NC").attempt
    assert "OCUP" in {c.code for c in codes.for_channel("voice")}
    assert "OCUP" not in {c.code for c in codes.for_channel("email")}
    with pytest.raises(KeyError, match="known codes"):
        codes.get("XYZ")


def _promise(**kw: object) -> Promise:
    base = {
        "id": "p1",
        "account_id": "a1",
        "amount": Money(100_000),
        "due_on": date(2026, 11, 30),
        "channel": "spei",
        "created_at": datetime(2026, 11, 22, tzinfo=UTC),
        "created_by": "agente01",
        "grace_days": 2,
    }
    base.update(kw)
    return Promise(**base)  # type: ignore[arg-type]


def test_promise_lifecycle_allows_only_forward_moves() -> None:
    promise = _promise()
    kept = promise.moved_to(PromiseStatus.KEPT, paid=Money(100_000))
    assert kept.status is PromiseStatus.KEPT and kept.is_settled
    with pytest.raises(PromiseTransitionError, match="from kept to open"):
        kept.moved_to(PromiseStatus.OPEN)
    partial = promise.moved_to(PromiseStatus.PARTIAL, paid=Money(30_000))
    assert partial.moved_to(PromiseStatus.BROKEN).status is PromiseStatus.BROKEN
    with pytest.raises(PromiseTransitionError):
        promise.moved_to(PromiseStatus.CANCELLED).moved_to(PromiseStatus.KEPT)


@pytest.mark.parametrize(
    ("paid", "today", "expected"),
    [
        (100_000, date(2026, 11, 25), PromiseStatus.KEPT),
        (120_000, date(2026, 12, 20), PromiseStatus.KEPT),
        (30_000, date(2026, 11, 30), PromiseStatus.PARTIAL),
        (30_000, date(2026, 12, 2), PromiseStatus.PARTIAL),  # within the two grace days
        (30_000, date(2026, 12, 3), PromiseStatus.BROKEN),
        (0, date(2026, 11, 29), PromiseStatus.OPEN),
        (0, date(2026, 12, 3), PromiseStatus.BROKEN),
    ],
)
def test_promise_status_after_payments(paid: int, today: date, expected: PromiseStatus) -> None:
    assert promise_status_after(_promise(), Money(paid), today) is expected
