"""One file cannot exhaust memory or stop the build: text and sentences per file are capped (read as
a stream for Word files), and whatever fails on one file skips it with its reason while the rest are indexed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from docqa.index import extract as extract_module
from docqa.index.extract import extract
from docqa.interfaces.services import Services


def near_bomb(path: Path, paragraphs: int) -> int:
    """A valid .docx of `paragraphs` short paragraphs (about 70× smaller zipped than unzipped, under
    any zip-bomb ratio); returns its characters of text."""
    import docx

    docx.Document().save(str(path))
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    body = b"".join(b"<w:p><w:r><w:t>Frase corta %d.</w:t></w:r></w:p>" % n for n in range(paragraphs))
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"<w:body>", b"<w:body>" + body, 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return sum(len(f"Frase corta {n}.") for n in range(paragraphs))


def test_a_word_file_with_too_much_text_is_skipped_with_its_reason_and_the_others_indexed(services: Services, corpus: Path) -> None:
    chars = near_bomb(corpus / "enorme.docx", 20_000)
    services.settings = services.settings.with_overrides(max_file_chars=50_000)
    report = services.build()
    reasons = {s.path: s.reason for s in report.skipped}
    assert "too much text" in reasons["enorme.docx"] and "DOCQA_MAX_FILE_CHARS" in reasons["enorme.docx"]
    assert chars > 50_000 and "stopped reading after" in reasons["enorme.docx"]  # the stream stopped at the cap
    assert set(services.reader().store.documents()) == {"seed.txt", "notas.md", "english.txt"}


def test_a_word_file_under_the_cap_reads_every_paragraph(tmp_path: Path) -> None:
    near_bomb(tmp_path / "corto.docx", 300)
    text = extract(tmp_path / "corto.docx", 50_000).text
    assert text.startswith("Frase corta 0.") and text.endswith("Frase corta 299.") and text.count("\n\n") == 299


def test_every_kind_of_file_with_too_much_text_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "largo.txt").write_text("Una frase. " * 1000, "utf-8")
    (tmp_path / "largo.html").write_text("<p>" + "Una frase. " * 1000 + "</p>", "utf-8")
    for name in ("largo.txt", "largo.html"):
        with pytest.raises(extract_module.SkipFile, match="too much text"):
            extract(tmp_path / name, 5_000)
        assert extract(tmp_path / name, 50_000).text


def test_a_file_with_too_many_sentences_is_skipped(services: Services, corpus: Path) -> None:
    (corpus / "lista.txt").write_text("".join(f"Línea número {n} de la lista.\n\n" for n in range(400)), "utf-8")
    services.settings = services.settings.with_overrides(max_file_sentences=100)
    report = services.build()
    [skipped] = [s for s in report.skipped if s.path == "lista.txt"]
    assert "too many sentences" in skipped.reason and "DOCQA_MAX_FILE_SENTENCES" in skipped.reason
    assert "seed.txt" in services.reader().store.documents()


def test_a_file_that_exhausts_memory_or_crashes_its_reader_is_skipped_and_the_rest_indexed(
        services: Services, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from docqa.index import prepare as prepare_module

    real = prepare_module.extract
    (corpus / "crash.txt").write_text("Un lector que falla. Con dos frases.\n", "utf-8")

    def failing(path: Path, max_chars: int, on_page: object = None) -> object:
        if path.name == "notas.md":
            raise MemoryError()
        if path.name == "crash.txt":
            raise AssertionError("a bug in a reader")
        return real(path, max_chars, on_page)

    monkeypatch.setattr(prepare_module, "extract", failing)
    report = services.build()
    reasons = {s.path: s.reason for s in report.skipped}
    assert "out of memory" in reasons["notas.md"] and "AssertionError" in reasons["crash.txt"]
    assert set(services.reader().store.documents()) == {"seed.txt", "english.txt"}


class _FailsOn(FakeEmbedder):
    """Runs out of memory on any batch holding a text with `word`."""

    def __init__(self, word: str) -> None:
        super().__init__()
        self.word = word

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        if any(self.word in t for t in texts):
            raise MemoryError()
        return super().embed_passages(texts)


def test_a_file_that_cannot_be_embedded_is_skipped_and_the_rest_of_its_group_indexed(settings, corpus: Path) -> None:  # type: ignore[no-untyped-def]
    services = Services(settings, _FailsOn("Geneva"))
    report = services.build()
    assert {s.path for s in report.skipped} == {"english.txt"} and "out of memory" in report.skipped[0].reason
    store = services.reader().store
    assert set(store.documents()) == {"seed.txt", "notas.md"}
    assert len(services.reader().sentence_vectors) == store.counts()["sentences"]  # a vector for each sentence kept
