"""Conversations kept: every question and its answer, saved as it completes in a SQLite file beside the index."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from docqa.config import UserError
from docqa.interfaces.present import grade_line
from docqa.interfaces.render import answer_markdown, portable, typed
from docqa.types import Answer, AnswerSentence, Citation, Hit

FILE = "chats.sqlite"  # in the index folder, outside every index version: a rebuild keeps it
_KEPT_HITS = 8  # of an answer's retrieved sentences: enough for its closest passages and sources
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY, conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    question TEXT NOT NULL, answer TEXT NOT NULL, model TEXT NOT NULL, versions TEXT NOT NULL, at REAL NOT NULL,
    feedback INTEGER, comment TEXT NOT NULL DEFAULT '');
"""


class ChatStoreError(UserError):
    """The conversation store cannot be read or written; the message says which file and what to do."""


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str  # its first question
    updated: float
    turns: int


@dataclass(frozen=True)
class Exchange:
    id: int
    question: str
    answer: Answer
    model: str
    versions: dict[str, str]  # each cited document's sha256 when the answer was given
    at: float
    feedback: int | None = None  # 1 a thumbs up, 0 down, None not given
    comment: str = ""


class ChatStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, check_same_thread=False)
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise ChatStoreError(_problem(path, err)) from None

    def conversations(self) -> list[Conversation]:
        rows = self._read("SELECT c.id, c.title, c.updated, count(t.id) FROM conversations c "
                          "LEFT JOIN turns t ON t.conversation=c.id GROUP BY c.id ORDER BY c.updated DESC, c.id DESC")
        return [Conversation(*r) for r in rows]

    def add(self, conversation: int | None, question: str, answer: Answer, model: str, versions: dict[str, str]) -> tuple[int, int]:
        """Save one exchange (in a new conversation when `conversation` is None); its conversation's id and its own."""
        now, question = time.time(), typed(question)
        try:
            with self.db:
                if conversation is None:
                    conversation = int(self.db.execute("INSERT INTO conversations (title, updated) VALUES (?, ?)",
                                                       (" ".join(question.split())[:120], now)).lastrowid or 0)
                self.db.execute("UPDATE conversations SET updated=? WHERE id=?", (now, conversation))
                turn = self.db.execute(
                    "INSERT INTO turns (conversation, question, answer, model, versions, at) VALUES (?, ?, ?, ?, ?, ?)",
                    (conversation, question, json.dumps(_answer_dict(answer), ensure_ascii=False), model, json.dumps(versions), now),
                ).lastrowid
        except sqlite3.Error as err:
            raise ChatStoreError(_problem(self.path, err)) from None
        return conversation, int(turn or 0)

    def feedback(self, turn: int, value: int | None, comment: str = "") -> None:
        """A thumbs up (1) or down (0) on one answer, with an optional comment."""
        try:
            with self.db:
                self.db.execute("UPDATE turns SET feedback=?, comment=? WHERE id=?", (value, comment, turn))
        except sqlite3.Error as err:
            raise ChatStoreError(_problem(self.path, err)) from None

    def marked_wrong(self) -> list[Exchange]:
        """Every answer marked wrong (thumbs down), oldest first."""
        rows = self._read("SELECT id, question, answer, model, versions, at, feedback, comment FROM turns WHERE feedback=0 ORDER BY id")
        return [_exchange(r) for r in rows]

    def exchanges(self, conversation: int) -> list[Exchange]:
        rows = self._read("SELECT id, question, answer, model, versions, at, feedback, comment FROM turns "
                          "WHERE conversation=? ORDER BY id", (conversation,))
        return [_exchange(r) for r in rows]

    def delete(self, conversation: int) -> bool:
        try:
            with self.db:
                return self.db.execute("DELETE FROM conversations WHERE id=?", (conversation,)).rowcount > 0
        except sqlite3.Error as err:
            raise ChatStoreError(_problem(self.path, err)) from None

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self.db.execute(sql, args))
        except (sqlite3.Error, ValueError, KeyError, TypeError) as err:
            raise ChatStoreError(_problem(self.path, err)) from None


def markdown(title: str, exchanges: list[Exchange]) -> str:
    """A conversation as Markdown that stays inert in any viewer (nothing from a document, a question
    or the model becomes a tag, comment, image or link): each question, its answer with every
    sentence's support mark and what the checks found, and each citation quoted with its place."""
    out = [f"# {portable(title)}", ""]
    for e in exchanges:
        out += [f"**Q:** {portable(e.question)}", "", answer_markdown(e.answer, portable), "", f"*{portable(grade_line(e.answer))}*", ""]
        for c in e.answer.citations:
            page = f", p. {c.page}" if c.page else ""
            out.append(f"> \\[{c.n}\\] {portable(c.sentence)}  \n> — {portable(c.doc_path)}{page}, characters {c.start}–{c.end}")
        if e.answer.abstained and e.answer.reason:
            out.append(f"*Why: {portable(e.answer.reason)}*")
        out.append("")
    return "\n".join(out)


def as_questions(wrong: list[Exchange]) -> list[dict[str, Any]]:
    """Answers marked wrong as a question file in ../shared/eval/'s schema: no gold answer is known,
    the answer given is kept as a rejected one (`docqa eval` reports how often it comes back)."""
    return [{"id": f"feedback-{e.id}", "lang": e.answer.lang, "type": "answerable", "question": e.question,
             "answers": [], "gold_sentences": [], "rejected_answers": [e.answer.text], "comment": e.comment, "model": e.model}
            for e in wrong]


def _exchange(row: tuple[Any, ...]) -> Exchange:
    turn, question, answer, model, versions, at, feedback, comment = row
    return Exchange(turn, question, answer_from(json.loads(answer)), model, json.loads(versions), at, feedback, comment)


def _answer_dict(answer: Answer) -> dict[str, Any]:
    keep = {h.sentence_id for h in answer.closest()} | {(c.doc_path, c.start) for c in answer.citations}  # type: ignore[arg-type]
    hits = [h for h in answer.retrieved if h.sentence_id in keep or (h.doc_path, h.start) in keep][:_KEPT_HITS]
    return asdict(answer) | {"retrieved": [asdict(h) for h in hits]}


def answer_from(d: dict[str, Any]) -> Answer:
    return Answer(**(d | {"citations": tuple(Citation(**c) for c in d["citations"]),
                          "sentences": tuple(AnswerSentence(**{**s, "citations": tuple(s["citations"])}) for s in d["sentences"]),
                          "retrieved": tuple(Hit(**h) for h in d["retrieved"])}))


def _problem(path: Path, err: Exception) -> str:
    return (f"The conversation store {path} cannot be used ({err}); conversations are not being saved. "
            f"Make the folder writable, or move the file aside to start a new one.")
