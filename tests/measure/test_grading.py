"""The grade badge's figures: mix, verified precision and coverage, false not_found, and the curve."""

from __future__ import annotations

from docqa.measure.grading import Graded, curve, grade_report, of

ROWS = [
    Graded(True, "verified", True, True, 0.001),
    Graded(True, "verified", False, True, 0.01),
    Graded(True, "unverified", True, True, 0.3),  # right, graded down by the model's doubt
    Graded(True, "unverified", False, False, 0.0),
    Graded(True, "not_found", False, False, 1.0),
    Graded(False, "verified", False, True, 0.015),  # an unanswerable question graded verified: wrong
    Graded(False, "not_found", False, False, 1.0),
]


def test_precision_counts_unanswerables_graded_verified_as_wrong() -> None:
    report = grade_report(ROWS)
    assert report["grades"] == {"answerable": {"verified": 2, "unverified": 2, "not_found": 1},
                                "unanswerable": {"verified": 1, "unverified": 0, "not_found": 1}}
    assert report["shown_accuracy"] == 0.4 and report["verified_precision"] == 0.333
    assert report["verified_coverage"] == 0.5 and report["right_graded_unverified"] == 0.5
    assert report["false_not_found"] == 0.2 and report["unanswerable_verified"] == 0.5


def test_the_curve_trades_coverage_for_precision_as_the_bar_falls() -> None:
    points = {p["bar"]: p for p in curve(ROWS, (0.005, 0.02, 2.0))}
    assert points[0.005]["precision"] == 1.0 and points[0.005]["coverage"] == 0.5
    assert points[0.02]["verified"] == 3 and points[0.02]["precision"] == 0.333
    # With no bar the doubtful right answer is verified too; what failed a check never is.
    assert points[2.0]["verified"] == 4 and points[2.0]["coverage"] == 1.0


def test_a_row_without_the_checked_signal_reads_it_from_its_grade() -> None:
    assert of(True, "verified", True, {}).checked and not of(True, "unverified", True, {}).checked
    assert not of(False, "not_found", False, {"checked": 1.0}).checked
