"""Each shape of question takes its own route: overviews and summaries read the document, yes/no
opens with its verdict, lists give every item; every sentence cited, unsupported ones dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEED
from fakes import FakeEmbedder, ScriptedLLM, source_number

from docqa.answer.asker import Asker
from docqa.answer.shapes import (
    FACT,
    LIST,
    OVERVIEW,
    SUMMARY,
    WHO_IS,
    WHY_HOW,
    YES_NO,
    sentences_asked,
    shape_of,
    topic_words,
)
from docqa.config import load_settings
from docqa.interfaces.render import answer_markdown
from docqa.interfaces.services import Services


@pytest.mark.parametrize(("question", "lang", "shape"), [
    ("¿De qué trata el artículo?", "es", OVERVIEW),
    ("de que va esto", "es", OVERVIEW),
    ("What are my documents about?", "en", OVERVIEW),
    ("Can you tell me what this report covers?", "en", OVERVIEW),
    ("Resume el documento en dos frases.", "es", SUMMARY),
    ("Give me a short summary", "en", SUMMARY),
    ("What are the key points?", "en", SUMMARY),
    ("¿Hubo algún acuerdo entre los dos países?", "es", YES_NO),
    ("En 2023, ¿se reunieron en Washington?", "es", YES_NO),
    ("Was the meeting held in January?", "en", YES_NO),
    ("¿Qué funcionarios viajaron a México?", "es", LIST),
    ("Enumera las causas de la migración que mencionan.", "es", LIST),
    ("Which countries are named?", "en", LIST),
    ("¿Quién es Alejandro Mayorkas?", "es", WHO_IS),
    ("Why did they meet?", "en", WHY_HOW),
    ("¿Cuándo se reunirán?", "es", FACT),
    ("How many people were in the delegation?", "en", FACT),
    ("Did they meet in January or in March?", "en", FACT),  # asks which, not whether
    ("¿Cuántos países, además de México, se nombran?", "es", FACT),
])
def test_the_shape_of_a_question_is_read_from_its_words(question: str, lang: str, shape: str) -> None:
    assert shape_of(question, lang) == shape


# Wordings of forms, not of the examples: written for this test, none in the recogniser's examples.
@pytest.mark.parametrize(("question", "lang", "shape"), [
    ("When was the annual summary released?", "en", FACT),  # the question word asks one fact
    ("¿En qué año salió la lista de precios?", "es", FACT),
    ("¿Qué lista encabezó la alcaldesa?", "es", FACT),
    ("¿Cuánto tiempo dura el resumen oral?", "es", FACT),
    ("Tell me who Marie Curie was.", "en", WHO_IS),  # a question inside a request
    ("Explícame cómo funciona la bomba de agua", "es", WHY_HOW),
    ("What's UNESCO?", "en", WHO_IS),
    ("Who is the mayor of the town?", "en", FACT),  # who fills a role
    ("Who are the founders of the firm?", "en", LIST),  # the members of a set
    ("¿Quiénes votaron en contra de la ley?", "es", LIST),
    ("Name the four members of the band.", "en", LIST),
    ("Why did Ford, GM and Chrysler cut jobs?", "en", WHY_HOW),  # the question opened before the comma
    ("the treaty was signed in Paris?", "en", YES_NO),  # a statement asked
    ("¿Verdad que la planta cerró en 2010?", "es", YES_NO),
    ("Were the workers paid?", "en", YES_NO),
    ("¿Cómo se llama la presidenta del consejo?", "es", FACT),
    ("waht did the minister announce?", "en", FACT),  # a question word typed with a slip
])
def test_the_shape_holds_on_wordings_outside_the_examples(question: str, lang: str, shape: str) -> None:
    assert shape_of(question, lang) == shape


def test_a_summary_is_as_long_as_asked_and_names_its_topic_when_it_has_one() -> None:
    assert sentences_asked("Resume el documento en dos frases.") == 2
    assert sentences_asked("Summarize it in 5 sentences") == 5 and sentences_asked("Hazme un resumen breve.") == 3
    assert topic_words("Resume el documento en tres frases.", "es") == []
    assert topic_words("Summarize what the documents say about migration", "en") != []


@pytest.fixture
def one_doc(tmp_path: Path) -> Services:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed.txt").write_text(SEED.read_text("utf-8"), "utf-8")
    settings = load_settings({}).with_overrides(corpus=corpus, index=tmp_path / "index", embedder="fake")
    services = Services(settings, FakeEmbedder())
    services.build()
    return services


def _asker(services: Services, llm: ScriptedLLM) -> Asker:
    return Asker(services.reader, services.embedder(), lambda: llm, gate=(0.99, 0.99))  # a gate no fact passes


def test_an_overview_reads_the_whole_document_as_prose_and_cites_what_it_rests_on(one_doc: Services) -> None:
    llm = ScriptedLLM(lambda u: "El artículo trata de las conversaciones sobre el flujo migratorio entre México y Estados Unidos.")
    answer = _asker(one_doc, llm).ask("¿De qué trata el artículo?")
    prompt = llm.prompts[0]
    assert "[1]" not in prompt and "Passages:" in prompt  # read as prose, not numbered sentences
    assert "Washington en enero de 2024" in prompt and "DACA" in prompt  # all of it, first and last paragraphs
    assert "what the passages are about" in prompt
    assert not answer.abstained and answer.shape == OVERVIEW  # the gate does not stop it
    assert answer.citations and "flujo migratorio" in answer.citations[0].sentence


def test_a_summary_restates_one_key_sentence_of_each_part_and_drops_what_is_not_stated(one_doc: Services) -> None:
    def script(u: str) -> str:
        numbers = [line.split("]")[0] + "]" for line in u.splitlines() if line.startswith("[")]
        assert len(numbers) == 2  # one key sentence of each half of the document
        return (f"La delegación de Estados Unidos visitó México {numbers[0]}. "
                f"El acuerdo costará cuarenta millones de pesos al gobierno de Canadá {numbers[1]}.")

    llm = ScriptedLLM(script)
    answer = _asker(one_doc, llm).ask("Resume el documento en dos frases.")
    assert "summary in two sentences" in llm.prompts[0]
    assert not answer.abstained and answer.shape == SUMMARY and "Canadá" not in answer.text
    assert all(s.supported and s.citations for s in answer.sentences)


def test_a_summary_whose_every_sentence_fails_quotes_the_key_sentences_instead(one_doc: Services) -> None:
    llm = ScriptedLLM(lambda u: "NOT_FOUND")
    answer = _asker(one_doc, llm).ask("Hazme un resumen breve.")
    assert not answer.abstained and len(answer.citations) == 3 and answer.lang == "es"
    doc = one_doc.reader().store.document(answer.citations[0].doc_path)
    assert doc is not None and all(doc.text[c.start : c.end] == c.sentence and c.sentence in answer.text for c in answer.citations)


@pytest.mark.parametrize(("question", "verdict", "quoted"), [
    ("¿Fue Joe Biden quien encabezó la delegación de altos funcionarios de Estados Unidos?", "no", "Blinken"),
    ("¿Encabezó Antony Blinken la delegación de altos funcionarios de Estados Unidos?", "yes", "Blinken"),
    ("¿Acordaron las dos delegaciones reunirse nuevamente en Madrid?", "no", "Washington"),
])
def test_a_yes_no_question_quotes_the_sentence_that_settles_it_with_a_verdict_only_where_trusted(
    one_doc: Services, question: str, verdict: str, quoted: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from docqa.answer import settle

    llm = ScriptedLLM(lambda u: "Sí [1].")  # the model's own verdict is "yes" to nearly everything, so it is not asked
    answer = Asker(one_doc.reader, one_doc.embedder(), lambda: llm).ask(question)
    assert llm.prompts == []
    # No verdict reached the bar of trust on shapes-confirm: the sentence is quoted alone.
    assert not answer.abstained and answer.shape == YES_NO and answer.text.startswith("Los documentos dicen: «")
    [citation] = answer.citations
    assert quoted in citation.sentence and f"«{citation.sentence}» [1]" in answer.text
    # A verdict docqa trusts opens the answer, before the same quote.
    monkeypatch.setattr(settle, "VERDICTS", frozenset({verdict}))
    trusted = Asker(one_doc.reader, one_doc.embedder(), lambda: llm).ask(question)
    assert trusted.text.startswith({"yes": "Sí.", "no": "No."}[verdict]) and trusted.citations == answer.citations


def test_a_yes_no_question_the_documents_are_silent_on_abstains(one_doc: Services) -> None:
    answer = Asker(one_doc.reader, one_doc.embedder(), lambda: ScriptedLLM(lambda u: "Sí.")).ask(
        "¿Hablaron de petróleo y de aranceles con Canadá y Brasil?")
    assert answer.abstained and "do not say whether" in answer.reason


def test_a_list_gives_every_item_on_its_own_line_each_cited_and_drops_items_not_stated_or_off_topic(one_doc: Services) -> None:
    def script(u: str) -> str:
        n, m = source_number(u, "ordenada, humana y regular"), source_number(u, "causas fundamentales")
        assert n and m
        # An item the documents do not state, and one from a sentence about something else.
        return f"- ordenada [{n}]\n- humana [{n}]\n- regular [{n}]\n- barata y rápida [{n}]\n- las causas fundamentales [{m}]"

    llm = ScriptedLLM(script)
    answer = Asker(one_doc.reader, one_doc.embedder(), lambda: llm).ask("¿Con qué adjetivos describen la migración que quieren fomentar?")
    assert "a list of every item" in llm.prompts[0]
    assert sum(line.startswith("[") for line in llm.prompts[0].splitlines()) > 5  # more sentences than a fact reads
    assert not answer.abstained and answer.shape == LIST
    assert [s.text for s in answer.sentences] == ["ordenada", "humana", "regular"]
    assert answer.text.splitlines()[0].startswith("- ordenada [1]")
    assert answer_markdown(answer).count("\n- ") == 2  # shown as a list, one item a line


def test_an_overview_of_many_documents_lists_each_with_one_cited_sentence_and_asks_no_model(services: Services) -> None:
    services.build()

    def no_model() -> ScriptedLLM:
        raise AssertionError("a catalogue needs no model")

    answer = Asker(services.reader, services.embedder(), no_model).ask("What are my documents about?")
    assert not answer.abstained and answer.shape == "catalogue"
    assert sorted(c.doc_path for c in answer.citations) == ["english.txt", "notas.md", "seed.txt"]
    for c in answer.citations:
        doc = services.reader().store.document(c.doc_path)
        assert doc is not None and doc.text[c.start : c.end] == c.sentence  # a real sentence of its document
    assert len(answer.text.splitlines()) == 3


def test_a_fact_question_is_asked_as_before(one_doc: Services) -> None:
    llm = ScriptedLLM(lambda u: f"En Washington [{source_number(u, 'Washington')}].")
    Asker(one_doc.reader, one_doc.embedder(), lambda: llm).ask("¿Dónde se reunirán nuevamente las delegaciones?")
    tail = llm.prompts[0].rsplit("Question:", 1)[1].splitlines()
    assert tail[1:] == ["Answer in Spanish."]  # nothing added for a fact


def test_a_summary_of_what_the_documents_say_on_a_topic_reads_the_passages_that_hold_it(services: Services) -> None:
    services.build()
    llm = ScriptedLLM(lambda u: "Ambas delegaciones subrayaron la asistencia al desarrollo y la ayuda humanitaria de la administración Biden.")
    answer = Asker(services.reader, services.embedder(), lambda: llm).ask("Resume lo que dicen los documentos sobre las delegaciones.")
    assert "Passages:" in llm.prompts[0] and "Lisboa" not in llm.prompts[0]  # the passages on it, not every document
    assert not answer.abstained and answer.shape == SUMMARY and "quoted" not in answer.signals
    assert [c.doc_path for c in answer.citations] == ["seed.txt"] and "Biden" in answer.citations[0].sentence


def test_a_digest_is_of_a_topic_only_when_its_topic_words_are_in_the_best_sentences(one_doc: Services) -> None:
    from docqa.answer.shapes import topical
    from docqa.search import Retriever

    # "dame" is the request's wording, in no retrieved sentence: the document's key points, answered
    # (the gate that stops every fact does not stop it), not a summary of "dame" that nothing holds.
    answer = _asker(one_doc, ScriptedLLM(lambda u: "NOT_FOUND")).ask("Dame los puntos clave del artículo")
    assert answer.shape == SUMMARY and not answer.abstained and answer.citations
    question = "Resume lo que dicen sobre la migración"
    found = Retriever(one_doc.reader(), one_doc.embedder()).sentence_hits(question, 8)
    assert topical(question, "es", found) and not topical("Dame los puntos clave del artículo", "es", found)
