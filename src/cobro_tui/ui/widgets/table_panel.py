"""A titled table of short rows, laid out in plain lines: what the account screen's panels are.

A Rich table in a Static is rendered once to measure its height and again to draw it, and both
passes ran for seven panels at every f5 (about half of the time to the next account on screen).
Here the lines are worked out once per width and content; the height is their count."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from cobro_tui.domain.text import shown_line
from cobro_tui.ui.widgets.cells import fit, wrap

GAP = 2  # cells between columns
NARROWEST = 8  # the growing column keeps at least this much


@dataclass(frozen=True)
class Rows:
    """What a panel shows: a title, an optional header, rows of cells. The `grow` column takes the
    width left over and wraps; the others keep their longest cell (cut when the panel is narrow)."""

    title: str
    header: tuple[str, ...] | None
    rows: tuple[tuple[str, ...], ...]
    right: frozenset[int] = field(default_factory=frozenset)  # columns aligned right (amounts)
    grow: int = -1

    def __post_init__(self) -> None:
        # Cells come from the cache and the server: whatever they hold is drawn, never acted on.
        object.__setattr__(self, "rows", tuple(tuple(shown_line(cell) for cell in row) for row in self.rows))


def widths(body: list[tuple[str, ...]], grow: int, width: int) -> list[int]:
    """Each column's width for a panel `width` cells wide. The growing column takes what is left (at
    least a third of a narrow panel); when the panel is too narrow, the widest column that can wrap
    gives way a cell at a time, never below its longest word (amounts and dates are never cut),
    and only then the growing one."""
    count = len(body[0])
    natural = [max(cell_len(row[i]) for row in body) for i in range(count)]
    least = [max(max((cell_len(word) for word in row[i].split(" ")), default=0) for row in body) for i in range(count)]
    chosen = list(natural)
    chosen[grow] = max(
        width - (sum(natural) - natural[grow] + GAP * (count - 1)), min(natural[grow], max(NARROWEST, width // 3))
    )
    over = sum(chosen) + GAP * (count - 1) - width
    while over > 0:
        wrappable = [i for i in range(count) if i != grow and chosen[i] > least[i]]
        if wrappable:
            column = max(wrappable, key=chosen.__getitem__)
        elif chosen[grow] > max(least[grow], 1):
            column = grow
        else:
            break  # nothing wraps further: the line is cut at the panel's edge
        chosen[column] -= 1
        over -= 1
    return chosen


def lay_out(rows: Rows, width: int) -> list[tuple[str, str]]:
    """The panel's lines at `width`, each with its part ("title", "header" or "row"). Cells wider
    than their column wrap at spaces; the row takes as many lines as its tallest cell."""
    lines = [(fit(rows.title, width), "title")]
    body = ([rows.header] if rows.header else []) + list(rows.rows)
    if not body:
        return lines
    sizes = widths(body, rows.grow % len(body[0]), width)
    gap = " " * GAP
    for index, row in enumerate(body):
        header = rows.header is not None and index == 0
        wrapped = [[cell] if header else wrap(cell, size) for cell, size in zip(row, sizes)]
        for turn in range(max(len(cell) for cell in wrapped)):
            text = gap.join(
                fit(cell[turn] if turn < len(cell) else "", size, i in rows.right)
                for i, (cell, size) in enumerate(zip(wrapped, sizes))
            )
            lines.append((fit(text, width), "header" if header else "row"))
    return lines


class TablePanel(Widget):
    COMPONENT_CLASSES = {"table-panel--title", "table-panel--header"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = Rows("", None, ())
        self._laid: dict[int, list[tuple[str, str]]] = {}

    def show(self, rows: Rows) -> None:
        if rows != self.rows:
            self.rows = rows
            self._laid.clear()
            self.refresh(layout=True)

    def lines(self, width: int) -> list[tuple[str, str]]:
        if width not in self._laid:
            if len(self._laid) > 2:  # the panel's own width, and the one it is measured at while resized
                self._laid.clear()
            self._laid[width] = lay_out(self.rows, width)
        return self._laid[width]

    @property
    def plain(self) -> str:
        """What the panel shows, as text (for tests and copies)."""
        return "\n".join(text.rstrip() for text, _ in self.lines(max(self.size.width, 40)))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self.lines(width)
        base = self.rich_style
        if y >= len(lines):
            return Strip.blank(width, base)
        text, part = lines[y]
        style = base if part == "row" else self.get_component_rich_style(f"table-panel--{part}")
        return Strip([Segment(text, style)], width)
