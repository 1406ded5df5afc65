"""Scanned PDF pages read by Tesseract (through pytesseract): a page with no text layer is rendered
by pdfium and its words recognised; where Tesseract is missing the file is skipped with that reason."""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

OCR_DPI = 300  # Tesseract reads print best at 300 dpi
# Languages a page is read in, Tesseract's names joined by "+": the first that is installed are used.
DEFAULT_LANGS = "spa+eng"
OCR_MARK = "OCR"  # how an OCR'd file is said to be read (Document.encoding): "OCR (spa+eng), 28 pages"


class OcrMissing(Exception):
    """Tesseract, or the languages asked for, are not installed: the message says how to install them."""


def ocr_langs() -> str:
    """The languages from DOCQA_OCR_LANGS (e.g. "spa+eng", "deu"), limited to those installed."""
    wanted = os.environ.get("DOCQA_OCR_LANGS", DEFAULT_LANGS)
    _need_tesseract()
    import pytesseract

    installed = set(pytesseract.get_languages(config=""))
    langs = [lang for lang in wanted.split("+") if lang in installed]
    if not langs:
        raise OcrMissing(f"scanned PDF and no Tesseract language of {wanted} is installed; install "
                         f"tesseract-ocr-{wanted.split('+')[0]} or set DOCQA_OCR_LANGS to one of {'+'.join(sorted(installed))}")
    return "+".join(langs)


def _need_tesseract() -> None:
    if shutil.which("tesseract") is None:
        raise OcrMissing("scanned PDF (no text layer) and Tesseract is not installed; install it "
                         "(`apt-get install tesseract-ocr tesseract-ocr-spa`, or `make setup`) and run `docqa index`")


def lines_text(lines: list[list[Word]]) -> str:
    """What OCR read, as plain lines: for telling the page's language."""
    return "\n".join(" ".join(w[0] for w in line) for line in lines)


# Languages docqa detects (index.segment) and Tesseract's names for them.
TESSERACT_NAMES = {"es": "spa", "en": "eng", "fr": "fra", "de": "deu", "it": "ita", "pt": "por", "ca": "cat", "nl": "nld"}


def settled_langs(first_page: str, langs: str) -> str:
    """The language a scan is read in: the one its first page reads as, when that is installed and
    DOCQA_OCR_LANGS was not set; a model of the wrong language reads "i" as "¡"."""
    from docqa.index.segment import detect_language

    if "DOCQA_OCR_LANGS" in os.environ or "+" not in langs:
        return langs
    name = TESSERACT_NAMES.get(detect_language(first_page, default=""), "")
    return name if name in langs.split("+") else langs


def describe(langs: str, pages: int) -> str:
    return f"{OCR_MARK} ({langs}), {pages} page{'s' if pages != 1 else ''}"


def langs_read(encoding: str) -> str:
    """The languages OCR read a document in, from how it is said to be read (`describe`); "" when none."""
    found = re.match(re.escape(OCR_MARK) + r" \(([\w+]+)\)", encoding)
    return found.group(1) if found else ""


def pages_read(encoding: str) -> int:
    """How many pages OCR read, from how a document is said to be read (`describe`); 0 when none."""
    found = re.search(r"(\d+) pages?$", encoding) if encoding.startswith(OCR_MARK) else None
    return int(found.group(1)) if found else 0


Word = tuple[str, float, float, float, float]  # text, left, bottom, right, top in PDF points


def page_words(page: Any, langs: str) -> list[Word]:
    """The words Tesseract reads on a rendered page, in reading order, with their boxes in the page's
    own coordinates (what a highlight over a scanned page needs)."""
    return [w for line in ocr_lines(page, langs) for w in line]


def ocr_lines(page: Any, langs: str) -> list[list[Word]]:
    """The page's lines as Tesseract reads them (its blocks, paragraphs and lines, in its order),
    each a list of words with their boxes in PDF points: the layout reader then finds the page's
    paragraphs, columns and tables from them as it does from a text layer."""
    import pytesseract

    _need_tesseract()
    image = page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()
    try:
        data = pytesseract.image_to_data(image, lang=langs, config="--psm 1", output_type=pytesseract.Output.DICT)
    finally:
        image.close()
    scale, height = 72 / OCR_DPI, page.get_height()
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for i, text in enumerate(data["text"]):
        if str(text).strip():
            left, top, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            lines.setdefault(key, []).append((str(text), left * scale, height - (top + h) * scale, (left + w) * scale, height - top * scale))
    return list(lines.values())
