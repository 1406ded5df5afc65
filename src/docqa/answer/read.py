"""Read: whether the documents clearly lack the answer (not found, before any model call), and what the model reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from docqa.answer.checks import only_names_held
from docqa.answer.compose import abstain
from docqa.answer.digest import digest_evidence
from docqa.answer.events import Case
from docqa.answer.evidence import DOCUMENT, LIST_EVIDENCE, READING, select, whole_document, with_context
from docqa.answer.guards import Policy
from docqa.answer.shapes import DIGESTS, LIST, SUMMARY, WHO_IS, YES_NO, sentences_asked
from docqa.answer.spelling import never_mentioned, respell, spelled_like
from docqa.index import IndexReader, title
from docqa.search import Reranker, rerank
from docqa.types import Answer, Document, Hit

_EMPTY = Document("", "", 0.0, 0, "")


@dataclass(frozen=True)
class Asked:
    """A question once retrieved and recognised: what reading it needs."""

    question: str  # as the user asked it
    query: str  # standalone: a follow-up carries the previous turn
    lang: str
    hits: tuple[Hit, ...]
    shape: str
    topical: bool  # an overview or summary of a topic, not of the documents
    note: str = ""  # the earlier turn, for a follow-up


def absent(asked: Asked, reader: IndexReader, policy: Policy, gate: tuple[float, float] | None) -> Answer | None:
    """The answer graded not found from retrieval alone (no model call), or None to read on: an
    empty index, a name no indexed sentence writes, or no sentence close enough (the gate). An
    overview or summary of the documents asks for no fact, so no sentence is close to it: only an
    empty index stops it."""
    best = max(asked.hits, key=lambda h: h.dense, default=None)
    if asked.shape in DIGESTS and not asked.topical:
        return None if best is not None else abstain(asked.lang, "nothing was retrieved")
    lang = asked.lang
    same = best is not None and reader.store.languages("sentences", [best.sentence_id]).get(best.sentence_id) == lang
    # Within one language only: across languages most words are legitimately absent.
    missing = never_mentioned(asked.query, lang, reader) if same and policy.on("never_mentioned") else None
    if missing:
        near = spelled_like(missing, lang, reader)
        why = f"the documents never mention “{missing}”" + (f" (they do mention “{near}”)" if near else "")
        suggestion = respell(asked.question, missing, near) if near else ""
        suggestion = "" if suggestion == asked.question else suggestion  # the typo was in an earlier turn
        return replace(abstain(lang, why), suggestion=suggestion)
    if best is None:
        return abstain(lang, "nothing was retrieved")
    bars = gate if policy.on("gate") else None
    weak = bars is not None and best.dense < (bars[0] if same else bars[1])
    # "Who is X?" names only its subject, which embeds far from a sentence naming several people.
    bypass = policy.on("name_bypass") and asked.shape == WHO_IS
    if weak and not (bypass and only_names_held(asked.query, lang, list(asked.hits))):
        return abstain(lang, "weak evidence: no passage is close enough to the question")
    return None


@dataclass(frozen=True)
class Reading:
    """How the model reads the documents: `context` is one of evidence.CONTEXTS."""

    reader: IndexReader
    reranker: Reranker | None = None
    context: str = "sentence"

    def case(self, asked: Asked, ranked: Sequence[Hit] | None = None) -> Case:
        """What the model reads for the question: an overview or summary its document (digest.py),
        anything else the best sentences (`ranked` when given, a list or yes/no more of them) in the context mode."""
        reader = self.reader
        if asked.shape in DIGESTS:
            evidence, whole = digest_evidence(list(asked.hits), reader, asked.topical, asked.shape == SUMMARY, sentences_asked(asked.question))
            reading = whole or asked.topical
        else:
            more = LIST_EVIDENCE if asked.shape in (LIST, YES_NO) else ()
            best = list(ranked) if ranked is not None else select(rerank(self.reranker, asked.query, list(asked.hits)), *more)
            document = whole_document(best, reader) if self.context == DOCUMENT else []
            evidence, whole, reading = document or with_context(best, reader, self.context), bool(document), self.context in READING
        docs = {h.doc_path: reader.store.document(h.doc_path) or _EMPTY for h in evidence}
        titles = {path: title(doc.text) for path, doc in docs.items()}
        return Case(asked.question, asked.query, asked.lang, asked.hits, tuple(evidence), docs, titles, asked.note, whole,
                    asked.shape, reading, asked.topical)
