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


def bucket_set_problems(buckets: tuple[Bucket, ...] | list[Bucket]) -> list[str]:
    """Every reason a list of buckets is not an ordered, gapless cover (empty when it is)."""
    problems: list[str] = []
    if not buckets:
        return ["a bucket set needs at least one bucket"]
    codes = [b.code for b in buckets]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(f"bucket code {code!r} appears more than once")
    for index, bucket in enumerate(buckets):
        if bucket.max_dpd is not None and bucket.max_dpd < bucket.min_dpd:
            problems.append(f"bucket {bucket.code!r}: max_dpd {bucket.max_dpd} is below min_dpd {bucket.min_dpd}")
        if bucket.max_dpd is None and index != len(buckets) - 1:
            problems.append(f"bucket {bucket.code!r}: only the last bucket may be open-ended")
        if index:
            before = buckets[index - 1]
            if before.max_dpd is not None and bucket.min_dpd != before.max_dpd + 1:
                gap = "overlaps" if bucket.min_dpd <= before.max_dpd else "leaves a gap after"
                problems.append(
                    f"bucket {bucket.code!r} starts at {bucket.min_dpd} and {gap} {before.code!r} "
                    f"(ends at {before.max_dpd}); it should start at {before.max_dpd + 1}"
                )
    if buckets[-1].max_dpd is not None:
        problems.append(f"the last bucket {buckets[-1].code!r} must be open-ended (no max_dpd)")
    return problems
