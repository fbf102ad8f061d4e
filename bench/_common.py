"""Shared helpers for the benchmarks: peak memory and a figure line."""

from __future__ import annotations

import resource


def peak_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, in MiB (Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def figure(name: str, value: float, unit: str, target: str = "") -> None:
    suffix = f"  (target {target})" if target else ""
    print(f"{name:<42} {value:>12,.2f} {unit}{suffix}")
