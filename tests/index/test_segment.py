"""Sentence segmentation with exact offsets, and chunking under a budget within sections."""

from __future__ import annotations

from docqa.index.chunk import estimate_tokens, make_chunks
from docqa.index.segment import detect_language, split_sentences, title
from docqa.types import Document


def _doc(text: str, lang: str = "es", page_starts: tuple[int, ...] = ()) -> Document:
    return Document("d.txt", "sha", 0.0, len(text), text, lang, page_starts)


def test_spanish_abbreviations_quotes_and_decimals() -> None:
    text = "El Sr. García pagó 2,5 millones y 3.5 más. «¿Vienes?», preguntó la Dra. Pérez. Dijo: “Sí.” EE. UU. firmó."
    sentences = [s.text for s in split_sentences(_doc(text))]
    assert sentences[0] == "El Sr. García pagó 2,5 millones y 3.5 más."
    assert "la Dra. Pérez." in sentences[1]
    assert any(s.startswith("EE. UU.") for s in sentences)


def test_offsets_point_into_the_text() -> None:
    text = "Título\n\nPrimera frase.\nSigue en otra línea. Tercera.\n\n\nOtro párrafo aquí."
    doc = _doc(text)
    sentences = split_sentences(doc)
    assert [s.text for s in sentences] == [
        "Título", "Primera frase.", "Sigue en otra línea.", "Tercera.", "Otro párrafo aquí."
    ]
    for s in sentences:
        assert text[s.start : s.end] == s.text
    assert sentences[1].paragraph == sentences[3].paragraph != sentences[4].paragraph


def test_pages_follow_page_starts() -> None:
    text = "Página uno.\n\nPágina dos."
    sentences = split_sentences(_doc(text, page_starts=(0, 13)))
    assert [s.page for s in sentences] == [1, 2]


def test_language_detection() -> None:
    assert detect_language("¿Dónde se reunirán nuevamente las delegaciones?") == "es"
    assert detect_language("Where will the two delegations meet again?") == "en"


def test_chunks_respect_budget_sections_and_order() -> None:
    para = " ".join(f"Frase número {i} con algunas palabras más." for i in range(12))
    text = f"Sección uno\n\n{para}\n\nSección dos\n\nUna frase final."
    doc = _doc(text)
    sentences = split_sentences(doc)
    chunks = make_chunks(doc, sentences, budget=40)
    seqs = [s for c in chunks for s in c.sentence_seqs]
    assert seqs == list(range(len(sentences)))  # every sentence once, in order
    for c in chunks:
        members = [sentences[i] for i in c.sentence_seqs]
        assert len({m.section for m in members}) == 1
        assert c.text == text[c.start : c.end]
        assert len(members) == 1 or estimate_tokens(" ".join(m.text for m in members)) <= 40 + len(members)


def test_title_is_a_heading_first_line_only() -> None:
    assert title("Super Bowl 50\n\nLos Panthers ganaron.") == "Super Bowl 50"
    assert title("\ufeff# Notas\n\nTexto.") == "Notas"
    assert title("Representantes de México sostendrán conversaciones, informó la Casa Blanca.\n") == ""
    assert title("") == ""
