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


def test_a_whole_document_is_read_when_it_fits_and_passages_when_it_does_not(services: Services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from docqa.answer import evidence

    services.build()
    reader = services.reader()
    hits = Retriever(reader, services.embedder()).sentence_hits("¿Dónde se reunirán nuevamente las delegaciones?", 8)
    whole = evidence.whole_document(hits[:3], reader)
    doc = reader.store.document(hits[0].doc_path)
    assert doc is not None and [h.doc_path for h in whole] == [hits[0].doc_path] * len(whole)
    assert [h.start for h in whole] == sorted(h.start for h in whole) and len(whole) > 3  # in order, all of it
    assert hits[0] in whole  # a retrieved sentence keeps its scores
    monkeypatch.setattr(evidence, "DOCUMENT_TOKENS", 10)  # a document too long for the budget
    assert evidence.whole_document(hits[:3], reader) == []
    assert evidence.with_context(hits[:3], reader, "document") == evidence.passages(hits[:3], reader)


def test_passages_are_whole_paragraphs_of_the_best_sentences_in_document_order(services: Services) -> None:
    from docqa.answer import evidence

    services.build()
    reader = services.reader()
    hits = Retriever(reader, services.embedder()).sentence_hits("¿Quién encabezó la delegación de Estados Unidos?", 8)
    read = evidence.passages(hits[:5], reader)
    doc = reader.store.document(read[0].doc_path)
    assert doc is not None
    # Paragraphs: each starts after a blank line (or at the top) and ends before one.
    groups: list[list] = []  # type: ignore[type-arg]
    for i, hit in enumerate(read):
        prev = read[i - 1] if i else None
        text = reader.store.document(hit.doc_path).text  # type: ignore[union-attr]
        if prev and prev.doc_path == hit.doc_path and "\n\n" not in text[prev.end : hit.start]:
            groups[-1].append(hit)
        else:
            groups.append([hit])
    assert 1 <= len(groups) <= evidence.MAX_PASSAGES
    for group in groups:
        text = reader.store.document(group[0].doc_path).text  # type: ignore[union-attr]
        assert text[: group[0].start].endswith("\n\n") or group[0].start == 0
        assert text[group[-1].end :].startswith("\n\n") or not text[group[-1].end :].strip()
        assert all(text[h.start : h.end] == h.text for h in group)
    assert hits[0].sentence_id in {h.sentence_id for h in read}  # the best sentence's paragraph is read
    for i in range(1, len(read)):  # within a document, as the document has them
        assert read[i - 1].doc_path != read[i].doc_path or read[i - 1].start < read[i].start
    assert len({h.sentence_id for h in read}) == len(read)  # a paragraph once


def test_passages_are_read_as_prose_and_the_answer_is_cited_by_alignment(services: Services) -> None:
    services.build()
    llm = ScriptedLLM(lambda u: "La delegación fue encabezada por el secretario de Estado, Antony Blinken.")
    asker = Asker(services.reader, services.embedder(), lambda: llm, context="passages")
    answer = asker.ask("¿Quién encabezó la delegación de Estados Unidos?")
    prompt = llm.prompts[0]
    assert prompt.startswith("Passages:") and "[1]" not in prompt and "Blinken" in prompt
    assert prompt.index("Blinken") < prompt.index("Question:")  # the question comes after what is read
    assert not answer.abstained and [("Blinken" in c.sentence) for c in answer.citations] == [True]
    assert asker.system != Asker(services.reader, services.embedder(), lambda: llm).system  # prose has its own rules


class _KeepingLLM(ScriptedLLM):
    """A fake that keeps prefixes as llama.cpp does: 'kept' when the new one extends the last."""

    def __init__(self, script) -> None:  # type: ignore[no-untyped-def]
        super().__init__(script)
        self.kept: list[str] = []
        self.states: list[str] = []

    def keep(self, system: str, user: str, upto: int) -> str:
        prefix = system + user[:upto]
        self.states.append("kept" if self.kept and self.kept[-1] == prefix else "evaluated")
        self.kept.append(prefix)
        return self.states[-1]


def test_a_document_read_whole_is_kept_for_the_next_question_and_not_once_it_changes(services: Services) -> None:
    services.build()
    llm = _KeepingLLM(lambda u: "NOT_FOUND")
    asker = Asker(services.reader, services.embedder(), lambda: llm, context="document", gate=(0.0, 0.0))
    first = asker.ask("¿Quién encabezó la delegación de Estados Unidos?")
    second = asker.ask("¿Cuándo se reunirán de nuevo los dos países?")
    assert llm.states == ["evaluated", "kept"] and second.timings["document_reused"] == 1.0
    assert first.timings["document_reused"] == 0.0
    kept = llm.kept[0][len(asker.system) :]
    assert "Blinken" in kept and "Question:" not in kept and "reunirán de nuevo" not in kept  # the document, not the question
    seed = services.settings.corpus / "seed.txt"
    seed.write_text(seed.read_text("utf-8").replace("Blinken", "Blinkenn"), "utf-8")
    services.build()
    asker.ask("¿Cuándo se reunirán de nuevo los dos países?")
    assert llm.states[-1] == "evaluated" and "Blinkenn" in llm.kept[-1]
