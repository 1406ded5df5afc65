"""Plain-text tables of an eval report, for the terminal and for docs/experiments.md."""

from __future__ import annotations

from collections.abc import Mapping

_METRICS = (
    ("answer_accuracy", "accuracy"), ("citation_precision", "cit. prec."), ("abstention_rate", "abstention"),
    ("false_abstention_rate", "false abst."), ("recall_at_5", "recall@5"), ("ttft_s_mean", "TTFT s"),
)
_EFFECTS = (
    ("right_gained", "right +"), ("right_lost", "right −"), ("wrong_withdrawn", "wrong withdrawn"),
    ("unanswerables_caught", "unans. caught"), ("accuracy_change", "Δ acc."),
    ("false_abstention_change", "Δ false abst."), ("utility_change", "Δ utility"),
)


def _cell(value: object) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def metrics_table(rows: Mapping[str, Mapping[str, object]]) -> str:
    """One line per named report (the run, no guards, the baseline)."""
    lines = ["| run | n | " + " | ".join(label for _, label in _METRICS) + " |", "|---|---|" + "---|" * len(_METRICS)]
    for name, report in rows.items():
        lines.append(f"| {name} | {report.get('n', '')} | " + " | ".join(_cell(report.get(k)) for k, _ in _METRICS) + " |")
    return "\n".join(lines)


def ablation_table(guards: Mapping[str, Mapping[str, object]]) -> str:
    """Per guard: what it does against the same run with it switched off (Δ = on − off)."""
    lines = ["| guard | default | " + " | ".join(label for _, label in _EFFECTS) + " |", "|---|---|" + "---|" * len(_EFFECTS)]
    for name, effect in guards.items():
        cells = " | ".join(_cell(effect.get(k)) for k, _ in _EFFECTS)
        lines.append(f"| {name} | {effect.get('default', 'on')} | {cells} |")
    return "\n".join(lines)


def render(result: Mapping[str, object]) -> str:
    """The whole report as text: metrics, then the guards and the filter when it was an ablation."""
    if "guards" not in result:
        runs = {"docqa": result}
    else:
        runs = {"docqa": result["report"], "no guards": result["no_guards"]}  # type: ignore[dict-item]
    if "baseline" in result:
        runs["plain pipeline"] = result["baseline"]  # type: ignore[assignment]
    parts = [metrics_table(runs)]  # type: ignore[arg-type]
    report = runs["docqa"]
    if "grades" in report:
        parts.append(grades_text(report))
    if "guards" in result:
        parts.append(ablation_table(result["guards"]))  # type: ignore[arg-type]
        f: Mapping[str, object] = result["filter"]  # type: ignore[assignment]
        parts.append(f"drafts' ceiling {_cell(f['draft_ceiling'])}, right drafts kept {_cell(f['right_drafts_kept'])}, "
                     f"wrong drafts withdrawn {_cell(f['wrong_drafts_withdrawn'])}")
    return "\n\n".join(parts)


def grades_text(report: Mapping[str, object]) -> str:
    """The grade badge: its mix, precision, coverage and the curve as the doubt bar moves."""
    mix: Mapping[str, Mapping[str, int]] = report["grades"]  # type: ignore[assignment]
    line = "; ".join(f"{kind}: " + ", ".join(f"{g} {n}" for g, n in counts.items()) for kind, counts in mix.items())
    figures = ", ".join(f"{k.replace('_', ' ')} {_cell(report.get(k))}" for k in (
        "shown_accuracy", "verified_precision", "verified_coverage", "right_graded_unverified", "false_not_found", "unanswerable_verified"))
    curve = table(report["curve"], ["bar", "verified", "precision", "coverage", "unanswerable_verified"])  # type: ignore[arg-type]
    return f"grades: {line}\n{figures}\n\nverified precision against coverage as the doubt bar moves:\n{curve}"


def table(rows: list[Mapping[str, object]], columns: list[str]) -> str:
    """A Markdown table of the given columns, one line per row (the bench commands)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
