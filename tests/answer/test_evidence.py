"""What the model reads: the best sentences alone, or each with the sentences around it."""

from __future__ import annotations

from fakes import ScriptedLLM, source_number

from docqa.answer.asker import Asker
from docqa.answer.evidence import with_context
from docqa.interfaces.services import Services
from docqa.search.retrieve import Retriever


def test_context_adds_each_best_sentences_neighbours_as_sentences_of_their_own(services: Services) -> None:
    services.build()
    reader = services.reader()

    best = Retriever(reader, services.embedder()).sentence_hits("¿Dónde se reunirán nuevamente las delegaciones?", 5)[:3]
    around = with_context(best, reader, "neighbours")
    assert len(around) > len(best) and {h.sentence_id for h in best} <= {h.sentence_id for h in around}
    for hit in around:  # each added line is one real sentence with its own offsets
        doc = reader.store.document(hit.doc_path)
        assert doc is not None and doc.text[hit.start : hit.end] == hit.text
    assert with_context(best, reader, "sentence") == best


def test_an_answer_from_a_context_sentence_cites_that_sentence(services: Services) -> None:
    services.build()
    llm = ScriptedLLM(lambda u: f"Lo encabezó Antony Blinken [{source_number(u, 'Blinken')}].")
    asker = Asker(services.reader, services.embedder(), lambda: llm, context="neighbours")
    answer = asker.ask("¿Quién encabezó la delegación de Estados Unidos?")
    assert len([line for line in llm.prompts[0].splitlines() if line.startswith("[")]) > 3
    assert not answer.abstained and [("Blinken" in c.sentence) for c in answer.citations] == [True]


def test_a_whole_document_is_read_when_it_fits_and_sentences_stay_numbered_one_by_one(services: Services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from docqa.answer import evidence

    services.build()
    reader = services.reader()
    hits = Retriever(reader, services.embedder()).sentence_hits("¿Dónde se reunirán nuevamente las delegaciones?", 8)
    whole = evidence.with_context(hits[:3], reader, "document")
    doc = reader.store.document(hits[0].doc_path)
    assert doc is not None and [h.doc_path for h in whole] == [hits[0].doc_path] * len(whole)
    assert [h.start for h in whole] == sorted(h.start for h in whole) and len(whole) > 3  # in order, all of it
    assert hits[0] in whole  # a retrieved sentence keeps its scores
    monkeypatch.setattr(evidence, "DOCUMENT_TOKENS", 10)  # a document too long for the budget
    assert evidence.whole_document(hits[:3], reader) == [] and evidence.with_context(hits[:3], reader, "document") == hits[:3]
