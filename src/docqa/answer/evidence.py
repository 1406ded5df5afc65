"""Which sentences the model reads: the best-ranked ones, alone or with the sentences around them."""

from __future__ import annotations

from collections.abc import Sequence

from docqa.index import IndexReader, estimate_tokens
from docqa.types import Hit

# Sentence recall of the gold sentence in the top 3/4/5 against prompt time (~35 tokens/s): up to
# 5 sentences within ~200 tokens, at least 3 (docs/experiments.md, "Evidence").
EVIDENCE_TOKENS = 200
MAX_EVIDENCE, MIN_EVIDENCE = 5, 3
# How much of its document each of the best sentences brings along: itself (the default), the
# sentence before it (who "he" is), one either side, or its whole chunk (docs/experiments.md, "Evidence").
CONTEXTS = {"sentence": (0, 0), "before": (1, 0), "neighbours": (1, 1), "chunk": (-1, -1)}
CONTEXT_TOKENS = 480  # the most any context may add up to, about 14 s of prompt on 2 cores
# "document": the best sentence's whole document when it fits, read as prose; the model's KV cache
# (and a state saved on disk) keeps it, so later questions on it pay only for their own tokens
# (docs/experiments.md, "Whole documents", "Passages and whole documents read as prose").
DOCUMENT = "document"
DOCUMENT_TOKENS = 1600
# "passages": the blank-line paragraphs that hold the best sentences, as a plain RAG pastes them, read
# as prose and cited by alignment after the draft; also what "document" reads when a document does
# not fit (docs/experiments.md, "Passages and whole documents read as prose").
PASSAGES = "passages"
READING = (PASSAGES, DOCUMENT)  # contexts read as prose, not as numbered sentences
MAX_PASSAGES, PASSAGE_TOKENS = 3, 900


# A list's items are often spread over more sentences than one fact: it reads up to 8 within ~400 tokens.
LIST_EVIDENCE = (8, 400)


def select(hits: Sequence[Hit], most: int = MAX_EVIDENCE, tokens: int = EVIDENCE_TOKENS) -> list[Hit]:
    """The best sentences that fit the budget, in rank order."""
    chosen: list[Hit] = []
    used = 0
    for hit in hits[:most]:
        cost = estimate_tokens(hit.text) + 3
        if len(chosen) >= MIN_EVIDENCE and used + cost > tokens:
            break
        chosen.append(hit)
        used += cost
    return chosen


def with_context(evidence: Sequence[Hit], reader: IndexReader, context: str) -> list[Hit]:
    """Each of the best MIN_EVIDENCE sentences with its context, in document order within a passage
    and passages in rank order. Every context sentence is numbered on its own, so a citation still
    points at the one sentence that says it."""
    if context in READING:  # a document that fits is read whole before this (`whole_document`)
        return passages(evidence, reader)
    before, after = CONTEXTS[context]
    if (before, after) == (0, 0):
        return list(evidence)
    out: list[Hit] = []
    seen: set[int] = set()
    used = 0
    for hit in evidence[:MIN_EVIDENCE]:
        rows = _around(hit, reader, before, after)
        fresh = [r for r in rows if r.id not in seen]
        cost = sum(estimate_tokens(r.text) + 3 for r in fresh)
        if out and used + cost > CONTEXT_TOKENS:
            break
        for r in fresh:
            seen.add(r.id)
            out.append(hit if r.id == hit.sentence_id else Hit(r.id, r.chunk_id, r.doc_path, r.text, r.start, r.end, r.page, 0.0))
        used += cost
    return out


def whole_document(evidence: Sequence[Hit], reader: IndexReader) -> list[Hit]:
    """Every sentence of the best sentence's document, in order, when it fits DOCUMENT_TOKENS ([] when
    it does not); the evidence sentences keep their scores."""
    if not evidence:
        return []
    rows = reader.store.document_sentences(evidence[0].doc_path)
    if sum(estimate_tokens(r.text) + 3 for r in rows) > DOCUMENT_TOKENS:
        return []
    ranked = {h.sentence_id: h for h in evidence}
    return [ranked.get(r.id) or Hit(r.id, r.chunk_id, r.doc_path, r.text, r.start, r.end, r.page, 0.0) for r in rows]


def passages(ranked: Sequence[Hit], reader: IndexReader) -> list[Hit]:
    """The paragraphs of the best-ranked sentences, a paragraph once, up to MAX_PASSAGES within
    PASSAGE_TOKENS (the first always, however long), in document order: documents by their best
    paragraph, paragraphs as their document has them, so that one about "the delegation" follows the
    one that says who led it, as the reader of the document sees them."""
    out: list[Hit] = []
    seen: set[int] = set()
    used = taken = 0
    scored = {h.sentence_id: h for h in ranked}
    for hit in ranked:
        if taken == MAX_PASSAGES:
            break
        if hit.sentence_id in seen:
            continue
        rows = reader.store.paragraph_rows(hit.sentence_id)
        cost = sum(estimate_tokens(r.text) + 1 for r in rows)
        if out and used + cost > PASSAGE_TOKENS:
            continue  # a shorter paragraph further down may still fit
        out.extend(scored.get(r.id) or Hit(r.id, r.chunk_id, r.doc_path, r.text, r.start, r.end, r.page, 0.0) for r in rows)
        seen.update(r.id for r in rows)
        used, taken = used + cost, taken + 1
    first = {h.doc_path: i for i, h in reversed(list(enumerate(out)))}
    return sorted(out, key=lambda h: (first[h.doc_path], h.start))


def _around(hit: Hit, reader: IndexReader, before: int, after: int) -> list:  # type: ignore[type-arg]
    if before < 0:  # the whole chunk
        ids = reader.store.chunk_sentence_ids([hit.chunk_id]).get(hit.chunk_id, [hit.sentence_id])
        return reader.store.sentences(ids)
    return reader.store.neighbours(hit.sentence_id, before, after)
