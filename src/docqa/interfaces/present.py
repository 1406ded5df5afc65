"""One presenter for the CLI and the app: every status label, hint and redraft notice, written once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docqa.answer import (
    CHECKING,
    MARKER,
    PASSED_OVER,
    RETRIEVING,
    THINKING,
    UNTRANSLATED,
    Event,
    Final,
    Redraft,
    Status,
    Token,
    Waiting,
)
from docqa.types import NOT_FOUND, UNVERIFIED, VERIFIED, Answer

STAGES = {
    RETRIEVING: "Retrieving passages ...",
    THINKING: "Thinking (the local model needs a few seconds) ...",
    # Across languages the check may take the model ~1 s more: it translates the question.
    CHECKING: "Checking the answer against its sources ...",
}
REDRAFTS = {
    PASSED_OVER: "Withdrawn: it cited a passage about something else. Asking again from the passages that name it ...",
    UNTRANSLATED: "It kept words of the sources' language. Translating them ...",
}


def closest_documents(answer: Answer, n: int = 3) -> list[str]:
    return list(dict.fromkeys(h.doc_path for h in answer.retrieved))[:n]


def abstention_hint(answer: Answer) -> str:
    """Why it abstained and what the user can do, in one or two sentences ("" for a question that
    could not be asked: its text already says what to do)."""
    if answer.text == answer.reason:
        return ""
    why = f"Why: {answer.reason}. " if answer.reason else ""
    closest = closest_documents(answer)
    near = f" The closest documents were: {', '.join(closest)}." if closest else ""
    return f"{why}Try rephrasing, or add a document that covers this.{near}"


# The grade badge as a person reads it at a glance: its label, and one line on what it means.
BADGES = {VERIFIED: "✅ Verified", UNVERIFIED: "⚠️ Unverified", NOT_FOUND: "🔎 Not found"}


def grade_line(answer: Answer) -> str:
    """The badge and what it means for this answer, in one line (the CLI, the page, the export)."""
    if answer.grade == VERIFIED:
        return f"{BADGES[VERIFIED]}: each sentence is stated by the source it cites."
    if answer.grade == NOT_FOUND:
        return f"{BADGES[NOT_FOUND]}: your documents do not hold this."
    failed = sum(not s.supported for s in answer.sentences)
    which = f"{failed} of {len(answer.sentences)} sentences are not stated by their sources" if failed else answer.reason
    return f"{BADGES[UNVERIFIED]}: not confirmed by your documents ({which}); check the sources."


def crossing_note(answer: Answer) -> str:
    """For an answer written in the documents' language and translated: where it was verified."""
    if answer.abstained or not answer.signals.get("translated_answer"):
        return ""
    return f"Answered from the documents in their language (asked as “{answer.translated_question}”), verified there, then translated."


_SPACE_BEFORE_MARK = re.compile(r"\s+(?=[.,;:!?…])")


def _bare(text: str) -> str:
    # Without markers, and without the space a marker leaves before punctuation: "Washington [1]."
    # and "Washington. [1]" are the same answer.
    return _SPACE_BEFORE_MARK.sub("", " ".join(MARKER.sub(" ", text).split()))


def verified_differs(streamed: str, answer: Answer) -> bool:
    """Whether the checked answer must be shown again: verification changed its words or citations."""
    return _bare(streamed) != _bare(answer.text) or MARKER.findall(answer.text) != MARKER.findall(streamed)


@dataclass
class Progress:
    """What a UI shows at one moment of a stream: a label, the text streamed so far, the answer."""

    label: str = STAGES[RETRIEVING]
    streamed: str = ""
    answer: Answer | None = None
    redrafted: bool = False  # the last event replaced the streamed draft

    def update(self, event: Event) -> Progress:
        self.redrafted = False
        if isinstance(event, Status):
            self.label = STAGES.get(event.stage, self.label)
        elif isinstance(event, Waiting):
            self.label = f"Waiting for the model ({event.ahead} ahead)"
        elif isinstance(event, Redraft):
            self.label, self.streamed, self.redrafted = REDRAFTS[event.reason], "", True
        elif isinstance(event, Token):
            self.streamed += event.text
        elif isinstance(event, Final):
            self.answer = event.answer
        return self
