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
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=44)
    for n, line in enumerate(lines):
        draw.text((150, 200 + 80 * n), line, fill=0, font=font)
    c = canvas.Canvas(str(path), pagesize=(612, 792))
    c.drawImage(ImageReader(image), 0, 0, width=612, height=792)
    c.showPage()
    c.save()


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
