"""Hostile documents, round two (issue 27): stems under threads, legacy encodings, Word files read
whole, and files skipped, placed inside, renamed or large."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fakes import ScriptedLLM, source_number

from docqa.answer.asker import Asker
from docqa.index import lexical
from docqa.index.extract import SkipFile, decode_text, extract
from docqa.interfaces.services import Services

# New words each round: the memo must not hide the stemmer's race.
WORDS = [f"{a}{b}{end}" for a in ("vaa", "can", "mig", "reu", "neg", "aco", "via", "tra", "bus", "lle")
         for b in ("nd", "rt", "st", "bl", "gr", "mp") for end in ("ándolos", "aciones", "aríamos", "ábamos", "ieron",
                                                                "amente", "aremos", "ándose", "idades", "ísimos")]


def _stem_in_threads(n: int) -> tuple[list[list[str]], list[BaseException]]:
    """Every thread stems WORDS at once; returns each thread's stems and any errors."""
    results: list[list[str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def work() -> None:
        start.wait()
        try:
            results.append([lexical._term(w, "es") for w in WORDS])
        except BaseException as err:  # noqa: BLE001 - any failure is the test's finding
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_stems_are_right_when_eight_threads_stem_new_words_at_once() -> None:
    import sys

    expected = [lexical.fold(lexical._stemmer("es").stemWord(w)) for w in WORDS]  # one thread, no memo
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, as a busy server does
    try:
        for _ in range(5):
            lexical._term.cache_clear()
            results, errors = _stem_in_threads(8)
            assert not errors, errors[:3]
            assert all(r == expected for r in results)
            assert [lexical._term(w, "es") for w in WORDS] == expected  # the memo kept only right stems
    finally:
        sys.setswitchinterval(previous)


# --- encodings ---------------------------------------------------------------------------------
SPANISH = ("«SÍ», dijo el ministro. “No sé…” — respondió la niña; el café en Perú creció un 5 % y costó 20 € "
           "– según el acuerdo de año nuevo. ¿Qué pasó después? Él explicó que la migración bajará en enero.\n")
LATIN1 = SPANISH.replace("“", '"').replace("”", '"').replace("…", "...").replace("—", "-").replace("–", "-").replace("€", "EUR")


@pytest.mark.parametrize(("encoding", "shown", "text"), [
    ("utf-8", "utf-8", SPANISH), ("utf-8-sig", "utf-8", SPANISH), ("utf-16", "utf-16", SPANISH),
    ("latin-1", "windows-1252", LATIN1), ("cp1252", "windows-1252", SPANISH), ("mac_roman", "mac-roman", LATIN1),
])
def test_the_same_spanish_text_in_every_encoding_reads_as_the_original(encoding: str, shown: str, text: str) -> None:
    assert decode_text(text.encode(encoding)) == (text, shown)


def test_a_file_no_encoding_reads_cleanly_is_skipped_with_the_encodings_tried() -> None:
    garbage = b"".join(bytes([0x61 + i % 26, 0x80 + i % 32]) for i in range(400))  # "aÅbç..." in any reading
    with pytest.raises(SkipFile, match="reads as garbage in .*mac-roman.*re-save it as UTF-8"):
        decode_text(b"Texto " + garbage)


def test_the_encoding_found_is_recorded_and_shown_in_status(services: Services, corpus: Path) -> None:
    (corpus / "windows.txt").write_bytes(SPANISH.encode("cp1252"))
    (corpus / "mac.txt").write_bytes(LATIN1.encode("mac_roman"))
    services.build()
    store = services.reader().store
    assert store.document("windows.txt").text == SPANISH  # type: ignore[union-attr]
    assert store.document("mac.txt").text == LATIN1  # type: ignore[union-attr]
    files = {f["path"]: f for f in services.status()["files"]}
    assert files["windows.txt"]["encoding"] == "windows-1252" and files["mac.txt"]["encoding"] == "mac-roman"
    assert files["seed.txt"]["encoding"] == "utf-8"


# --- Word --------------------------------------------------------------------------------------
def _word_file(path: Path) -> None:
    import docx
    from docx.oxml import parse_xml

    doc = docx.Document()
    doc.sections[0].header.paragraphs[0].text = "Informe confidencial de la delegación"
    doc.add_paragraph("Primer párrafo del informe.")
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    sdt = parse_xml(f'<w:sdt {w}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>Autor: Ramón Quiroga</w:t></w:r></w:p>'
                    "</w:sdtContent></w:sdt>")
    doc.element.body.insert(len(doc.element.body) - 1, sdt)
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Ciudad", "Fecha"
    merged = table.cell(0, 0).merge(table.cell(1, 0))
    merged.paragraphs[0].text = "Ciudad"
    table.cell(1, 1).text = "enero"
    inner = table.cell(1, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "Anexo interior", "Tlatelolco"
    doc.add_paragraph("Párrafo después de la tabla.")
    doc.save(str(path))


def test_a_word_document_is_read_whole_in_document_order(tmp_path: Path) -> None:
    _word_file(tmp_path / "informe.docx")
    text = extract(tmp_path / "informe.docx").text
    order = ["Informe confidencial", "Primer párrafo", "Ramón Quiroga", "Ciudad", "Anexo interior | Tlatelolco",
             "Párrafo después de la tabla"]
    positions = [text.find(s) for s in order]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), text
    assert text.count("Ciudad") == 1 and text.count("Informe confidencial") == 1


# --- skipped, inside, renamed and deleted files ------------------------------------------------
def test_a_file_skipped_for_its_content_is_not_stale_until_it_changes(services: Services, corpus: Path) -> None:
    bad = corpus / "roto.txt"
    bad.write_bytes(b"\x00\x01binary" * 50)
    services.build()
    info = services.status()
    assert not info["stale"] and [s["path"] for s in info["skipped"]] == ["roto.txt"]
    again = services.build()
    assert [s.path for s in again.skipped] == ["roto.txt"]  # still reported, without reading it again
    bad.write_text("Ahora es un documento de verdad.", "utf-8")
    assert [s["change"] for s in services.status()["stale"]] == ["added"]
    services.build()
    assert not services.status()["skipped"] and services.reader().store.document("roto.txt") is not None


def test_an_index_folder_inside_the_corpus_is_not_scanned(services: Services, corpus: Path) -> None:
    inside = Services(services.settings.with_overrides(index=corpus / "index"), services.embedder())
    inside.build()
    report = inside.build()
    assert all(not p.startswith("index/") for p in inside.reader().store.documents())
    assert not report.added and not inside.status()["stale"]


def test_a_renamed_file_reuses_its_vectors_and_answers_as_before(services: Services, corpus: Path, fake) -> None:  # type: ignore[no-untyped-def]
    services.build()
    before = fake.passages_embedded
    (corpus / "seed.txt").rename(corpus / "moved.txt")
    report = services.build()
    assert report.reused == 1 and report.added == ["moved.txt"] and report.removed == ["seed.txt"]
    assert fake.passages_embedded == before  # nothing embedded again
    llm = ScriptedLLM(lambda u: f"En Washington [{source_number(u, 'Washington')}].")
    answer = Asker(services.reader, services.embedder(), lambda: llm).ask("¿Dónde se reunirán nuevamente las delegaciones?")
    assert not answer.abstained and answer.citations[0].doc_path == "moved.txt"


def test_one_large_file_reports_progress_while_it_is_embedded(services: Services, corpus: Path) -> None:
    (corpus / "grande.txt").write_text("".join(f"La frase número {i} habla del tema {i % 7}.\n" for i in range(400)), "utf-8")
    heard: list[tuple[str, int, int]] = []
    services.build(progress=lambda stage, done, total: heard.append((stage, done, total)))
    embedding = [(done, total) for stage, done, total in heard if stage == "embedding"]
    assert len(embedding) > 10 and embedding[-1][0] == embedding[-1][1]
    assert heard.index(("embedding", *embedding[0])) < heard.index(next(h for h in heard if h[0] == "indexing"))
