"""Draft: the model's streamed reply to what it reads, its checks, and the graded answer."""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace

from docqa.answer.checks import PASSED_OVER_WHY
from docqa.answer.compose import abstain, compose
from docqa.answer.entail import Entailment
from docqa.answer.events import CHECKING, PASSED_OVER, UNTRANSLATED, Case, Event, Redraft, Status, Token
from docqa.answer.evidence import DOCUMENT, select
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
from docqa.answer.read import Asked, Reading
from docqa.answer.shapes import DIGESTS, LIST, sentences_asked
from docqa.answer.translate import AskedIn, accepted, source_language, translation_request, untranslated
from docqa.answer.verify import names_absent
from docqa.answer.words import ABSTAIN_PHRASES
from docqa.models import LLM, Embedder, PrefixKeeper
from docqa.search import rerank
from docqa.types import Answer

MAX_ANSWER_TOKENS = 120
# A summary or a list is several sentences: room for each (a Spanish sentence runs ~40 tokens).
SENTENCE_TOKENS, LIST_TOKENS = 60, 240

Diagnosis = dict[str, object]


@dataclass
class Drafting:
    """What one answer's drafts need: the model, the checks' policy and embedder, how to read again
    for a second draft, and where the timings go."""

    llm: LLM
    policy: Policy
    embedder: Embedder
    reading: Reading
    timings: dict[str, float]
    t0: float

    def attempts(self, case: Case, asked_in: AskedIn | None) -> Generator[Event, None, tuple[Answer, Diagnosis]]:
        """The draft and its checks (and with the retry guard, a second draft): the graded answer,
        and what to keep for diagnosis."""
        llm, policy, timings, tokens = self.llm, self.policy, self.timings, 0
        for attempt in (1, 2):
            message, system = (reading_message, READING_SYSTEM) if case.reading else (user_message, SYSTEM)
            running = paragraph_runs(case)
            titles = line_titles(case, running, once=self.reading.context == DOCUMENT or case.whole)
            request = shape_request(case.shape, case.lang, sentences_asked(case.question), numbered=not case.reading)
            prompt = message(case.question, case.evidence, case.lang, case.note, titles, running, request)
            if case.whole and isinstance(llm, PrefixKeeper):
                # 1 when the document's evaluated prefix was already there (in memory or on disk).
                kept = llm.keep(system, prompt, len(reading_context(case.evidence, titles, running)))
                timings["document_reused"] = float(kept in ("kept", "loaded"))
            # An overview or summary always has an answer in its document: P(NOT_FOUND) is not asked.
            watch = "" if case.shape in DIGESTS else NOT_FOUND
            raw, watched, first, used = yield from draft(llm, system, prompt, self.t0, watch=watch, tokens=reply_tokens(case))
            tokens += used
            timings.setdefault("ttft_s", round(first or 0.0, 3))
            timings["prompt_tokens"] = tokens
            diagnosis: Diagnosis = {"draft": raw, "signals": {"not_found": round(watched, 5)}}
            if declined(raw):
                return abstain(case.lang, "the model found no answer in the evidence"), diagnosis
            raw = yield from self._translated(case, system, prompt, raw, diagnosis)
            tokens = int(timings["prompt_tokens"])
            yield Status(CHECKING)
            entails = Entailment(llm, system)
            answer, why = compose(raw, case, self.reading.reader, self.embedder, policy, asked_in, entails)
            if entails.scores:
                diagnosis["signals"]["entailed_no"] = entails.scores  # type: ignore[index]
            if attempt == 1 and why == PASSED_OVER_WHY and policy.on("retry"):
                # Ask once more from only the sentences that name what the question asks about.
                ranked = rerank(self.reading.reranker, case.query, list(case.hits))
                evidence = select([h for h in ranked if not names_absent(case.question, [h.text])])
                asked = Asked(case.question, case.query, case.lang, case.hits, case.shape, False, case.note)
                case = self.reading.case(asked, evidence)
                yield Redraft(PASSED_OVER)
                continue
            if asked_in is not None and asked_in.text is not None:
                diagnosis["translated_question"] = asked_in.text
            if not answer.abstained:
                answer = graded(answer, why, watched if watch else None, policy.not_found_bar)
            return answer, diagnosis
        raise AssertionError("the second attempt always returns")

    def _translated(self, case: Case, system: str, prompt: str, raw: str, diagnosis: Diagnosis) -> Generator[Event, None, str]:
        """A small model copies words of foreign sources into its answer ("the eje impulsor"); asked
        again in the same conversation, it translates them (docs/experiments.md, "Translation turn")."""
        source = source_language(case.lang, case.doc_langs())
        leftover = untranslated(raw, case.lang, source, case.question) if source and self.policy.on("translation") else []
        if not leftover:
            return raw
        yield Redraft(UNTRANSLATED)
        again, _, _, used = yield from draft(self.llm, system, translation_request(leftover, case.lang, source), self.t0,
                                             [(prompt, raw)], watch="", tokens=reply_tokens(case))
        self.timings["prompt_tokens"] += used
        diagnosis["signals"]["untranslated"] = len(leftover)  # type: ignore[index]
        return again if accepted(raw, again, case.lang, source, case.question) and not declined(again) else raw


def draft(
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


def reply_tokens(case: Case) -> int:
    if case.shape in DIGESTS:
        return SENTENCE_TOKENS * sentences_asked(case.question) + SENTENCE_TOKENS
    return LIST_TOKENS if case.shape == LIST else MAX_ANSWER_TOKENS


def declined(raw: str) -> bool:
    """The model's own NOT_FOUND, or a reply that says it does not know: the answer is not found."""
    text = raw.strip().lower()
    return not text or any(p in text for p in ABSTAIN_PHRASES)


def with_diagnosis(answer: Answer, diagnosis: Diagnosis) -> Answer:
    """The answer with what its drafts left for diagnosis, its own signals kept."""
    signals = {**answer.signals, **diagnosis.get("signals", {})}  # type: ignore[dict-item]
    return replace(answer, **{**diagnosis, "signals": signals})  # type: ignore[arg-type]
