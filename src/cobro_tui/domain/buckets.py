"""Delinquency buckets (tramos): named ranges of days past due, from a bucket set in config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bucket:
    """One tramo: accounts whose days past due lie in [min_dpd, max_dpd] (max None = no end)."""

    code: str
    label_es: str
    label_en: str
    min_dpd: int
    max_dpd: int | None

    def holds(self, dpd: int) -> bool:
        return dpd >= self.min_dpd and (self.max_dpd is None or dpd <= self.max_dpd)

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_es


class BucketSetError(ValueError):
    """A bucket set with gaps, overlaps or bad bounds."""


@dataclass(frozen=True, slots=True)
class BucketSet:
    """An ordered, gapless cover of days past due, lowest first."""

    name: str
    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        problems = bucket_set_problems(self.buckets)
        if problems:
            raise BucketSetError("; ".join(problems))

    def bucket_for(self, dpd: int) -> Bucket:
        """The bucket an account with this many days past due is in."""
        for bucket in self.buckets:
            if bucket.holds(dpd):
                return bucket
        # The set is gapless and starts at its lowest bound; below it is the first bucket.
        return self.buckets[0]

    def by_code(self, code: str) -> Bucket:
        for bucket in self.buckets:
            if bucket.code == code:
                return bucket
        raise KeyError(code)

    def rank(self, code: str) -> int:
        """Position of a bucket, 0 for the least delinquent."""
        return [b.code for b in self.buckets].index(code)

    def days_to_next(self, dpd: int) -> int | None:
        """Days until an account that keeps not paying rolls into the next bucket."""
        bucket = self.bucket_for(dpd)
        return None if bucket.max_dpd is None else bucket.max_dpd - dpd + 1


@dataclass(frozen=True, slots=True)
class BucketFault:
    """One reason a list of buckets is not an ordered, gapless cover: the bucket (its position),
    the key at fault, what is wrong (`kind`) and the values that say it."""

    index: int
    key: str
    kind: str  # duplicate, max_below_min, open_not_last, gap, overlap, last_not_open
    values: dict[str, object]


# The faults in words, for a BucketSet built outside the policy files (config check words its own).
FAULT_WORDS = {
    "duplicate": "bucket code {code!r} appears more than once",
    "max_below_min": "bucket {code!r}: max_dpd {max_dpd} is below min_dpd {min_dpd}",
    "open_not_last": "bucket {code!r}: only the last bucket may be open-ended",
    "gap": "bucket {code!r} starts at {start} and leaves a gap after {before!r} (ends at {end}); it should start at {expected}",
    "overlap": "bucket {code!r} starts at {start} and overlaps {before!r} (ends at {end}); it should start at {expected}",
    "last_not_open": "the last bucket {code!r} must be open-ended (no max_dpd)",
}


def bucket_set_faults(buckets: tuple[Bucket, ...] | list[Bucket]) -> list[BucketFault]:
    """Every reason a non-empty list of buckets is not an ordered, gapless cover (empty when it is)."""
    faults: list[BucketFault] = []
    seen: set[str] = set()
    for index, bucket in enumerate(buckets):
        code = bucket.code
        if code in seen:
            faults.append(BucketFault(index, "code", "duplicate", {"code": code}))
        seen.add(code)
        if bucket.max_dpd is not None and bucket.max_dpd < bucket.min_dpd:
            values = {"code": code, "max_dpd": bucket.max_dpd, "min_dpd": bucket.min_dpd}
            faults.append(BucketFault(index, "max_dpd", "max_below_min", values))
        if bucket.max_dpd is None and index != len(buckets) - 1:
            faults.append(BucketFault(index, "max_dpd", "open_not_last", {"code": code}))
        before = buckets[index - 1] if index else None
        if before is not None and before.max_dpd is not None and bucket.min_dpd != before.max_dpd + 1:
            kind = "overlap" if bucket.min_dpd <= before.max_dpd else "gap"
            values = {
                "code": code,
                "start": bucket.min_dpd,
                "before": before.code,
                "end": before.max_dpd,
                "expected": before.max_dpd + 1,
            }
            faults.append(BucketFault(index, "min_dpd", kind, values))
    if buckets and buckets[-1].max_dpd is not None:
        faults.append(BucketFault(len(buckets) - 1, "max_dpd", "last_not_open", {"code": buckets[-1].code}))
    return faults


def bucket_set_problems(buckets: tuple[Bucket, ...] | list[Bucket]) -> list[str]:
    """Every reason a list of buckets is not an ordered, gapless cover, in words (empty when it is)."""
    if not buckets:
        return ["a bucket set needs at least one bucket"]
    return [FAULT_WORDS[fault.kind].format(**fault.values) for fault in bucket_set_faults(buckets)]
