"""A PDF page's text as a reader sees it, from pdfium's characters: words hyphenated at a line end
joined, exponents and indices kept readable (10^4, d_k), footnote marks off the words they follow,
paragraphs apart, running headers and footers dropped."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from docqa.index.pdfcolumns import Box, reading_order
from docqa.index.pdfjoin import SOFT_HYPHENS, Page, plain, run_on
from docqa.index.pdftables import CAPTION, Cell, Row, numeric, table_paragraphs

# A character is raised or lowered (a superscript or subscript) when it is this much smaller than
# the text around it and its baseline is this share of the line's height above or below it.
SMALLER = 0.85
SHIFT = 0.2
# A gap between two lines this many times a line's height starts a new paragraph.
PARAGRAPH_GAP = 0.9
# Type this much smaller than the body's, in a short block away from the page's foot: a figure's labels.
FIGURE_SIZE = 0.9
# A gap between two words of a line this many times the type size separates a table's cells.
CELL_GAP = 1.2
# A line in the top or bottom band of the page, repeated on this share of the pages, is a running header or footer.
MARGIN_BAND = 0.1
RUNNING_SHARE = 0.4  # under half: a book or journal alternates its headers between even and odd pages


@dataclass(frozen=True)
class _Char:
    text: str
    size: float
    bottom: float
    top: float
    left: float
    right: float
    generated: bool  # a space or line break pdfium inferred, not in the PDF


_Piece = tuple[str, float, float, float, float]  # text as written out, top, bottom, left, right


@dataclass
class _Line:
    text: str
    top: float
    bottom: float
    size: float = 0.0
    cells: tuple[Cell, ...] = ()  # runs of words with a wide gap between them: a table's cells
    ink: float = 0.0  # the median height of its letters as drawn: a figure's labels are drawn small whatever their font says

    @property
    def height(self) -> float:
        return max(1.0, self.top - self.bottom)


def page_lines(page: Any) -> list[_Line]:
    """The page's lines in pdfium's reading order, with scripts marked and hyphenation joined."""
    from pypdfium2 import raw

    textpage = page.get_textpage()
    try:
        chars = [_char(textpage, raw, i) for i in range(textpage.count_chars())]
    finally:
        textpage.close()
    body = median([c.size for c in chars if c.text.strip() and c.size > 0] or [0.0])
    return _lines(_marked(chars, body), chars)


def _char(textpage: Any, raw: Any, i: int) -> _Char:
    code = raw.FPDFText_GetUnicode(textpage, i)
    left, bottom, right, top = textpage.get_charbox(i)
    return _Char(chr(code) if code else "", raw.FPDFText_GetFontSize(textpage, i), bottom, top, left, right,
                 bool(raw.FPDFText_IsGenerated(textpage, i)))


def _marked(chars: list[_Char], body: float) -> list[_Piece]:
    """Each character as it is written out, with its line box: a raised run after a digit is an
    exponent ("10^4"), after a word a footnote mark (dropped); a lowered run is an index ("d_k")."""
    out: list[_Piece] = []
    base: _Char | None = None  # the last character of ordinary size on this line
    i = 0
    while i < len(chars):
        c = chars[i]
        if c.text in "\r\n" or c.generated and not c.text.strip():
            out.append((c.text, c.top, c.bottom, c.left, c.right))
            if c.text in "\r\n":
                base = None
            i += 1
            continue
        script = _script(c, base, body)
        if not script:
            out.append((c.text, c.top, c.bottom, c.left, c.right))
            base = c
            i += 1
            continue
        j = i + 1
        while j < len(chars) and chars[j].text.strip() and _script(chars[j], base, body) == script:
            j += 1
        run = "".join(ch.text for ch in chars[i:j])
        prev = base.text if base is not None else ""
        power = script == "^" and _power_base(out)
        dropped = script == "^" and bool(prev) and not power and _mark(run)
        if dropped or power or script == "_" and prev.isalpha():
            while out and not out[-1][0].strip():
                out.pop()  # the space pdfium put before it: "10^4", not "10 ^4"
        if power:
            out.append(("^" + run, base.top, base.bottom, c.left, chars[j - 1].right))  # type: ignore[union-attr]
        elif script == "_" and prev.isalpha():
            out.append(("_" + run, base.top, base.bottom, c.left, chars[j - 1].right))  # type: ignore[union-attr]
        elif not dropped:
            out.append((run, c.top, c.bottom, c.left, chars[j - 1].right))
        # pdfium breaks the line at a raised mark; where the text goes on along the same baseline,
        # that break is not the text's.
        k = j
        while k < len(chars) and chars[k].generated and chars[k].text in "\r\n":
            k += 1
        if k > j and k < len(chars) and base is not None and chars[k].bottom < base.top and chars[k].top > base.bottom:
            out.append((" " if chars[k].text[:1].isalnum() else "", base.top, base.bottom, base.right, base.right))
            j = k
        i = j
    return out


def _power_base(out: list[_Piece]) -> bool:
    """A raised run is an exponent after "10", a single digit or a bracket ("10^4", "2^n", "(x+1)^2");
    after a longer number it is a footnote mark ("ley 19.880⁶")."""
    tail = re.search(r"[\w.)\]]*$", "".join(piece[0] for piece in out[-8:]).rstrip())
    token = tail.group() if tail else ""
    return token.endswith(("10", ")", "]")) or re.fullmatch(r"\d", token) is not None or re.search(r"[×x]10$", token) is not None


def _script(c: _Char, base: _Char | None, body: float) -> str:
    # Only beside text of the body's size: a figure's small labels are not scripts of each other.
    if base is None or c.size <= 0 or base.size < SMALLER * body or c.size >= SMALLER * base.size:
        return ""
    height = max(1.0, base.top - base.bottom)
    if c.bottom - base.bottom > SHIFT * height:
        return "^"
    if base.bottom - c.bottom > SHIFT * height * 0.5:
        return "_"
    return ""


def _mark(run: str) -> bool:
    """A footnote mark: a number, a star or a dagger, as notes are called out."""
    return bool(re.fullmatch(r"[\d,*†‡§]+", run))


def _lines(marked: list[_Piece], chars: list[_Char]) -> list[_Line]:
    lines: list[_Line] = []
    pieces: list[_Piece] = []
    for piece in marked + [("\n", 0.0, 0.0, 0.0, 0.0)]:
        if piece[0] in "\r\n":
            if piece[0] == "\n":
                line = _line(pieces, chars)
                if line is not None:
                    lines.append(line)
                pieces = []
            continue
        pieces.append(piece)
    return lines


def _line(pieces: list[_Piece], chars: list[_Char]) -> _Line | None:
    text = "".join(p[0] for p in pieces).strip()
    inked = [p for p in pieces if p[0].strip()]
    if not text or not inked:
        return None
    top, bottom = max(p[1] for p in inked), min(p[2] for p in inked)
    size = _size_between(chars, top, bottom)
    cells: list[list[_Piece]] = []
    last: _Piece | None = None
    for piece in pieces:
        if piece[0].strip():
            if last is None or piece[3] - last[4] > CELL_GAP * max(size, 1.0):
                cells.append([])
            last = piece
        if cells:
            cells[-1].append(piece)
    ink = median(p[1] - p[2] for p in inked)
    if len(text) >= 4 and inked[-1][4] - inked[0][3] < ink * 2:
        ink = 0.0  # set sideways (an axis's label): narrower than a few letters are tall
    return _Line(text, top, bottom, size, tuple(_cell(c) for c in cells), ink)


def _cell(pieces: list[_Piece]) -> Cell:
    inked = [p for p in pieces if p[0].strip()]
    return "".join(p[0] for p in pieces).strip(), min(p[3] for p in inked), max(p[4] for p in inked)


def ocr_page_lines(read: Sequence[Sequence[tuple[str, float, float, float, float]]]) -> list[_Line]:
    """Lines OCR read (words with their boxes: text, left, bottom, right, top) as the reader's own
    lines, so a scanned page's columns, paragraphs and tables are found as a text layer's are. One
    type size for the whole page (a scan's word boxes vary with ascenders, not with the type); a
    word hyphenated at a line end, the next line going on in lower case, is joined."""
    lines = []
    for words in read:
        words = sorted(words, key=lambda w: w[1])
        height = median(w[4] - w[2] for w in words)
        cells: list[list[tuple[str, float, float, float, float]]] = []
        for w in words:
            if not cells or w[1] - cells[-1][-1][3] > CELL_GAP * height:
                cells.append([])
            cells[-1].append(w)
        lines.append(_Line(" ".join(w[0] for w in words), max(w[4] for w in words), min(w[2] for w in words), height,
                           tuple((" ".join(w[0] for w in c), c[0][1], c[-1][3]) for c in cells), height))
    size = median([ln.size for ln in lines] or [0.0])
    for i, line in enumerate(lines):
        line.size = line.ink = size
        after = lines[i + 1].text if i + 1 < len(lines) else ""
        if line.text.endswith("-") and after[:1].islower():
            line.text = line.text[:-1] + SOFT_HYPHENS[-1]
    return lines


def _size_between(chars: list[_Char], top: float, bottom: float) -> float:
    sizes = [c.size for c in chars if c.text.strip() and c.bottom >= bottom - 0.5 and c.top <= top + 0.5]
    return median(sizes) if sizes else 0.0


def page_text(lines: list[_Line], running: set[str], height: float, width: float = 0.0) -> Page:
    """The page as prose: paragraphs in reading order, a sentence that runs across a column or past a
    table joined again, then the page's tables and figures' text, then its footnotes; running
    headers and footers left out."""
    body = median([ln.size for ln in lines if ln.size > 0] or [0.0])
    ink = median([ln.ink for ln in lines if ln.ink > 0] or [0.0])
    blocks = _blocks([ln for ln in lines if _key(ln.text) not in running])
    boxes = [Box(min(ln.cells[0][1] for ln in b), max(ln.cells[-1][2] for ln in b), b[0].top, len(b)) for b in blocks]
    blocks = [blocks[i] for i in reading_order(boxes, width)]
    prose: list[list[_Line]] = []
    tables: list[list[_Line]] = []  # consecutive tabular blocks: one table with its caption
    notes: list[list[_Line]] = []
    figures: list[list[_Line]] = []
    after_table = False
    for block in blocks:
        # A label set apart ("TABLE IV", centred above its caption, as scans have it) takes the
        # block after it as its caption's text.
        label_only = after_table and len(tables[-1]) == 1 and bool(CAPTION.fullmatch(tables[-1][0].text.strip()))
        if _tabular(block) or label_only:
            if after_table:
                tables[-1] = tables[-1] + block
            else:
                tables.append(block)
            after_table = True
            continue
        after_table = False
        if body and block[0].size < 0.95 * body and block[0].top < height * 0.3:
            notes.append(block)  # small print low on the page: footnotes
        elif len(_joined(block)) < 80 and (body and block[0].size < FIGURE_SIZE * body or block[0].ink < FIGURE_SIZE * ink):
            figures.append(block)  # a few words in small type elsewhere: a figure's labels
        else:
            prose.append(block)
    parts: list[str] = []
    for block in prose:
        parts = run_on(parts, _joined(block))
    rows = [[Row(ln.text, ln.cells) for ln in t] for t in tables]
    extras = [p for t in rows for p in table_paragraphs(t)] + [_joined(b) for b in figures + notes]
    return Page([plain(p) for p in parts], [plain(p) for p in extras])


def has_images(page: Any) -> bool:
    from pypdfium2 import raw

    return next(iter(page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2)), None) is not None


def _blocks(lines: list[_Line]) -> list[list[_Line]]:
    """Lines grouped into blocks: a gap wider than a line, a jump up the page (the next column) or a
    change of type size ends one."""
    blocks: list[list[_Line]] = []
    for line in lines:
        prev = blocks[-1][-1] if blocks else None
        if (prev is None or prev.bottom - line.top > PARAGRAPH_GAP * prev.height or line.top > prev.top + prev.height
                or abs(line.size - prev.size) > 0.15 * max(prev.size, 1.0)):
            blocks.append([line])
        else:
            blocks[-1].append(line)
    return blocks


def _tabular(block: list[_Line]) -> bool:
    """Rows of cells: most lines have words set apart by wide gaps, or are mostly numbers."""
    def row(line: _Line) -> bool:
        words = line.text.split()
        numbers = sum(numeric(w) for w in words)
        return len(line.cells) >= 2 or numbers >= 2 and numbers >= 0.3 * len(words)
    # A table's or figure's caption goes with it, out of the prose it would cut.
    return sum(row(ln) for ln in block) >= max(1, 0.5 * len(block)) or bool(CAPTION.match(block[0].text))


def _joined(block: list[_Line]) -> str:
    out = ""
    for line in block:
        if out and out[-1] in SOFT_HYPHENS:
            out = out[:-1] + line.text
        else:
            out = f"{out}\n{line.text}" if out else line.text
    return out


def running_lines(pages: Sequence[tuple[list[_Line], float, float]]) -> set[str]:
    """Lines in the top or bottom band of many pages, or a page's top or bottom line, their numbers
    aside: running headers, footers and page numbers."""
    if len(pages) < 3:
        return set()
    seen: Counter[str] = Counter()
    for lines, height, _ in pages:
        band = {_key(ln.text) for ln in lines if ln.top > height * (1 - MARGIN_BAND) or ln.bottom < height * MARGIN_BAND}
        # A scan's page sits anywhere on its sheet: its top and bottom lines count wherever they are.
        if lines:
            band |= {_key(max(lines, key=lambda ln: ln.top).text), _key(min(lines, key=lambda ln: ln.bottom).text)}
        seen.update(band)
    return {k for k, n in seen.items() if n >= RUNNING_SHARE * len(pages) or k == "#"}


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()).lower())
