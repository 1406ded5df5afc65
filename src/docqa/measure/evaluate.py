"""Question files and the metrics defined in ../shared/eval/README.md."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from docqa.config import UserError


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    type: str
    question: str
    answers: tuple[str, ...]
    gold_sentences: tuple[str, ...]
    turns: tuple[str, ...] = ()
    # The question-shape sets (../shared/eval/shapes/README.md): its shape, every list item or
    # summary key point, and the polarity a yes/no answer opens with.
    shape: str = ""
    answers_all: tuple[str, ...] = ()
    yes_no: str = ""
    # Answers a user marked wrong (`docqa feedback export`): reported when one is given again.
    rejected: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return not self.type.startswith("unanswerable")


class QuestionFileError(UserError, ValueError):
    """A question file that does not follow ../shared/eval/README.md; the message names file, line and field."""


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise QuestionFileError(f"{path}: cannot read it ({err}); give a UTF-8 JSONL question file") from None
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise QuestionFileError(f"{path}:{n}: not valid JSON ({err.msg} at column {err.colno}); one object a line") from None
        if not isinstance(row, dict):
            raise QuestionFileError(f"{path}:{n}: a JSON object is expected, got {type(row).__name__}")
        rows.append((n, row))
    return rows


def _question(path: Path, n: int, r: dict[str, Any], gold: list[str] | None) -> Question:
    where = f"{path}:{n}"

    def strings(field: str) -> tuple[str, ...]:
        value = r.get(field) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise QuestionFileError(f"{where}: field '{field}' must be a list of strings")
        return tuple(value)

    if "id" not in r:
        raise QuestionFileError(f"{where}: field 'id' is missing")
    turns = strings("turns")
    question = r.get("question", turns[-1] if turns else None)  # a conversation's last turn is its question
    if not isinstance(question, str) or not question.strip():
        raise QuestionFileError(f"{where}: field 'question' is missing or empty (and there are no 'turns')")
    kind = r.get("type", "answerable")
    if not isinstance(kind, str) or not (kind == "answerable" or kind.startswith("unanswerable")):
        raise QuestionFileError(f"{where}: field 'type' is {kind!r}; use 'answerable' or 'unanswerable…'")
    return Question(
        id=str(r["id"]), lang=str(r.get("lang", "en")), type=kind, question=question, answers=strings("answers"),
        gold_sentences=tuple(gold) if gold is not None else strings("gold_sentences"), turns=turns,
        shape=str(r.get("shape") or ""), answers_all=strings("answers_all"), yes_no=str(r.get("yes_no") or ""),
        rejected=strings("rejected_answers"),
    )


def load_questions(path: Path, gold_from: Path | None = None) -> list[Question]:
    """Read a JSONL question file; `gold_from` swaps in gold sentences of the same ids from another
    file, which is how English questions are scored against the Spanish corpus, and adds that file's
    answers to the accepted ones: an English answer written from Spanish sources may keep a name or
    a phrase as the sources give it ("la Ciudad de México"), which is right in either language. A
    malformed row raises QuestionFileError naming the file, the line and the field."""
    gold: dict[str, Question] = {}
    if gold_from is not None:
        for n, other in read_rows(gold_from):
            gold[str(other.get("id"))] = _question(gold_from, n, other, None)
    out = []
    for n, r in read_rows(path):
        other = gold.get(str(r.get("id")))
        q = _question(path, n, r, list(other.gold_sentences) if other else [] if gold_from else None)
        out.append(replace(q, answers=tuple(dict.fromkeys(q.answers + other.answers))) if other else q)
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


def item_in(item: str, answer: str) -> bool:
    """A shapes item in the answer: as a substring (items may be stems, "hugonote"), or a whole word
    when it has 3 characters or fewer ("NP", "129") (../shared/eval/shapes/README.md)."""
    want, got = normalize(item), normalize(answer)
    if not want:
        return False
    return f" {want} " in f" {got} " if len(want) <= 3 else want in got


def items_found(items: Iterable[str], answer: str) -> float:
    """The share of `items` in the answer (1.0 when there are none)."""
    items = list(items)
    return sum(item_in(i, answer) for i in items) / len(items) if items else 1.0


def right(q: Question, answer: str) -> bool:
    """Whether a given (not abstained) answer is right: by the shapes README's rule for the
    question's shape, else by the accepted answers as whole words (../shared/eval/README.md)."""
    if not q.shape:
        return answer_matches(answer, q.answers)
    states = not q.answers or any(item_in(a, answer) for a in q.answers)
    if q.shape == "list":
        return items_found(q.answers_all, answer) == 1.0
    if q.shape == "summary":
        return states and items_found(q.answers_all, answer) >= 0.5
    if q.shape == "yes_no" and q.yes_no:
        return states and polarity(answer) == q.yes_no
    return states


def same_answer(a: str, b: str) -> bool:
    """The same answer, whatever its citation numbers and punctuation."""
    return normalize(_MARKS.sub(" ", a)) == normalize(_MARKS.sub(" ", b))


_MARKS = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")


def polarity(answer: str) -> str:
    """"yes" or "no" as the answer opens ("Sí, …", "No. …"), "" when it opens with neither."""
    first = (normalize(answer).split() or [""])[0]
    return "yes" if first in ("si", "yes") else "no" if first == "no" else ""


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
