"""What an overview or summary reads (its document, or its key sentences), and the catalogue of many documents."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from docqa.answer.compose import cited_text, list_text
from docqa.answer.evidence import DOCUMENT_TOKENS, passages
from docqa.answer.shapes import OVERVIEW, SUMMARY
from docqa.index import IndexReader, SentenceRow, estimate_tokens, title
from docqa.types import Answer, AnswerSentence, Citation, Hit

CATALOGUE = "catalogue"  # the shape of an answer that lists the documents
CATALOGUE_DOCUMENTS = 12  # documents an overview of many lists, one line each, before "and N more"
_SCANNED = 600  # sentences of a long document weighed for centrality: the first ones, in order
_QUOTE = {"es": "Los documentos dicen:", "en": "The documents say:"}
_MORE = {"es": "y {n} documentos más", "en": "and {n} more documents"}


def digest_evidence(hits: Sequence[Hit], reader: IndexReader, topical: bool, summary: bool, sentences: int) -> tuple[list[Hit], bool]:
    """What the model reads for an overview or summary, and whether it is one document whole (read
    as prose) rather than numbered sentences. A summary of a topic ("what do they say about
    migration?") reads the passages that hold it. An overview reads the best hit's document whole
    when it fits, else its central sentences; a summary reads its key sentences, numbered, so each
    summary sentence cites the one it rests on. ([], False) when there is nothing to read."""
    if topical:
        return passages(hits, reader), False
    docs = reader.store.documents()
    path = hits[0].doc_path if hits else next(iter(docs), "")
    rows = reader.store.document_sentences(path) if path else []
    if not rows:
        return [], False
    if summary:
        return [_hit(r) for r in key_sentences(rows, reader, sentences)], False
    if sum(estimate_tokens(r.text) + 3 for r in rows) <= DOCUMENT_TOKENS:
        return [_hit(r) for r in rows], True
    return [_hit(r) for r in central(rows, reader, DOCUMENT_TOKENS)], False


def key_sentences(rows: Sequence[SentenceRow], reader: IndexReader, count: int) -> list[SentenceRow]:
    """One sentence for each of `count` consecutive parts of the document: the opening sentence for
    the first part (a news lede, an article's definition of its subject), and for each other part
    the sentence closest to that part's mean vector. A summary of the whole, not of its opening
    (docs/experiments.md, "Question shapes": chosen over the sentences most central to the whole
    document and over maximal marginal relevance, which both gathered the points of one section)."""
    body = [r for r in rows[:_SCANNED] if title(r.text) != r.text.strip()] or list(rows[:_SCANNED])
    vectors = np.stack([reader.sentence_vectors.vector(r.id) for r in body])
    bounds = np.linspace(0, len(body), min(count, len(body)) + 1).astype(int)
    return [body[0] if not a else body[a + int(np.argmax(vectors[a:b] @ vectors[a:b].mean(axis=0)))]
            for a, b in pairwise(bounds) if b > a]


def quoted(evidence: Sequence[Hit], lang: str, reader: IndexReader, summary: bool) -> Answer:
    """What a summary or overview says when none of the model's sentences is supported (the document
    is there, so it always has something to say): a summary's key sentences, an overview's most
    central one, quoted and cited."""
    if not summary and evidence:
        evidence = [evidence[_by_centrality(evidence, reader)[0]]]
    head = _QUOTE.get(lang, _QUOTE["en"])
    sentences = (AnswerSentence(head, (), True), *(AnswerSentence(f"«{h.text.strip()}»", (i,), True) for i, h in enumerate(evidence, 1)))
    citations = tuple(Citation(i, h.doc_path, h.text, h.start, h.end, h.page, 1.0) for i, h in enumerate(evidence, 1))
    return Answer(cited_text(sentences), False, lang, citations, sentences, shape=SUMMARY if summary else OVERVIEW)


def central(rows: Sequence[SentenceRow], reader: IndexReader, tokens: int) -> list[SentenceRow]:
    """The sentences closest to their document's mean sentence vector (what most of it is about),
    as many as fit `tokens`, in document order. The title line is kept: it names the subject."""
    rows = list(rows[:_SCANNED])
    order = _by_centrality(rows, reader)
    chosen: list[int] = []
    used = 0
    if rows and title(rows[0].text) == rows[0].text.strip():
        chosen, used = [0], estimate_tokens(rows[0].text) + 3
    for i in order:
        cost = estimate_tokens(rows[i].text) + 3
        if i not in chosen and used + cost <= tokens:
            chosen.append(i)
            used += cost
    return [rows[i] for i in sorted(chosen)]


def many_documents(reader: IndexReader) -> bool:
    return len(reader.store.documents()) > 1


def catalogue(reader: IndexReader, lang: str) -> Answer:
    """"What are my documents about?" over several documents: each one's title and its most central
    sentence, quoted and cited. Nothing is written by the model, so nothing needs checking."""
    paths = sorted(reader.store.documents())
    sentences, citations = [], []
    for path in paths[:CATALOGUE_DOCUMENTS]:
        rows = reader.store.document_sentences(path)
        body = [r for r in rows if title(r.text) != r.text.strip()] or rows
        if not body:
            continue
        row = body[_by_centrality(body[:_SCANNED], reader)[0]]
        n = len(citations) + 1
        sentences.append(AnswerSentence(f"{title(rows[0].text) or path}: “{row.text}”", (n,), True))
        citations.append(Citation(n, path, row.text, row.start, row.end, row.page, 1.0))
    if len(paths) > CATALOGUE_DOCUMENTS:
        more = _MORE.get(lang, _MORE["en"]).format(n=len(paths) - CATALOGUE_DOCUMENTS)
        sentences.append(AnswerSentence(f"… {more}", (), True))
    return Answer(list_text(sentences), False, lang, tuple(citations), tuple(sentences), shape=CATALOGUE)


def _by_centrality(rows: Sequence[SentenceRow] | Sequence[Hit], reader: IndexReader) -> list[int]:
    """Indices of `rows`, closest to their mean vector first (ties in document order)."""
    vectors = np.stack([reader.sentence_vectors.vector(r.id if isinstance(r, SentenceRow) else r.sentence_id) for r in rows])
    return [int(i) for i in np.argsort(-(vectors @ vectors.mean(axis=0)), kind="stable")]


def _hit(r: SentenceRow) -> Hit:
    return Hit(r.id, r.chunk_id, r.doc_path, r.text, r.start, r.end, r.page, 0.0)
