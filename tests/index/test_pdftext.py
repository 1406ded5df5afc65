"""PDF pages read as a person reads them: hyphenation joined, scripts kept readable, footnote marks
off the words, running headers dropped, a table kept apart from the sentence it would cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from docqa.index.extract import extract

pytest.importorskip("reportlab")


def _page(c, lines: list[tuple[float, float, str, float]]) -> None:  # type: ignore[no-untyped-def]
    for x, y, text, size in lines:
        c.setFont("Helvetica", size)
        c.drawString(x, y, text)
    c.showPage()


def _pdf(path: Path, pages: list[list[tuple[float, float, str, float]]]) -> str:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for page in pages:
        _page(c, page)
    c.save()
    return extract(path).text


def test_a_word_hyphenated_at_a_line_end_is_joined(tmp_path: Path) -> None:
    text = _pdf(tmp_path / "h.pdf", [[(72, 700, "The network is easier to train and the learn-", 10),
                                      (72, 688, "ing rate is divided by ten when the error stops falling.", 10)]])
    assert "learning rate" in text and "learn-" not in text


def test_a_footnote_mark_leaves_the_word_and_an_exponent_stays_one(tmp_path: Path) -> None:
    text = _pdf(tmp_path / "s.pdf", [[(72, 700, "We won the competitions", 10), (191, 704, "1", 6), (194, 700, ", where we ran", 10),
                                      (72, 680, "It has 10", 10), (113, 684, "4", 6), (117, 680, " parameters.", 10)]])
    assert "competitions, where" in text and "competitions1" not in text
    assert "10^4 parameters" in text


def test_running_headers_are_dropped_and_pages_kept(tmp_path: Path) -> None:
    pages = [[(72, 800, "Journal of Examples, vol. 3", 9), (72, 700, f"Body text of page {n} says something long enough.", 10),
              (290, 40, str(n), 9)] for n in (1, 2, 3)]
    path = tmp_path / "r.pdf"
    text = _pdf(path, pages)
    assert "Journal of Examples" not in text and "Body text of page 3" in text
    assert len(extract(path).page_starts) == 3


def test_a_table_does_not_cut_the_sentence_it_sits_in(tmp_path: Path) -> None:
    body = [(72, 700, "The deeper residual network keeps improving as its depth grows and it", 10),
            (72, 688, "reaches a lower error than every shallower network we have trained so", 10)]
    table = [(72, 650, "model", 9), (200, 650, "top-1 err.", 9), (300, 650, "top-5 err.", 9),
             (72, 638, "ResNet-50", 9), (200, 638, "22.85", 9), (300, 638, "6.71", 9),
             (72, 626, "ResNet-101", 9), (200, 626, "21.75", 9), (300, 626, "6.05", 9)]
    rest = [(72, 590, "far, which shows that the gains come from depth itself and not from width.", 10),
            (72, 578, "This holds on every dataset we tried, large and small, with the same settings.", 10)]
    caption = [(72, 614, "Table 2. Error rates on the validation set.", 9)]
    text = _pdf(tmp_path / "t.pdf", [body + table + caption + rest])
    assert "trained so far, which shows" in text.replace("\n", " ")
    assert text.index("ResNet-50") > text.index("far, which shows")
    # Each row a paragraph of its own, read with the table's label and its column headers.
    assert "\n\nTable 2 (Error rates on the validation set) — model: ResNet-50 · top-1 err: 22.85 · top-5 err: 6.71\n\n" in text


def test_the_cited_sentence_is_marked_on_its_page(tmp_path: Path) -> None:
    from io import BytesIO

    import numpy as np
    from PIL import Image

    from docqa.index import page_png

    path = tmp_path / "p.pdf"
    _pdf(path, [[(72, 700, "A first page.", 10)],
                [(72, 700, "The second page says that the bridge opened in 1932 after six years.", 10),
                 (72, 680, "Nothing else is written here.", 10)]])
    shown = page_png(path, 2, "The second page says that the bridge opened in 1932 after six years.")
    assert shown is not None and shown[1]
    pixels = np.asarray(Image.open(BytesIO(shown[0])).convert("RGB")).astype(int)
    yellow = int(((pixels[..., 0] > 200) & (pixels[..., 1] > 180) & (pixels[..., 2] < 150)).sum())
    assert yellow > 500  # the sentence's box is painted
    assert page_png(path, 2, "A sentence this page does not hold at all.")[1] is False  # type: ignore[index]
    assert page_png(path, 3, "anything") is None


def test_two_columns_are_read_down_the_left_then_the_right(tmp_path: Path) -> None:
    # The right column is drawn first: the file's order is not the reading order.
    right = [(320, 700 - 12 * n, f"Right column line {n} continues the story here", 9) for n in range(8)]
    left = [(72, 700 - 12 * n, f"Left column line {n} opens the story here now", 9) for n in range(8)]
    title = [(150, 760, "A Two Column Paper About Reading Order", 14)]
    text = _pdf(tmp_path / "c.pdf", [title + right + left])
    assert text.index("A Two Column") < text.index("Left column line 0") < text.index("Left column line 7") < text.index("Right column line 0")
