"""A scanned page (an image, no text layer) is read by OCR; without Tesseract the file is skipped
with that reason, never indexed as garbage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from docqa.index import OCR_MARK
from docqa.index.extract import SkipFile, extract


def _scan(path: Path, lines: list[str]) -> None:
    """A one-page PDF that is only a picture of printed lines, as a scanner makes it."""
    _scan_at(path, [(150, 200 + 80 * n, line) for n, line in enumerate(lines)], size=44)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed (make setup installs it)")
def test_a_scanned_page_is_read_by_ocr(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    _scan(path, ["Probabilistic counting algorithms", "estimate the number of distinct", "elements in a large collection."])
    pages: list[tuple[int, int]] = []
    extracted = extract(path, on_page=lambda done, total: pages.append((done, total)))
    assert pages == [(1, 1)]  # progress heard page by page
    assert "distinct" in extracted.text and "collection" in extracted.text
    assert extracted.encoding.startswith(OCR_MARK) and extracted.encoding.endswith("1 page")
    assert "(eng)" in extracted.encoding  # its language detected from the first page


def test_without_tesseract_a_scan_is_skipped_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "scan.pdf"
    _scan(path, ["A page that is only an image."])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SkipFile, match="Tesseract is not installed"):
        extract(path)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed (make setup installs it)")
def test_a_cited_sentence_is_marked_on_a_scanned_page_where_ocr_reads_it(tmp_path: Path) -> None:
    from io import BytesIO

    import numpy as np
    from PIL import Image

    from docqa.index import langs_read, page_png

    path = tmp_path / "scan.pdf"
    _scan(path, ["Probabilistic counting algorithms", "estimate the number of distinct", "elements in a large collection."])
    langs = langs_read(extract(path).encoding)
    assert langs == "eng"
    shown = page_png(path, 1, "estimate the number of distinct", langs)
    assert shown is not None and shown[1]
    pixels = np.asarray(Image.open(BytesIO(shown[0])).convert("RGB")).astype(int)
    rows = np.nonzero(((pixels[..., 0] > 200) & (pixels[..., 1] > 180) & (pixels[..., 2] < 150)).any(axis=1))[0]
    # The second printed line, and only it, is painted (lines are 80 of 2200 pixels apart in the scan).
    line = 200 + 80 * 1
    height = pixels.shape[0] / 2200
    assert rows.size and rows.min() > (line - 40) * height and rows.max() < (line + 90) * height
    assert page_png(path, 1, "estimate the number of distinct")[1] is False  # type: ignore[index]  # no OCR asked
    assert page_png(path, 1, "words printed nowhere on this page", langs)[1] is False  # type: ignore[index]


def _scan_at(path: Path, lines: list[tuple[int, int, str]], size: int = 40) -> None:
    """A one-page scan with text drawn at (x, y) pixel positions of a 1700×2200 page (200 dpi)."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size)
    for x, y, text in lines:
        draw.text((x, y), text, fill=0, font=font)
    c = canvas.Canvas(str(path), pagesize=(612, 792))
    c.drawImage(ImageReader(image), 0, 0, width=612, height=792)
    c.showPage()
    c.save()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed (make setup installs it)")
def test_a_table_in_a_scan_is_read_as_rows_with_its_headers_and_caption(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    rows = [("m", "Bias", "Error"), ("8", "1.0169", "31.92"), ("16", "1.0104", "19.63"), ("32", "0.9798", "12.98")]
    drawn = [(150, 200, "The estimates were checked against many simulations of the algorithm."),
             (700, 400, "TABLE II"), (300, 480, "Bias and standard error for several values of m")]
    drawn += [(400 + 400 * k, 600 + 90 * n, cell) for n, row in enumerate(rows) for k, cell in enumerate(row)]
    _scan_at(path, drawn)
    text = extract(path).text
    row = next((line for line in text.splitlines() if "19.63" in line), "")
    assert row.startswith("TABLE II (Bias and standard error") and "m: 16" in row and "Error: 19.63" in row
    assert "simulations of the algorithm" in text  # the prose around it still read
