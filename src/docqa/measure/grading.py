"""How far the grade badge can be trusted: the grade mix, verified precision and coverage, and their curve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from docqa.types import GRADES, NOT_FOUND, UNVERIFIED, VERIFIED

# The model's doubt (P(NOT_FOUND)) bars the curve is read at; above 1 the doubt grades nothing.
CURVE_BARS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 2.0)


@dataclass(frozen=True)
class Graded:
    """One question's answer as the badge scores it."""

    answerable: bool
    grade: str
    right: bool  # shown with a gold answer (answerable questions only)
    checked: bool  # every check passed: verified unless the model's doubt reaches the bar
    doubt: float  # the model's P(NOT_FOUND); 0 where it was not asked


def of(answerable: bool, grade: str, right: bool, signals: dict[str, object]) -> Graded:
    checked = float(signals.get("checked", 1.0 if grade == VERIFIED else 0.0))  # type: ignore[arg-type]
    return Graded(answerable, grade, right, checked > 0 and grade != NOT_FOUND, float(signals.get("not_found", 0.0)))  # type: ignore[arg-type]


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def grade_report(rows: Sequence[Graded]) -> dict[str, object]:
    """The figures issue 34 asks of the badge: its precision (verified answers that are right, an
    unanswerable question graded verified counting wrong), its coverage (right answers graded
    verified), the mix per kind of question, false not_found, and the curve."""
    ans = [r for r in rows if r.answerable]
    una = [r for r in rows if not r.answerable]
    right = [r for r in ans if r.right]
    verified = [r for r in rows if r.grade == VERIFIED]
    return {
        "grades": {"answerable": _mix(ans), "unanswerable": _mix(una)},
        "shown_accuracy": _ratio(len(right), len(ans)),
        "verified_precision": _ratio(sum(r.right for r in verified), len(verified)),
        "verified_coverage": _ratio(sum(r.grade == VERIFIED for r in right), len(right)),
        "right_graded_unverified": _ratio(sum(r.grade == UNVERIFIED for r in right), len(right)),
        "false_not_found": _ratio(sum(r.grade == NOT_FOUND for r in ans), len(ans)),
        "unanswerable_verified": _ratio(sum(r.grade == VERIFIED for r in una), len(una)),
        "curve": curve(rows),
    }


def _mix(rows: Sequence[Graded]) -> dict[str, int]:
    return {g: sum(r.grade == g for r in rows) for g in GRADES}


def curve(rows: Sequence[Graded], bars: Sequence[float] = CURVE_BARS) -> list[dict[str, object]]:
    """Verified precision against coverage as the doubt bar moves, from the same answers: an answer
    is verified at a bar when its checks passed and its doubt is under the bar."""
    right = sum(r.right for r in rows)
    out = []
    for bar in bars:
        verified = [r for r in rows if r.checked and r.doubt < bar]
        out.append({"bar": bar, "verified": len(verified), "precision": _ratio(sum(r.right for r in verified), len(verified)),
                    "coverage": _ratio(sum(r.right for r in verified), right),
                    "unanswerable_verified": _ratio(sum(not r.answerable for r in verified), sum(not r.answerable for r in rows))})
    return out
