"""Each question shape's route behind one interface: from what the model reads to the graded answer."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import Protocol

from docqa.answer.crossing import in_language, quiet
from docqa.answer.digest import quoted
from docqa.answer.draft import Diagnosis, Drafting, with_diagnosis
from docqa.answer.events import Case, Event
from docqa.answer.prompt import READING_SYSTEM, SYSTEM
from docqa.answer.settle import settle, settled
from docqa.answer.shapes import DIGESTS, SUMMARY, YES_NO
from docqa.answer.translate import AskedIn, source_language
from docqa.types import Answer


class Route(Protocol):
    """One shape's way from the case to its answer, streaming what it drafts."""

    def answer(self, case: Case, drafting: Drafting, asked_in: AskedIn | None) -> Generator[Event, None, Answer]: ...


class FactRoute:
    """Facts, lists, who/what is, why/how: the model drafts from the numbered sentences, the checks
    grade each sentence. Across languages (guard `source_answer`) it answers in the sources'
    language, where every check compares like with like, then translates (docs/experiments.md,
    "Answers in the documents' language")."""

    def answer(self, case: Case, drafting: Drafting, asked_in: AskedIn | None) -> Generator[Event, None, Answer]:
        policy = drafting.policy
        source = source_language(case.lang, case.doc_langs())
        if asked_in is not None and policy.on("source_answer") and _lead_language(case) == source and asked_in():
            inner = replace(case, question=asked_in(), query=asked_in(), lang=source)
            answer, diagnosis = yield from quiet(drafting.attempts(inner, None))
            answer = yield from in_language(drafting.llm, _system(case), answer, case.lang, source, drafting.t0, drafting.timings)
            diagnosis["translated_question"] = asked_in()
            if not answer.abstained:
                diagnosis["signals"]["translated_answer"] = 1.0  # type: ignore[index]
            return with_diagnosis(answer, diagnosis)
        answer, diagnosis = yield from drafting.attempts(case, asked_in if policy.on("question_translation") else None)
        return with_diagnosis(answer, diagnosis)


class DigestRoute:
    """An overview or summary: the model digests its document, as a fact is drafted; where none of
    its sentences is stated by the document, the document's own key sentences, quoted."""

    def answer(self, case: Case, drafting: Drafting, asked_in: AskedIn | None) -> Generator[Event, None, Answer]:
        answer = yield from FactRoute().answer(case, drafting, asked_in)
        if not case.evidence or any(s.supported for s in answer.sentences):
            return answer
        signals = {**answer.signals, "quoted": 1.0}
        return replace(quoted(case.evidence, case.lang, drafting.reading.reader, case.shape == SUMMARY),
                       reason=answer.reason, draft=answer.draft, signals=signals, translated_question=answer.translated_question)


class YesNoRoute:
    """Settled by checking the question's details against the sources (settle.py), in their
    language, with no draft: the model's own verdicts were nearly all "yes"."""

    def answer(self, case: Case, drafting: Drafting, asked_in: AskedIn | None) -> Generator[Event, None, Answer]:
        question = asked_in() if asked_in is not None else ""
        source = source_language(case.lang, case.doc_langs())
        verdict = settle(question or case.question, source if question else case.lang, case.evidence, drafting.reading.reader, case.titles)
        diagnosis: Diagnosis = {"signals": {"settle_coverage": verdict.coverage, "settle_missing": float(len(verdict.missing))},
                                "translated_question": question}
        return with_diagnosis(settled(verdict, case.lang), diagnosis)
        yield  # a generator like the others, though it streams nothing


def route_for(shape: str) -> Route:
    if shape == YES_NO:
        return YesNoRoute()
    return DigestRoute() if shape in DIGESTS else FactRoute()


def _lead_language(case: Case) -> str:
    """The language of the best-ranked sentence the model reads: a mixed corpus is answered in the
    sources' language only when the best evidence is in it."""
    best = max(case.evidence, key=lambda h: h.score, default=None)
    return case.docs[best.doc_path].lang if best is not None else ""


def _system(case: Case) -> str:
    return READING_SYSTEM if case.reading else SYSTEM
