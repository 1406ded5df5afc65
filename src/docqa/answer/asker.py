"""The answer pipeline: recognise → read → draft → grade, each question shape a route (docs/design.md, "The answer side")."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from docqa.answer.checks import gate_for
from docqa.answer.digest import catalogue, many_documents
from docqa.answer.draft import MAX_ANSWER_TOKENS, Drafting
from docqa.answer.events import RETRIEVING, THINKING, Event, Final, Status
from docqa.answer.evidence import MAX_EVIDENCE, READING
from docqa.answer.followup import Turn, history_note, standalone
from docqa.answer.guards import Policy
from docqa.answer.prompt import READING_SYSTEM, SYSTEM
from docqa.answer.question import clean_question
from docqa.answer.read import Asked, Reading, absent
from docqa.answer.recognise import Recogniser, recogniser_for
from docqa.answer.routes import route_for
from docqa.answer.shapes import DIGESTS, topic_words, topical
from docqa.answer.translate import AskedIn, source_language
from docqa.index import IndexReader, detect_language
from docqa.models import LLM, Embedder
from docqa.search import Reranker, Retriever
from docqa.types import Answer

__all__ = ["MAX_ANSWER_TOKENS", "Asker", "system_for"]


class Asker:
    def __init__(
        self, reader: Callable[[], IndexReader], embedder: Embedder, llm: Callable[[], LLM],
        gate: tuple[float, float] | None = None, reranker: Reranker | None = None, policy: Policy | None = None,
        calibration: Callable[[], float | None] | None = None, context: str = "sentence", shapes: Recogniser | None = None,
    ) -> None:
        """`calibration` gives the model's NOT_FOUND bar from its profile; it is asked only once the
        model is needed, so questions stopped before the model never load or hash it."""
        self._reader, self._embedder, self._llm = reader, embedder, llm
        self.reranker = reranker
        self.gate = gate if gate is not None else gate_for(embedder.id)
        self._shapes = shapes if shapes is not None else recogniser_for(embedder)
        self.policy = policy if policy is not None else Policy()
        self._calibration = calibration
        self.context = context  # evidence.CONTEXTS
        self.system = system_for(context)

    def ask(self, question: str, history: Sequence[Turn] = (), k: int = 8) -> Answer:
        for event in self.stream(question, history, k):
            if isinstance(event, Final):
                return event.answer
        raise RuntimeError("answer stream ended without an answer")

    def stream(self, question: str, history: Sequence[Turn] = (), k: int = 8) -> Iterator[Event]:
        t0 = time.perf_counter()
        question, problem = clean_question(question)
        if problem:
            yield Final(Answer(problem, True, _history_lang(history), reason=problem))
            return
        yield Status(RETRIEVING)
        reader = self._reader()
        asked = self._recognised(question, history, reader, k)
        timings = {"retrieve_ms": round((time.perf_counter() - t0) * 1000, 1)}
        found = absent(asked, reader, self.policy, self.gate)
        if found is None and asked.shape in DIGESTS and not asked.topical and many_documents(reader):
            found = catalogue(reader, asked.lang)
        if found is not None:
            yield Final(replace(found, retrieved=asked.hits, timings=_done(timings, t0)))
            return
        reading = Reading(reader, self.reranker, self.context)
        case = reading.case(asked)
        yield Status(THINKING)
        llm, policy = self._llm(), self.policy
        if self._calibration is not None:
            policy = replace(policy, not_found_prob=self._calibration())
        source = source_language(case.lang, case.doc_langs())
        # Across languages the checks need the question in the sources' language. Not for a
        # follow-up: its standalone query is long, so the checks stay those across languages.
        asked_in = (AskedIn(llm, self.system, case.question, source)
                    if source and case.query == case.question and (policy.on("question_translation") or policy.on("source_answer")) else None)
        drafting = Drafting(llm, policy, self._embedder, reading, timings, t0)
        answer = yield from route_for(case.shape).answer(case, drafting, asked_in)
        yield Final(replace(answer, retrieved=case.hits, timings=_done(timings, t0)))

    def _recognised(self, question: str, history: Sequence[Turn], reader: IndexReader, k: int) -> Asked:
        """Retrieval, the question's language and its shape (answer/recognise.py)."""
        query = standalone(question, history)
        qvec = self._embedder.embed_queries([query])[0]
        hits = Retriever(reader, self._embedder).sentence_hits(query, max(k, MAX_EVIDENCE), qvec)
        likely = reader.store.languages("sentences", [h.sentence_id for h in hits[:1]]).values()
        lang = detect_language(question, default=_history_lang(history), likely=likely)
        shape = self._shapes.shape(question, lang, qvec if query == question else None)
        # Across languages a topic's words differ from the sentences': any topic word makes it one.
        about = (topical(question, lang, hits) if lang in likely else bool(topic_words(question, lang))) if shape in DIGESTS else False
        return Asked(question, query, lang, tuple(hits), shape, about, history_note(question, history))


def system_for(context: str) -> str:
    """The system message for what the model reads: prose (passages, a document) or numbered sentences."""
    return READING_SYSTEM if context in READING else SYSTEM


def _history_lang(history: Sequence[Turn]) -> str:
    return detect_language(history[-1].question, "en") if history else "en"


def _done(timings: dict[str, float], t0: float) -> dict[str, float]:
    return {"prompt_tokens": 0, "ttft_s": 0.0, **timings, "total_s": round(time.perf_counter() - t0, 3)}
