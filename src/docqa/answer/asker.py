"""The answer pipeline: follow-up rewrite, hybrid retrieval, the guards before the model, the streamed
draft, and the guards after it (docs/design.md, "The answer side")."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace

from docqa.answer.checks import PASSED_OVER_WHY, gate_for, only_names_held
from docqa.answer.compose import abstain, compose
from docqa.answer.crossing import in_language, quiet
from docqa.answer.digest import catalogue, digest_evidence, many_documents, quoted
from docqa.answer.entail import Entailment
from docqa.answer.events import (
    CHECKING,
    PASSED_OVER,
    RETRIEVING,
    THINKING,
    UNTRANSLATED,
    Case,
    Event,
    Final,
    Redraft,
    Status,
    Token,
)
from docqa.answer.evidence import DOCUMENT, LIST_EVIDENCE, MAX_EVIDENCE, READING, select, whole_document, with_context
from docqa.answer.followup import Turn, history_note, standalone
from docqa.answer.grade import graded
from docqa.answer.guards import Policy
from docqa.answer.prompt import (
    NOT_FOUND,
    READING_SYSTEM,
    SYSTEM,
    line_titles,
    paragraph_runs,
    reading_context,
    reading_message,
    shape_request,
    user_message,
)
from docqa.answer.question import clean_question
from docqa.answer.recognise import Recogniser, recogniser_for
from docqa.answer.settle import settle, settled
from docqa.answer.shapes import DIGESTS, FACT, LIST, SUMMARY, WHO_IS, YES_NO, sentences_asked, topic_words
from docqa.answer.spelling import never_mentioned, respell, spelled_like
from docqa.answer.translate import AskedIn, accepted, source_language, translation_request, untranslated
from docqa.answer.verify import names_absent
from docqa.answer.words import ABSTAIN_PHRASES
from docqa.index import IndexReader, detect_language, title
from docqa.models import LLM, Embedder, PrefixKeeper
from docqa.search import Reranker, Retriever, rerank
from docqa.types import Answer, Document, Hit

MAX_ANSWER_TOKENS = 120
# A summary or a list is several sentences: room for each (a Spanish sentence runs ~40 tokens).
SENTENCE_TOKENS, LIST_TOKENS = 60, 240

_EMPTY = Document("", "", 0.0, 0, "")


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
        query = standalone(question, history)
        yield Status(RETRIEVING)
        reader = self._reader()
        qvec = self._embedder.embed_queries([query])[0]
        hits = Retriever(reader, self._embedder).sentence_hits(query, max(k, MAX_EVIDENCE), qvec)
        timings = {"retrieve_ms": round((time.perf_counter() - t0) * 1000, 1)}
        likely = reader.store.languages("sentences", [h.sentence_id for h in hits[:1]]).values()
        lang = detect_language(question, default=_history_lang(history), likely=likely)
        shape = self._shapes.shape(question, lang, qvec if query == question else None)
        topical = shape in DIGESTS and bool(topic_words(question, lang))
        blocked = self._before_model(question, query, lang, hits, reader, shape, topical)
        if blocked is None and shape in DIGESTS and not topical and many_documents(reader):
            blocked = catalogue(reader, lang)
        if blocked is not None:
            yield Final(replace(blocked, retrieved=tuple(hits), timings=_done(timings, t0)))
            return
        case = self._case(question, query, lang, hits, None, reader, history_note(question, history), shape, topical)
        yield Status(THINKING)
        yield from self._answer(case, reader, timings, t0)

    def _before_model(
        self, question: str, query: str, lang: str, hits: list[Hit], reader: IndexReader, shape: str = FACT, topical: bool = False,
    ) -> Answer | None:
        """The abstention decided from retrieval alone, or None when the model is to be asked. An
        overview or summary of the documents asks for no fact, so no sentence is close to it: only
        an empty index stops it."""
        best = max(hits, key=lambda h: h.dense, default=None)
        if shape in DIGESTS and not topical:
            return None if best is not None else abstain(lang, "nothing was retrieved")
        same = best is not None and reader.store.languages("sentences", [best.sentence_id]).get(best.sentence_id) == lang
        # Within one language only: across languages most words are legitimately absent.
        missing = never_mentioned(query, lang, reader) if same and self.policy.on("never_mentioned") else None
        if missing:
            near = spelled_like(missing, lang, reader)
            why = f"the documents never mention “{missing}”" + (f" (they do mention “{near}”)" if near else "")
            suggestion = respell(question, missing, near) if near else ""
            suggestion = "" if suggestion == question else suggestion  # the typo was in an earlier turn
            return replace(abstain(lang, why), suggestion=suggestion)
        if best is None:
            return abstain(lang, "nothing was retrieved")
        bars = self.gate if self.policy.on("gate") else None
        weak = bars is not None and best.dense < (bars[0] if same else bars[1])
        # "Who is X?" names only its subject, which embeds far from a sentence naming several people.
        bypass = self.policy.on("name_bypass") and shape == WHO_IS
        if weak and not (bypass and only_names_held(query, lang, hits)):
            return abstain(lang, "weak evidence: no passage is close enough to the question")
        return None

    def _case(
        self, question: str, query: str, lang: str, hits: Sequence[Hit], ranked: list[Hit] | None, reader: IndexReader,
        note: str, shape: str = FACT, topical: bool = False,
    ) -> Case:
        """What the model reads for the question: an overview or summary its document (digest.py),
        anything else the best sentences (`ranked` when given, a list more of them) in the context mode."""
        if shape in DIGESTS:
            evidence, whole = digest_evidence(hits, reader, topical, shape == SUMMARY, sentences_asked(question))
            reading = whole or topical
        else:
            ranked = ranked if ranked is not None else select(rerank(self.reranker, query, list(hits)), *(LIST_EVIDENCE if shape in (LIST, YES_NO) else ()))
            document = whole_document(ranked, reader) if self.context == DOCUMENT else []
            evidence, whole, reading = document or with_context(ranked, reader, self.context), bool(document), self.context in READING
        docs = {h.doc_path: reader.store.document(h.doc_path) or _EMPTY for h in evidence}
        titles = {path: title(doc.text) for path, doc in docs.items()}
        return Case(question, query, lang, tuple(hits), tuple(evidence), docs, titles, note, whole, shape, reading)

    def _answer(self, case: Case, reader: IndexReader, timings: dict[str, float], t0: float) -> Iterator[Event]:
        llm, policy = self._llm(), self.policy
        if self._calibration is not None:
            policy = replace(policy, not_found_prob=self._calibration())
        source = source_language(case.lang, case.doc_langs())
        # Across languages the checks need the question in the sources' language. Not for a
        # follow-up: its standalone query is long, so the checks stay those across languages.
        asked_in = (AskedIn(llm, self.system, case.question, source)
                    if source and case.query == case.question and (policy.on("question_translation") or policy.on("source_answer")) else None)
        if case.shape == YES_NO:
            # Settled by checking the question's details against the sources (settle.py), in their
            # language: the model's own verdicts were nearly all "yes".
            question = asked_in() if asked_in is not None else ""
            verdict = settle(question or case.question, source if question else case.lang, case.evidence, reader, case.titles)
            signals = {"settle_coverage": verdict.coverage, "settle_missing": float(len(verdict.missing))}
            yield Final(_finish(settled(verdict, case.lang), case, {"signals": signals, "translated_question": question}, timings, t0))
            return
        if asked_in is not None and policy.on("source_answer") and _lead_language(case) == source and asked_in():
            # Answered in the sources' language, where every check compares like with like, then
            # translated for the asker (docs/experiments.md, "Answers in the documents' language").
            inner = replace(case, question=asked_in(), query=asked_in(), lang=source)
            answer, diagnosis = yield from quiet(self._attempts(inner, llm, policy, None, reader, timings, t0))
            answer = yield from in_language(llm, self.system, answer, case.lang, source, t0, timings)
            diagnosis["translated_question"] = asked_in()
            if not answer.abstained:
                diagnosis["signals"]["translated_answer"] = 1.0  # type: ignore[index]
        else:
            answer, diagnosis = yield from self._attempts(case, llm, policy, asked_in if policy.on("question_translation") else None,
                                                          reader, timings, t0)
        if case.shape in DIGESTS and case.evidence and not any(s.supported for s in answer.sentences):
            # The document's own sentences instead of a digest none of whose sentences it states.
            diagnosis["signals"]["quoted"] = 1.0  # type: ignore[index]
            answer = replace(quoted(case.evidence, case.lang, reader, case.shape == SUMMARY), reason=answer.reason)
        yield Final(_finish(answer, case, diagnosis, timings, t0))

    def _attempts(
        self, case: Case, llm: LLM, policy: Policy, asked_in: AskedIn | None, reader: IndexReader, timings: dict[str, float], t0: float,
    ) -> Generator[Event, None, tuple[Answer, dict[str, object]]]:
        """The draft and its checks (and with the retry guard, a second draft): the answer, and
        what to keep for diagnosis."""
        tokens = 0
        for attempt in (1, 2):
            message, system = (reading_message, READING_SYSTEM) if case.reading else (user_message, SYSTEM)
            running = paragraph_runs(case)
            titles = line_titles(case, running, once=self.context == DOCUMENT or case.whole)
            request = shape_request(case.shape, case.lang, sentences_asked(case.question), numbered=not case.reading)
            prompt = message(case.question, case.evidence, case.lang, case.note, titles, running, request)
            if case.whole and isinstance(llm, PrefixKeeper):
                # 1 when the document's evaluated prefix was already there (in memory or on disk).
                kept = llm.keep(system, prompt, len(reading_context(case.evidence, titles, running)))
                timings["document_reused"] = float(kept in ("kept", "loaded"))
            # An overview or summary always has an answer in its document: P(NOT_FOUND) is not asked.
            watch = "" if case.shape in DIGESTS else NOT_FOUND
            raw, watched, first, used = yield from _draft(llm, system, prompt, t0, watch=watch, tokens=_reply_tokens(case))
            tokens += used
            timings.setdefault("ttft_s", round(first or 0.0, 3))
            timings["prompt_tokens"] = tokens
            diagnosis: dict[str, object] = {"draft": raw, "signals": {"not_found": round(watched, 5)}}
            if _model_abstained(raw):
                return abstain(case.lang, "the model found no answer in the evidence"), diagnosis
            source = source_language(case.lang, case.doc_langs())
            leftover = untranslated(raw, case.lang, source, case.question) if source and policy.on("translation") else []
            if leftover:
                # A small model copies words of foreign sources into its answer ("the eje impulsor");
                # asked again in the same conversation, it translates them (docs/experiments.md, "Translation turn").
                yield Redraft(UNTRANSLATED)
                again, _, _, used = yield from _draft(llm, system, translation_request(leftover, case.lang, source), t0,
                                                      [(prompt, raw)], watch="", tokens=_reply_tokens(case))
                tokens += used
                timings["prompt_tokens"] = tokens
                diagnosis["signals"]["untranslated"] = len(leftover)  # type: ignore[index]
                raw = again if accepted(raw, again, case.lang, source, case.question) and not _model_abstained(again) else raw
            yield Status(CHECKING)
            entails = Entailment(llm, system)
            answer, why = compose(raw, case, reader, self._embedder, policy, asked_in, entails)
            if entails.scores:
                diagnosis["signals"]["entailed_no"] = entails.scores  # type: ignore[index]
            if attempt == 1 and why == PASSED_OVER_WHY and policy.on("retry"):
                # Ask once more from only the sentences that name what the question asks about.
                ranked = rerank(self.reranker, case.query, list(case.hits))
                evidence = select([h for h in ranked if not names_absent(case.question, [h.text])])
                case = self._case(case.question, case.query, case.lang, case.hits, evidence, reader, case.note, case.shape)
                yield Redraft(PASSED_OVER)
                continue
            if asked_in is not None and asked_in.text is not None:
                diagnosis["translated_question"] = asked_in.text
            if not answer.abstained:
                answer = graded(answer, why, watched if watch else None, policy.not_found_bar)
            return answer, diagnosis
        raise AssertionError("the second attempt always returns")


def _draft(
    llm: LLM, system: str, prompt: str, t0: float, earlier: Sequence[tuple[str, str]] = (), watch: str = NOT_FOUND,
    tokens: int = MAX_ANSWER_TOKENS,
) -> Generator[Event, None, tuple[str, float, float | None, int]]:
    """Stream the model's reply as token events; return its text, its NOT_FOUND probability, the
    time to its first token and its prompt tokens. Nothing shows while the reply may still be
    NOT_FOUND."""
    raw, first, shown = "", None, 0
    with llm.complete(system, prompt, tokens, watch=watch, earlier=earlier) as completion:
        for piece in completion:
            if first is None:
                first = time.perf_counter() - t0
            raw += piece
            if not NOT_FOUND.startswith(raw.strip()):
                yield Token(raw[shown:])
                shown = len(raw)
    return raw, completion.watch_prob, first, completion.prompt_tokens


def _reply_tokens(case: Case) -> int:
    if case.shape in DIGESTS:
        return SENTENCE_TOKENS * sentences_asked(case.question) + SENTENCE_TOKENS
    return LIST_TOKENS if case.shape == LIST else MAX_ANSWER_TOKENS


def _lead_language(case: Case) -> str:
    """The language of the best-ranked sentence the model reads: a mixed corpus is answered in the
    sources' language only when the best evidence is in it."""
    best = max(case.evidence, key=lambda h: h.score, default=None)
    return case.docs[best.doc_path].lang if best is not None else ""


def system_for(context: str) -> str:
    """The system message for what the model reads: prose (passages, a document) or numbered sentences."""
    return READING_SYSTEM if context in READING else SYSTEM


def _history_lang(history: Sequence[Turn]) -> str:
    return detect_language(history[-1].question, "en") if history else "en"


def _model_abstained(raw: str) -> bool:
    text = raw.strip().lower()
    return not text or any(p in text for p in ABSTAIN_PHRASES)


def _done(timings: dict[str, float], t0: float) -> dict[str, float]:
    return {"prompt_tokens": 0, "ttft_s": 0.0, **timings, "total_s": round(time.perf_counter() - t0, 3)}


def _finish(answer: Answer, case: Case, diagnosis: dict[str, object], timings: dict[str, float], t0: float) -> Answer:
    signals = {**answer.signals, **diagnosis.get("signals", {})}  # type: ignore[dict-item]
    return replace(answer, retrieved=case.hits, timings=_done(timings, t0), **{**diagnosis, "signals": signals})  # type: ignore[arg-type]
