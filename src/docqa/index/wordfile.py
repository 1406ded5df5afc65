"""A Word document's text in reading order: content controls, nested tables, merged cells once,
and each header and footer once. python-docx's `paragraphs` and `tables` miss the first three."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Elements that only wrap blocks (or cells, or rows): their children are read in place.
_WRAPPERS = {_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "smartTag", _W + "moveTo"}
_SKIPPED = {_W + "del", _W + "moveFrom", _MC + "Fallback", _W + "sdtPr", _W + "tcPr", _W + "trPr", _W + "pPr", _W + "rPr"}


def blocks(document: Any) -> list[str]:
    """Headers, then the body, then footers, one text block per paragraph or table row."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    def parts(kind: str) -> Iterator[Any]:
        seen = set()
        for rel in document.part.rels.values():
            if rel.reltype == kind and not rel.is_external and rel.target_part.partname not in seen:
                seen.add(rel.target_part.partname)
                yield rel.target_part.element

    headers = _once(b for el in parts(RT.HEADER) for b in _blocks(el))
    footers = _once(b for el in parts(RT.FOOTER) for b in _blocks(el))
    return [*headers, *_blocks(document.element.body), *footers]


def _once(items: Iterator[str]) -> list[str]:
    # The same header on every section (first page, even pages) is read once.
    return list(dict.fromkeys(b for b in items if b))


def _blocks(parent: Any) -> Iterator[str]:
    for child in parent.iterchildren():
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
