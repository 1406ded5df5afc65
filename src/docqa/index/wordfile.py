"""A Word document's text in reading order, streamed: content controls, nested tables, merged cells
once, and each header and footer once. python-docx's `paragraphs` and `tables` miss the first three."""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Elements that only wrap blocks (or cells, or rows): their children are read in place.
_WRAPPERS = {_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "smartTag", _W + "moveTo"}
_CONTAINERS = {_W + "body", _W + "hdr", _W + "ftr"}  # a part's blocks are the children of these
# Parts are data: no entities resolved, no DTD or network fetched (as python-docx's own parser).
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_SKIPPED = {_W + "del", _W + "moveFrom", _MC + "Fallback", _W + "sdtPr", _W + "tcPr", _W + "trPr", _W + "pPr", _W + "rPr"}


class TooMuchText(ValueError):
    """The document holds more text than a file may; `chars` is how much was read before stopping."""

    def __init__(self, chars: int) -> None:
        super().__init__(chars)
        self.chars = chars


def read_blocks(path: Path, max_chars: int) -> list[str]:
    """Headers, then the body, then footers, one text block per paragraph or table row, read as a
    stream: each top-level block is parsed, read and dropped, so memory holds the text, never the
    XML tree (python-docx parses every part whole: 2.9 GB for a 177 MB body). Raises TooMuchText
    past `max_chars`, KeyError or lxml's errors for a damaged file."""
    with zipfile.ZipFile(path) as z:
        main = _target(z, "_rels/.rels", "", "/officeDocument")[0]
        folder = main.rpartition("/")[0]
        rels = f"{folder}/_rels/{main.rpartition('/')[2]}.rels"
        linked = rels in z.namelist()
        headers = _target(z, rels, folder, "/header") if linked else []
        footers = _target(z, rels, folder, "/footer") if linked else []
        budget = _Budget(max_chars)
        top = _once(b for part in headers for b in _stream(z, part, budget))
        body = [b for b in _stream(z, main, budget) if b]
        bottom = _once(b for part in footers for b in _stream(z, part, budget))
    return [*top, *body, *bottom]


class _Budget:
    def __init__(self, chars: int) -> None:
        self.limit, self.read = chars, 0

    def spend(self, text: str) -> str:
        self.read += len(text)
        if self.read > self.limit:
            raise TooMuchText(self.read)
        return text


def _target(z: zipfile.ZipFile, rels: str, folder: str, kind: str) -> list[str]:
    """The internal parts a relationships part points at with a type ending in `kind`, in order."""
    root = etree.fromstring(z.read(rels), _PARSER)
    out = []
    for rel in root:
        if rel.get("Type", "").endswith(kind) and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            out.append(target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target)))
    return list(dict.fromkeys(out))


def _stream(z: zipfile.ZipFile, part: str, budget: _Budget) -> Iterator[str]:
    """The blocks of one part (body, header or footer), each top-level element read and dropped."""
    with z.open(part) as fh:
        container = None
        for event, el in etree.iterparse(fh, events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False):
            if event == "start":
                if container is None and el.tag in _CONTAINERS:
                    container = el
                continue
            if container is None or el.getparent() is not container:
                continue
            for block in _block(el):
                yield budget.spend(block)
            el.clear()
            while el.getprevious() is not None:  # the elements read before it are dropped too
                del container[0]


def _once(items: Iterator[str]) -> list[str]:
    # The same header on every section (first page, even pages) is read once.
    return list(dict.fromkeys(b for b in items if b))


def _blocks(parent: Any) -> Iterator[str]:
    for child in parent.iterchildren():
        yield from _block(child)


def _block(child: Any) -> Iterator[str]:
    if child.tag == _W + "p":
        yield _paragraph(child)
    elif child.tag == _W + "tbl":
        yield from _table(child)
    elif child.tag in _WRAPPERS:
        yield from _blocks(child)


def _paragraph(p: Any) -> str:
    return "".join(_runs(p)).strip()


def _runs(el: Any) -> Iterator[str]:
    for child in el.iterchildren():
        tag = child.tag
        if tag in _SKIPPED:
            continue
        if tag == _W + "t":
            yield child.text or ""
        elif tag == _W + "tab":
            yield "\t"
        elif tag in (_W + "br", _W + "cr"):
            yield "\n"
        elif tag == _W + "p":  # a text box's paragraph inside a drawing
            yield " " + _paragraph(child) + " "
        elif isinstance(tag, str):
            yield from _runs(child)


def _table(tbl: Any) -> Iterator[str]:
    """One block per row, cells joined by " | "; a cell that continues a vertical merge is left out
    (its value is the first cell's), and a nested table's rows follow the row that holds it."""
    for row in _children(tbl, _W + "tr"):
        cells, nested = [], []
        for cell in _children(row, _W + "tc"):
            if _continues_merge(cell):
                continue
            texts = []
            for child in _children(cell, _W + "p", _W + "tbl"):
                if child.tag == _W + "p":
                    texts.append(_paragraph(child))
                else:
                    nested.extend(_table(child))
            cells.append(" ".join(t for t in texts if t))
        if any(cells):
            yield " | ".join(cells)
        yield from nested


def _children(el: Any, *tags: str) -> Iterator[Any]:
    """Children with one of `tags`, looking through wrappers (a row or cell inside a content control)."""
    for child in el.iterchildren():
        if child.tag in tags:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, *tags)


def _continues_merge(cell: Any) -> bool:
    merge = cell.find(f"{_W}tcPr/{_W}vMerge")
    return merge is not None and merge.get(_W + "val") not in ("restart",)
