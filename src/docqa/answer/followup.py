"""Cheap follow-up handling: detect an elliptical question and make it standalone without the LLM."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from docqa.answer.words import ANAPHORA as _ANAPHORA
from docqa.answer.words import FOLLOWUP_OPENERS as _OPENERS
from docqa.index import fold
from docqa.types import Answer

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str  # the answer text shown, without citation markers
    abstained: bool = False

    @classmethod
    def of(cls, question: str, answer: Answer) -> Turn:
        return cls(question, answer.plain, answer.abstained)


def is_followup(question: str) -> bool:
    words = _WORD.findall(fold(question))
    if not words:
        return False
    if words[0] in _OPENERS or " ".join(words[:2]) in _OPENERS:
        return True
    # Spanish "él" folds to "el", the article, so only count it when it is not followed by a noun-like word.
    anaphoric = [w for w in words if w in _ANAPHORA and w != "el"]
    return bool(anaphoric) or len(words) <= 3


def standalone(question: str, history: Sequence[Turn]) -> str:
    """The retrieval query: a follow-up carries the previous question and answer with it."""
    if not history or not is_followup(question):
        return question
    last = history[-1]
    context = last.question if last.abstained else f"{last.question} {last.answer}"
    return f"{question} ({context})"


def history_note(question: str, history: Sequence[Turn]) -> str:
    """A one-line reminder of the previous turn for the prompt, only for follow-ups."""
    if not history or not is_followup(question) or history[-1].abstained:
        return ""
    last = history[-1]
    return f'the user asked "{last.question}" and the answer was "{last.answer}"'
