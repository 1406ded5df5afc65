"""The answer stream's typed events, and the case under question that the answer side passes around."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from docqa.types import Answer, Document, Hit

# Stages a Status names, in the order they may come.
RETRIEVING, THINKING, CHECKING = "retrieving", "thinking", "checking"
# Why a Redraft replaces what has streamed so far.
PASSED_OVER, UNTRANSLATED = "passed_over", "untranslated"


@dataclass(frozen=True)
class Status:
    stage: str


@dataclass(frozen=True)
class Waiting:
    """The model is answering other sessions; this many are ahead in line."""

    ahead: int


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Redraft:
    """The draft streamed so far is replaced by the one that follows."""

    reason: str


@dataclass(frozen=True)
class Final:
    answer: Answer


Event = Status | Waiting | Token | Redraft | Final


@dataclass(frozen=True)
class Case:
    """One question under answer: built once after retrieval, passed whole to the checks."""

    question: str  # as the user asked it
    query: str  # standalone: a follow-up carries the previous turn
    lang: str
    hits: tuple[Hit, ...]  # everything retrieved, in rank order
    evidence: tuple[Hit, ...]  # the sentences the model reads, numbered from 1
    docs: Mapping[str, Document]  # by path, for every evidence sentence
    titles: Mapping[str, str]
    note: str = ""  # the earlier turn, for a follow-up
    whole: bool = False  # the evidence is one document, read whole
    shape: str = "fact"  # answer/shapes.py: what kind of reply the question asks for
    reading: bool = False  # the evidence is read as prose (passages, a document), not numbered sentences
    topical: bool = False  # an overview or summary of a topic, not of the documents

    def doc_langs(self) -> list[str]:
        return [self.docs[h.doc_path].lang for h in self.evidence]
