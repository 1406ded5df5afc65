"""A PDF table as sentences: each row read with its column headers and the table's label
("Table 3 — model: ResNet-50 · top-1 err: 22.85 · top-5 err: 6.71"), so a row can be retrieved and
cited alone; the caption kept whole."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

Cell = tuple[str, float, float]  # text, left, right

# A table's or figure's caption, by the label it opens with.
# Numbered in digits or, as older journals do, in capitals and Roman numerals ("TABLE III").
CAPTION = re.compile(r"^(?:Table|Tabla|Tableau|Tabelle|Tabella|Figure|Figura|Fig\.|Abbildung|TABLE|TABLA|FIGURE|FIG\.)"
                     r"\s*(?:\d+[a-z]?|[IVXL]+\b)")
_NUMBER = re.compile(r"^[-+±(]?\d[\d.,%×x)]*[†*]?$|^[-–—]$")


@dataclass(frozen=True)
class Row:
    text: str
    cells: tuple[Cell, ...]


def table_paragraphs(rows: Sequence[Row]) -> list[str]:
    """The captions, then each row as one paragraph "label — header: cell · header: cell"; lines
    with no header over them (a figure's labels) kept as they are. Tables set side by side or one
    after another are told apart by their header lines, and take the captions' labels in order."""
    captions = [i for i, r in enumerate(rows) if CAPTION.match(r.text)]
    caption_lines = _caption_lines(rows, captions)
    # A row names its table by label and caption's first sentence ("Table 3 (Error rates on ImageNet
    # validation)"): a question asks about what the table measures, which only the caption says.
    labels = [_label(_caption_text(rows, [i], {j for j in caption_lines if j >= i and not set(range(i + 1, j + 1)) & set(captions)}))
              for i in captions]
    grid = [r for i, r in enumerate(rows) if i not in caption_lines]
    out = [_caption_text(rows, captions, caption_lines)] if captions else []
    heads = [i for i, r in enumerate(grid) if _header(r) and (i == 0 or not _header(grid[i - 1]))]
    if (not heads or heads[0] > 1) and _numbered_header(grid):
        heads = [0, *heads]
    if not heads:
        return out + (["\n".join(r.text for r in grid)] if grid else [])
    loose = grid[: heads[0]]
    for k, start in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(grid)
        label = labels[k] if len(labels) == len(heads) else labels[0] if len(labels) == 1 else ""
        body = _merged(grid[start + 1 : end], grid[start].cells)
        prefix = f"{label} — " if label else ""
        # A row is one sentence: a period ending a header or a cell ("top-1 err.") would cut it there.
        out += [prefix + " · ".join(f"{_bare(h, True)}: {_bare(v)}" if h else _bare(v) for h, v in row if v) for row in body]
    return out + (["\n".join(r.text for r in loose)] if loose else [])


def _label(caption: str) -> str:
    found = CAPTION.match(caption)
    label = found.group() if found else ""
    first = re.split(r"(?<=[.:])\s", caption[len(label):].lstrip(" .:—-"), maxsplit=1)[0].rstrip(".:").strip()
    return f"{label} ({first})" if first else label


def _bare(text: str, header: bool = False) -> str:
    """Without the periods that would end the row's sentence: a cell's last, every one of a header's
    abbreviations ("top-5 err. (test)")."""
    return re.sub(r"\.(?=\s)", "", text).rstrip(".").strip() if header else text.rstrip(".").strip()


def _header(row: Row) -> bool:
    return len(row.cells) >= 2 and not any(numeric(c[0]) for c in row.cells)


def _numbered_header(grid: Sequence[Row]) -> bool:
    """A table with no all-words header line whose first line names its rows' column and numbers the
    others ("File · Card. · 8 · 16 · 32", "Región · 2019 · 2020"): a word first, as many cells as the
    rows under it."""
    cells = [c[0] for c in grid[0].cells] if grid else []
    if len(grid) < 2 or len(cells) < 3 or numeric(cells[0]):
        return False
    # Column numbers are whole (8, 16, 2019); a first row with a measure in it (14.4) is data.
    numbers = [c for c in cells[1:] if numeric(c)]
    return bool(numbers) and all(c.isdigit() for c in numbers) and len(grid[1].cells) >= len(cells) - 1


def _caption_text(rows: Sequence[Row], captions: list[int], lines: set[int]) -> str:
    """Each caption with its following lines, one paragraph each."""
    texts = []
    for i in sorted(lines):
        if i in captions or not texts:
            texts.append(rows[i].text)
        else:
            texts[-1] = f"{texts[-1]} {rows[i].text}"
    return "\n\n".join(texts)


def _caption_lines(rows: Sequence[Row], captions: list[int]) -> set[int]:
    """A caption's lines: its first, and the lines after it that are prose (one cell, no figures)."""
    lines: set[int] = set()
    for i in captions:
        lines.add(i)
        j = i + 1
        while j < len(rows) and len(rows[j].cells) == 1 and not numeric(rows[j].text.split()[-1]) and j not in captions:
            lines.add(j)
            j += 1
    return lines


def _merged(grid: Sequence[Row], headers: Sequence[Cell]) -> list[list[tuple[str, str]]]:
    """Each line's cells under the header they sit below; a line that only continues some cells of
    the row above (a wrapped cell) is added to it."""
    rows: list[list[tuple[str, str]]] = []
    first = headers[0]
    for line in grid:
        columns = [_column(c, headers) for c in line.cells]
        placed = [""] * len(headers)
        for col, cell in zip(columns, line.cells, strict=True):
            placed[col] = f"{placed[col]} {cell[0]}".strip()
        # A line with no figure that leaves the first column empty goes on with the row above (a
        # wrapped cell); one with a figure is a row of its own under the same first cell (a merged cell).
        lead = not placed[0] and line.cells[0][1] > first[2]
        if rows and lead and not any(numeric(c[0]) for c in line.cells):
            rows[-1] = [(h, f"{v} {placed[k]}".strip()) for k, (h, v) in enumerate(rows[-1])]
            continue
        if rows and lead:
            placed[0] = rows[-1][0][1]
        rows.append([(h[0], placed[k]) for k, h in enumerate(headers)])
    return rows


def _column(cell: Cell, headers: Sequence[Cell]) -> int:
    """The header a cell sits under: the most overlap, else the nearest centre."""
    def overlap(h: Cell) -> float:
        return min(cell[2], h[2]) - max(cell[1], h[1])
    best = max(range(len(headers)), key=lambda k: overlap(headers[k]))
    if overlap(headers[best]) > 0:
        return best
    centre = (cell[1] + cell[2]) / 2
    return min(range(len(headers)), key=lambda k: abs((headers[k][1] + headers[k][2]) / 2 - centre))


def numeric(text: str) -> bool:
    return bool(_NUMBER.match(text.strip()))


@dataclass(frozen=True)
class TableRow:
    """A row sentence read back: its table's label and its (header, cell) pairs, for showing the
    table as a table where the row is cited."""

    label: str
    cells: tuple[tuple[str, str], ...]


def parse_row(sentence: str) -> TableRow | None:
    """The row a sentence written by `table_paragraphs` holds, or None for any other sentence."""
    label, _, rest = sentence.partition(" — ")
    if not rest or not CAPTION.match(label):
        label, rest = "", sentence
    parts = rest.split(" · ")
    if len(parts) < 2 or "\n" in rest:
        return None
    cells = tuple((h.strip(), v.strip()) if v else ("", h.strip()) for h, _, v in (p.partition(": ") for p in parts))
    return TableRow(label, cells) if any(h for h, _ in cells) else None
