"""`docqa eval`: run a question file through the real pipeline and compute the metrics of ../shared/eval/README.md."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from docqa.answer import Asker, Turn, standalone
from docqa.index import detect_language
from docqa.interfaces import Services
from docqa.measure.evaluate import (
    Question,
    answer_matches,
    gold_in,
    items_found,
    overlaps,
    polarity,
    right,
    same_answer,
)
from docqa.measure.grading import Graded, grade_report, of
from docqa.search import Retriever
from docqa.types import Answer

Progress = Callable[[int, int], None]


@dataclass
class Tally:
    answerable: int = 0
    with_gold: int = 0
    recalled: int = 0
    correct: int = 0
    unanswerable: int = 0
    abstained_ok: int = 0
    false_abstained: int = 0
    closest_hold: int = 0  # false abstentions whose closest passages hold a gold answer or sentence
    answered: int = 0
    citations: int = 0
    good_citations: int = 0
    cited_gold: int = 0
    answered_any: int = 0  # answers given to any question, for the answer-language check
    in_language: int = 0
    ttft: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    shapes: dict[str, list[int]] = field(default_factory=dict)  # shape: [right, asked]
    items: list[float] = field(default_factory=list)  # share of each list question's items given
    recognised: int = 0  # questions whose shape the app recognised as the set labels it
    settled: list[bool] = field(default_factory=list)  # each yes/no question: its quoted sentence is a gold one
    verdicts: list[bool] = field(default_factory=list)  # each "Sí/No" said: whether it was the right one
    rejected: int = 0  # questions with an answer a user marked wrong
    rejected_again: int = 0  # ... answered with it again
    graded: list[Graded] = field(default_factory=list)  # each answer as the grade badge scores it


def eval_index_dir(corpus: Path, base: Path = Path("index-eval")) -> Path:
    """A reusable index folder per corpus, so repeated evals only re-embed what changed."""
    digest = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:8]
    return base / f"{corpus.resolve().name}-{digest}"


def run_eval(
    services: Services, questions: list[Question], retrieval_only: bool, progress: Progress,
    details: list[dict[str, object]] | None = None, asker: Asker | None = None,
) -> dict[str, object]:
    """The report's metrics over `questions`; `asker` replaces the default one (another policy or
    model wrapper), and `details` receives one row per question."""
    t = Tally()
    embedder = services.embedder()
    shapes = services.shapes()
    if asker is None and not retrieval_only:
        asker = services.asker()
    for i, q in enumerate(questions):
        progress(i, len(questions))
        history: list[Turn] = []
        if asker is not None:
            for turn in q.turns[:-1]:
                prev = asker.ask(turn, history)
                history.append(Turn.of(turn, prev))
        query = standalone(q.question, history)
        retriever = Retriever(services.reader(), embedder)
        top5 = [c for c, _ in retriever.rank_chunks(query, 5)]
        texts = services.reader().store.chunk_texts(top5)
        recalled = q.answerable and bool(q.gold_sentences) and any(gold_in(x, q.gold_sentences) for x in texts)
        if q.answerable:
            t.answerable += 1
            t.with_gold += bool(q.gold_sentences)
            t.recalled += recalled
        else:
            t.unanswerable += 1
        row: dict[str, object] = {"id": q.id, "type": q.type, "question": q.question, "recalled": recalled}
        if asker is not None:
            answer = asker.ask(q.question, history)
            _score(t, q, answer, row, shapes.shape(q.question, q.lang))
        if details is not None:
            details.append(row)
    progress(len(questions), len(questions))
    return _report(t, len(questions), retrieval_only)


def _score(t: Tally, q: Question, answer: Answer, row: dict[str, object], shape: str) -> None:
    row.update(answer=answer.text, abstained=answer.abstained, grade=answer.grade, reason=answer.reason, draft=answer.draft,
               answerable=q.answerable, draft_correct=q.answerable and answer_matches(answer.draft, q.answers),
               signals=answer.signals, translated_question=answer.translated_question,
               citations=[c.sentence for c in answer.citations], timings=answer.timings)
    if answer.timings.get("ttft_s"):
        t.ttft.append(float(answer.timings["ttft_s"]))
    t.total.append(float(answer.timings.get("total_s", 0.0)))
    if not answer.abstained:
        t.answered_any += 1
        # "Answer in the language of the question": short answers are ambiguous, so they count as right.
        t.in_language += detect_language(answer.plain, default=q.lang) == q.lang
    if q.rejected:
        t.rejected += 1
        again = not answer.abstained and any(same_answer(answer.text, r) for r in q.rejected)
        t.rejected_again += again
        row.update(rejected_again=again)
    if q.shape:
        count_shape(t.shapes, q, answer.abstained if not q.answerable else not answer.abstained and right(q, answer.text))
        t.recognised += recognised(q, shape)
        row.update(shape=q.shape, answered_shape=answer.shape)
        if q.shape == "list":
            t.items.append(0.0 if answer.abstained else items_found(q.answers_all, answer.text))
        if q.shape == "yes_no" and q.answerable:
            _yes_no(t, q, answer)
    if not q.answerable:
        t.graded.append(of(False, answer.grade, False, answer.signals))
        t.abstained_ok += answer.abstained
        return
    t.graded.append(of(True, answer.grade, not answer.abstained and right(q, answer.text), answer.signals))
    if answer.abstained:
        t.false_abstained += 1
        # The passages shown beside the abstention (not an answer): do they hold what was asked?
        near = [h.text for h in answer.closest()]
        holds = any(answer_matches(h, q.answers) or any(overlaps(h, g) for g in q.gold_sentences) for h in near)
        t.closest_hold += holds
        row.update(closest=near, closest_holds_gold=holds)
        return
    correct = right(q, answer.text)
    t.correct += correct
    t.answered += 1
    good = [c for c in answer.citations if any(overlaps(c.sentence, g) for g in q.gold_sentences)]
    t.citations += len(answer.citations)
    t.good_citations += len(good)
    t.cited_gold += bool(good)
    row.update(correct=correct, good_citations=len(good))


# The sets' shapes that the app answers as plain facts.
_AS_FACT = {"english_factoid": "fact", "unanswerable": "fact", "who_is": "who_is", "why_how": "why_how"}


def recognised(q: Question, got: str) -> bool:
    """Whether the app took the question for (`got`) the shape the set gives it (who/what is,
    why/how and plain facts all take the fact route, so any of them counts for the others)."""
    facts = {"fact", "who_is", "why_how"}
    want = _AS_FACT.get(q.shape, q.shape)
    return got == want or (want in facts and got in facts)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def _stats(xs: list[float]) -> tuple[float | None, float | None]:
    if not xs:
        return None, None
    return round(float(np.mean(xs)), 3), round(float(np.percentile(xs, 95)), 3)


def _report(t: Tally, n: int, retrieval_only: bool) -> dict[str, object]:
    report: dict[str, object] = {"n": n, "answerable": t.answerable, "unanswerable": t.unanswerable,
                                 "recall_at_5": _ratio(t.recalled, t.with_gold)}
    if retrieval_only:
        return report
    ttft_mean, ttft_p95 = _stats(t.ttft)
    total_mean, total_p95 = _stats(t.total)
    report.update(
        answer_accuracy=_ratio(t.correct, t.answerable),
        citation_precision=_ratio(t.good_citations, t.citations),
        citation_recall=_ratio(t.cited_gold, t.answered),
        abstention_rate=_ratio(t.abstained_ok, t.unanswerable),
        false_abstention_rate=_ratio(t.false_abstained, t.answerable),
        # Still abstentions in every figure above; this says how often the passages shown with them
        # (Answer.closest) hold what an answerable question asked.
        closest_passage_holds_gold=_ratio(t.closest_hold, t.false_abstained),
        answers_in_question_language=_ratio(t.in_language, t.answered_any),
        ttft_s_mean=ttft_mean, ttft_s_p95=ttft_p95, total_s_mean=total_mean, total_s_p95=total_p95,
    )
    report.update(grade_report(t.graded))
    if t.rejected:
        report.update(rejected_questions=t.rejected, rejected_answer_again=_ratio(t.rejected_again, t.rejected))
    if t.shapes:
        report.update(shapes=shape_report(t.shapes), shape_recognised=_ratio(t.recognised, n),
                      list_items_share=round(float(np.mean(t.items)), 3) if t.items else None,
                      yes_no_settled=_ratio(sum(t.settled), len(t.settled)),
                      yes_no_verdicts={"given": len(t.verdicts), "right": sum(t.verdicts)})
    return report


def _yes_no(t: Tally, q: Question, answer: Answer) -> None:
    """Whether the sentence quoted is one that settles the question (a gold one), and each verdict said."""
    t.settled.append(not answer.abstained and any(overlaps(c.sentence, g) for c in answer.citations for g in q.gold_sentences))
    said = "" if answer.abstained else polarity(answer.text)
    if said:
        t.verdicts.append(said == q.yes_no)


def count_shape(shapes: dict[str, list[int]], q: Question, good: bool) -> None:
    """One more question of `q`'s shape (its unanswerable ones apart), and whether it was handled right."""
    tally = shapes.setdefault(q.shape if q.answerable else "unanswerable", [0, 0])
    tally[0] += good
    tally[1] += 1


def shape_report(shapes: dict[str, list[int]]) -> dict[str, object]:
    """Right and asked per shape, and overall (unanswerable ones count right when abstained)."""
    out: dict[str, object] = {name: {"right": r, "n": n, "accuracy": _ratio(r, n)} for name, (r, n) in sorted(shapes.items())}
    r, n = sum(v[0] for v in shapes.values()), sum(v[1] for v in shapes.values())
    out["overall"] = {"right": r, "n": n, "accuracy": _ratio(r, n)}
    return out
