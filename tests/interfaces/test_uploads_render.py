"""Uploads (limits, safe names, no overwrite) and HTML rendering (always escaped)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from docqa.index.store import SentenceRow
from docqa.index.uploads import safe_name, save_upload
from docqa.interfaces.render import answer_markdown, document_html, passage_html, source_label
from docqa.types import Answer, AnswerSentence, Citation, Document


def test_safe_names() -> None:
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("..\\..\\evil.md") == "evil.md"
    assert safe_name(".hidden.TXT") == "hidden.txt"
    assert safe_name("informe año 2024; rm -rf.pdf") == "informe año 2024_ rm -rf.pdf"


def test_long_names_in_any_script_are_cut_to_fit_the_file_system_and_every_file_of_a_batch_is_saved(tmp_path: Path) -> None:
    from docqa.index.uploads import save_uploads

    corpus = tmp_path / "corpus"
    names = ["日" * 120 + ".txt", "日" * 120 + ".txt", "ñ" * 300 + ".md", "a" * 400 + ".txt"]
    results = save_uploads(corpus, [(n, b"Un texto. Con dos frases.") for n in names], 1000)
    assert all(r.saved_as for r in results), [r.message for r in results]
    saved = sorted(p.name for p in corpus.iterdir())
    assert len(saved) == 4 and all(len(n.encode()) <= 255 for n in saved)
    assert results[1].saved_as == results[0].saved_as.removesuffix(".txt") + " (1).txt"  # type: ignore[union-attr]
    assert all(n.endswith((".txt", ".md")) and "\ufffd" not in n for n in saved)


def test_a_file_the_folder_refuses_is_one_line_and_the_rest_of_the_batch_is_saved(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import errno
    import os

    from docqa.index import uploads

    real_open = os.open

    def full_disk(path, *args):  # type: ignore[no-untyped-def]
        if Path(path).name == "b.txt":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, *args)

    monkeypatch.setattr(uploads.os, "open", full_disk)
    results = uploads.save_uploads(tmp_path / "corpus", [("a.txt", b"Uno."), ("b.txt", b"Dos."), ("c.txt", b"Tres.")], 1000)
    assert [r.saved_as for r in results] == ["a.txt", None, "c.txt"]
    assert "No space left" in results[1].message and "\n" not in results[1].message


def test_upload_rejections_and_no_overwrite(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    assert save_upload(corpus, "virus.exe", b"MZ", 1000).saved_as is None
    assert "not a supported type" in save_upload(corpus, "virus.exe", b"MZ", 1000).message
    assert "over the" in save_upload(corpus, "big.txt", b"x" * 2000, 1000).message
    assert "empty" in save_upload(corpus, "empty.txt", b"  ", 1000).message
    first = save_upload(corpus, "nota.txt", b"uno", 1000)
    second = save_upload(corpus, "nota.txt", b"dos", 1000)
    assert (first.saved_as, second.saved_as) == ("nota.txt", "nota (1).txt")
    assert (corpus / "nota.txt").read_bytes() == b"uno" and "already exists" in second.message


def test_too_many_uploads_at_once_are_all_rejected_with_the_way_round(tmp_path: Path) -> None:
    from docqa.index.uploads import MAX_FILES, save_uploads

    corpus = tmp_path / "corpus"
    batch = [(f"n{i}.txt", b"texto") for i in range(MAX_FILES + 1)]
    results = save_uploads(corpus, batch, 1000)
    assert all(r.saved_as is None and "docqa index" in r.message for r in results) and not corpus.exists()
    assert all(r.saved_as for r in save_uploads(corpus, batch[:MAX_FILES], 1000))


def test_document_text_is_escaped() -> None:
    evil = "<script>alert('x')</script> <img src=x onerror=alert(1)>"
    html = document_html(f"Antes. {evil} Después.", 7, 7 + len(evil))
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    row = SentenceRow(1, "d.html", 0, 0, len(evil), None, 1, evil)
    assert "<script>" not in passage_html(evil, [row], 1) and "<mark" in passage_html(evil, [row], 1)
    answer = Answer("x", False, sentences=(AnswerSentence(evil, (1,), True),))
    assert "<script>" not in answer_markdown(answer)


def test_a_source_is_named_by_its_title_page_and_opening_words_not_offsets() -> None:
    sentence = "Las dos delegaciones acordaron reunirse nuevamente en Washington en enero de 2024."
    titled = Document("informes/migracion.pdf", "", 0.0, 0, f"Migración 2024\n\n{sentence}")
    label = source_label(Citation(1, "informes/migracion.pdf", sentence, 16, 98, 3, 1.0), titled)
    assert label == "Migración 2024, p. 3 — “Las dos delegaciones acordaron reunirse nuevamente en Washington…”"
    untitled = Document("seed.txt", "", 0.0, 0, sentence)
    assert source_label(Citation(1, "seed.txt", "Se reunirán.", 0, 12, None, 1.0), untitled) == "seed.txt — “Se reunirán.”"
    assert "16" not in label and "98" not in label


def test_a_cited_table_row_opens_as_its_table_with_the_row_marked_and_prose_as_a_passage() -> None:
    from docqa.interfaces.render import source_html

    label = "Table 3 (Error rates on ImageNet validation)"
    texts = [
        "Deeper nets do better.",
        f"{label} — model: VGG-16 · top-1 err: 28.07 · top-5 err: 9.33",
        f"{label} — model: ResNet-50 · top-1 err: 22.85 · top-5 err: 6.71",
        f"{label} — model: ResNet-152 · top-1 err: 21.43 · top-5 err: 5.71",
        "Table 4 (Single-model results) — method: VGG · top-5 err: 8.43",
        "We then study CIFAR-10.",
    ]
    doc, rows, at = "", [], 0
    for i, t in enumerate(texts):
        rows.append(SentenceRow(i + 1, "r.pdf", i, at, at + len(t), 6, 1, t))
        doc += t + "\n\n"
        at = len(doc)
    html = source_html(doc, rows, 3)
    assert "<table>" in html and "<th>top-1 err</th>" in html and escape(label) in html
    marked = html.split("<tr class='docqa-cited'>")[1].split("</tr>")[0]
    assert "ResNet-50" in marked and "22.85" in marked and "ResNet-152" not in marked
    assert "VGG-16" in html and "ResNet-152" in html and "8.43" not in html and "CIFAR" not in html
    prose = source_html(doc, rows, 6)
    assert "<table>" not in prose and "CIFAR" in prose and "VGG-16" not in prose
