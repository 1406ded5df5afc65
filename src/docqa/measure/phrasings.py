"""`docqa eval` on a phrasings file (../shared/eval/phrasings/): how often the shape recogniser takes a
question for the shape its label gives, overall, per shape, per language, and which shapes it mixes up."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from docqa.answer import SHAPES, Recogniser
from docqa.measure.evaluate import QuestionFileError, read_rows


def is_phrasings(path: Path) -> bool:
    """A phrasings file labels each question with a shape and has no `type`: no corpus is needed."""
    try:
        first = next((line for line in path.read_text("utf-8").splitlines() if line.strip()), "")
        row = json.loads(first) if first else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False  # the question-file reader says what is wrong with it
    return isinstance(row, dict) and "shape" in row and "type" not in row


def load_phrasings(path: Path) -> list[dict[str, str]]:
    rows = []
    for n, row in read_rows(path):
        missing = [k for k in ("question", "shape", "lang") if not isinstance(row.get(k), str)]
        if missing:
            raise QuestionFileError(f"{path}:{n}: '{missing[0]}' is missing or not a string; each line needs question, shape and lang")
        if row["shape"] not in SHAPES:
            raise QuestionFileError(f"{path}:{n}: unknown shape '{row['shape']}'; one of {', '.join(SHAPES)}")
        rows.append(row)
    return rows


def recognition(rows: list[dict[str, str]], recogniser: Recogniser) -> dict[str, Any]:
    """Overall and per-shape (and per-language) share recognised as labelled, and the confusions."""
    hits: dict[str, list[bool]] = defaultdict(list)
    by_lang: dict[str, list[bool]] = defaultdict(list)
    confused: Counter[tuple[str, str]] = Counter()
    for row in rows:
        got = recogniser.shape(row["question"], row["lang"])
        hits[row["shape"]].append(got == row["shape"])
        by_lang[row["lang"]].append(got == row["shape"])
        if got != row["shape"]:
            confused[(row["shape"], got)] += 1
    every = [h for hs in hits.values() for h in hs]
    return {
        "n": len(rows), "digest_margin": recogniser.margin,
        "shape_recognised": _share(every),
        "per_shape": {s: {"n": len(hits[s]), "recognised": _share(hits[s])} for s in SHAPES if hits[s]},
        "per_language": {lang: _share(v) for lang, v in sorted(by_lang.items())},
        "confused": [{"label": a, "taken_for": b, "n": n} for (a, b), n in confused.most_common()],
    }


def render(report: dict[str, Any]) -> str:
    lines = [f"shape recognised  {report['shape_recognised']:.3f} of {report['n']} questions  "
             + "  ".join(f"{lang} {v:.3f}" for lang, v in report["per_language"].items())]
    lines += [f"  {s:9} {v['recognised']:.3f}  ({v['n']})" for s, v in report["per_shape"].items()]
    if report["confused"]:
        lines.append("taken for another shape: " + ", ".join(f"{c['label']} as {c['taken_for']} ×{c['n']}" for c in report["confused"]))
    return "\n".join(lines)


def _share(xs: list[bool]) -> float:
    return round(sum(xs) / len(xs), 3) if xs else 0.0
