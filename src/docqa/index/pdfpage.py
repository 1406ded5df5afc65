"""A PDF page as an image with a cited sentence marked on it: pdfium renders the page and finds the
sentence's words in its text layer, or on a scanned page among the words OCR reads there, whose
boxes are painted over."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

PAGE_DPI = 110  # sharp enough to read beside the text view, ~0.3 MB a page
MARK = (255, 213, 0, 110)  # a highlighter's yellow, see-through
_WORD = re.compile(r"[^\W_][\w.,%-]*")
SEARCH_WORDS = (8, 5, 3)  # how many of a sentence's opening words are looked for, longest first


def page_png(path: Path, page_no: int, sentence: str, ocr_langs: str = "") -> tuple[bytes, bool] | None:
    """The page (1-based) as PNG bytes and whether the sentence was found and marked on it; None
    when the file cannot be opened or has no such page. A page with no text layer is searched by
    OCR in `ocr_langs` (the languages the file was read in; a few seconds), when given."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return None
    try:
        if not 1 <= page_no <= len(pdf):
            return None
        page = pdf[page_no - 1]
        scale = PAGE_DPI / 72
        boxes = _boxes(page, sentence) or (_ocr_boxes(page, sentence, ocr_langs) if ocr_langs else [])
        image = page.render(scale=scale).to_pil().convert("RGBA")
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        height = page.get_height()
        for left, bottom, right, top in boxes:
            draw.rectangle([left * scale - 1, (height - top) * scale - 1, right * scale + 1, (height - bottom) * scale + 1], fill=MARK)
        out = io.BytesIO()
        Image.alpha_composite(image, layer).convert("RGB").save(out, "PNG", optimize=True)
        page.close()
        return out.getvalue(), bool(boxes)
    finally:
        pdf.close()


def _boxes(page: Any, sentence: str) -> list[tuple[float, float, float, float]]:
    """The rectangles of the sentence on the page: its opening words found in the text layer, then
    as many characters as the sentence has (the text docqa indexed joins hyphenated words and drops
    footnote marks, so it is searched by its words, not as one string). A table row ("Table 3 —
    model: ResNet-50 · top-1 err: 22.85 …") is found by its first cell and marked to its line's end."""
    textpage = page.get_textpage()
    try:
        cells = re.findall(r": ([^·]+?)(?: ·|$)", sentence) if " — " in sentence and " · " in sentence else []
        if cells:
            found = _find(textpage, cells[0].strip())
            return _line_rects(textpage, found) if found else []
        words = _WORD.findall(sentence)
        for n in SEARCH_WORDS:
            found = _find(textpage, " ".join(words[:n])) if len(words) >= n else None
            if found:
                return _rects(textpage, found[0], _length(textpage, found[0], words, len(sentence)))
        return []
    finally:
        textpage.close()


def _ocr_boxes(page: Any, sentence: str, langs: str) -> list[tuple[float, float, float, float]]:
    """The sentence's words among those OCR reads on a page with no text layer: where its opening
    words are read in a row, as many words as it has."""
    from docqa.index.ocr import OcrMissing, page_words

    textpage = page.get_textpage()
    try:
        if textpage.count_chars():
            return []  # a text layer that lacks the sentence: OCR would not find it either
    finally:
        textpage.close()
    try:
        words = page_words(page, langs)
    except OcrMissing:
        return []
    keys = [_key(w[0]) for w in words]
    wanted = [k for k in (_key(w) for w in sentence.split()) if k]
    for n in SEARCH_WORDS:
        if len(wanted) < n:
            continue
        at = next((i for i in range(len(keys) - n + 1) if keys[i : i + n] == wanted[:n]), None)
        if at is not None:
            return [(w[1], w[2], w[3], w[4]) for w in words[at : at + len(sentence.split())]]
    return []


def _key(word: str) -> str:
    return "".join(ch for ch in word.casefold() if ch.isalnum())


def _length(textpage: Any, start: int, words: list[str], chars: int) -> int:
    """Characters from the sentence's start to the end of its last words, where they follow within
    a little more than its length; else its length."""
    room = min(textpage.count_chars() - start, chars + chars // 5 + 20)
    tail = " ".join(words[-3:])
    searcher = textpage.search(tail, match_case=False, index=start)
    try:
        found = searcher.get_next()
    finally:
        searcher.close()
    if found and found[0] + found[1] - start <= room:
        return int(found[0] + found[1] - start)
    return min(room, chars)


def _find(textpage: Any, text: str) -> tuple[int, int] | None:
    if not text:
        return None
    searcher = textpage.search(text, match_case=False)
    try:
        return searcher.get_next()  # type: ignore[no-any-return]
    finally:
        searcher.close()


def _rects(textpage: Any, start: int, count: int) -> list[tuple[float, float, float, float]]:
    return [textpage.get_rect(i) for i in range(textpage.count_rects(start, count))]


def _line_rects(textpage: Any, found: tuple[int, int]) -> list[tuple[float, float, float, float]]:
    """From the found cell to the end of its line: the table row."""
    start = found[0]
    text = textpage.get_text_range(start, min(400, textpage.count_chars() - start))
    end = text.find("\r\n")
    return _rects(textpage, start, end if end > 0 else found[1])
