"""Charts drawn with text, for the supervisor's dashboard: horizontal bars and small curves. Plain
strings, so they wrap nowhere, copy into a ticket, and compare in snapshots."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, top: float, width: int) -> str:
    """A bar `width` cells long at `top`, drawn to the eighth of a cell."""
    if top <= 0 or value <= 0:
        return " " * width
    eighths = round(8 * width * min(value, top) / top)
    whole, part = divmod(eighths, 8)
    return ("█" * whole + (EIGHTHS[part] if part else "")).ljust(width)


def bars(rows: Sequence[tuple[str, float, str]], width: int) -> str:
    """One line per row: its label, a bar as long as its share of the largest value, then its text."""
    top = max((value for _, value, _ in rows), default=0)
    label = max((len(name) for name, _, _ in rows), default=0)
    return "\n".join(f"{name:<{label}} {bar(value, top, width)} {text}" for name, value, text in rows)


def curve(values: Sequence[float | None], top: float) -> str:
    """A small curve, one cell per value from ▁ to █ against `top`; a gap where there is no value."""
    cells = []
    for value in values:
        if value is None:
            cells.append(" ")
        elif top <= 0 or value <= 0:
            cells.append(BLOCKS[0])
        else:
            cells.append(BLOCKS[min(7, round(7 * value / top))])
    return "".join(cells)
