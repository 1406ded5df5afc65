"""The reading order of a page's blocks when it is set in two columns: down the left column, then
the right, band by band between blocks that span the page (a title, a wide figure, footnotes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# A block is in a column when it stays this share of the page's width clear of the middle.
GUTTER = 0.02
# Columns are read as columns only when each holds at least this many lines: a short line that
# happens to sit on one side of a one-column page is no column.
MIN_COLUMN_LINES = 5


@dataclass(frozen=True)
class Box:
    left: float
    right: float
    top: float
    lines: int


def reading_order(boxes: Sequence[Box], width: float) -> list[int]:
    """The blocks' indices in reading order; their order as given where the page is one column."""
    if width <= 0:
        return list(range(len(boxes)))
    mid = width / 2
    side = ["L" if b.right <= mid + GUTTER * width else "R" if b.left >= mid - GUTTER * width else "F" for b in boxes]
    lines = {s: sum(b.lines for b, k in zip(boxes, side, strict=True) if k == s) for s in "LR"}
    if min(lines.values()) < MIN_COLUMN_LINES:
        return list(range(len(boxes)))
    spans = [b.top for b, k in zip(boxes, side, strict=True) if k == "F"]

    def key(i: int) -> tuple[int, int, float]:
        above = sum(top > boxes[i].top for top in spans)
        if side[i] == "F":
            return above + 1, 0, 0.0  # after the columns above it, before those below
        return above, 1 if side[i] == "L" else 2, -boxes[i].top

    return sorted(range(len(boxes)), key=key)
