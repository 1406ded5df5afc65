"""Question files and the metrics defined in ../shared/eval/README.md."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    type: str
    question: str
    answers: tuple[str, ...]
    gold_sentences: tuple[str, ...]
    turns: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return not self.type.startswith("unanswerable")


def load_questions(path: Path, gold_from: Path | None = None) -> list[Question]:
    """Read a JSONL question file; `gold_from` swaps in gold sentences of the same ids from another
    file, which is how English questions are scored against the Spanish corpus."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    gold: dict[str, list[str]] = {}
    if gold_from is not None:
        for line in gold_from.read_text("utf-8").splitlines():
            if line.strip():
                other = json.loads(line)
                gold[other["id"]] = other.get("gold_sentences") or []
    out = []
    for r in rows:
        sentences = gold.get(r["id"], r.get("gold_sentences") or []) if gold_from else r.get("gold_sentences") or []
        out.append(
            Question(
                id=str(r["id"]), lang=r.get("lang", "en"), type=r.get("type", "answerable"),
                question=r["question"], answers=tuple(r.get("answers") or ()),
                gold_sentences=tuple(sentences), turns=tuple(r.get("turns") or ()),
            )
        )
    return out


_PUNCT = re.compile(r"[^\w\s]")


def normalize(text: str) -> str:
    """Lower-case, NFKC, accents and punctuation removed, whitespace collapsed (../shared/eval/README.md)."""
    text = unicodedata.normalize("NFKC", text.lower())
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_PUNCT.sub(" ", text).split())


def answer_matches(answer: str, accepted: Iterable[str]) -> bool:
    got = f" {normalize(answer)} "
    return any(f" {normalize(a)} " in got for a in accepted if normalize(a))


def overlaps(sentence: str, gold: str) -> bool:
    """Two sentences overlap when one contains the other after normalisation, or when most of the
    shorter one's words appear in the longer (segmenters may cut the same text differently)."""
    a, b = normalize(sentence), normalize(gold)
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) / min(len(wa), len(wb)) >= 0.8


def gold_in(passage: str, golds: Iterable[str]) -> bool:
    text = normalize(passage)
    return any(normalize(g) and normalize(g) in text for g in golds)
