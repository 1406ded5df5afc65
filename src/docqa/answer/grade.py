"""An answer's grade from the checks' signals: verified, unverified (shown, marked) or not found."""

from __future__ import annotations

from dataclasses import replace

from docqa.types import UNVERIFIED, VERIFIED, Answer

DOUBT_WHY = "the model doubts that the evidence answers it"


def graded(answer: Answer, why: str, doubt: float | None, bar: float) -> Answer:
    """`answer` (never an abstention) graded: verified only when every sentence is supported by the
    sentence it cites, no check found fault (`why` is ""), and the model's doubt (its P(NOT_FOUND),
    None when not measured) is under `bar`, the model's calibrated NOT_FOUND bar; unverified
    otherwise, with the reason kept. No filter separates this model's right drafts from its wrong
    ones (docs/experiments.md, "Graded answers"), so the checks grade an answer, never withdraw it.
    The signal `checked` says whether the checks alone passed, for the precision–coverage curve."""
    checked = not why and all(s.supported for s in answer.sentences)
    doubtful = doubt is not None and doubt >= bar
    reason = why or ("" if checked else "some sentences are not stated by the sources they cite")
    if checked and doubtful:
        reason = DOUBT_WHY
    grade = VERIFIED if checked and not doubtful else UNVERIFIED
    signals = {**answer.signals, "checked": float(checked)}
    return replace(answer, grade=grade, reason=reason, signals=signals)
