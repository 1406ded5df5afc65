"""The guards' evidence as numbers: one draft's signals, measured with no guard deciding anything."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from docqa.checks import around
from docqa.embed import Embedder
from docqa.events import Case
from docqa.guards import NAMES, Policy
from docqa.lexical import terms_found
from docqa.reader import IndexReader
from docqa.verify import (
    Claim,
    names_absent,
    novel_support,
    parse,
    topic_coverage,
    topic_terms,
    unfamiliar_names_absent,
    unsourced_details,
    verify,
)

_NONE = Policy(frozenset(NAMES))
# Signals that only compare words of one language; across languages they read as "no objection".
NEUTRAL = {"novelty": 1.0, "unsourced": 0.0, "topic_docs": 1.0, "topic_near": 1.0}


def draft_signals(
    raw: str, case: Case, reader: IndexReader, embedder: Embedder, not_found: float, gate_margin: float,
) -> dict[str, float]:
    """What each guard after the draft would look at, as a number in [0, 1] (or a cosine margin
    for the gate), so that one fitted score can weigh them together instead of each vetoing alone."""
    return {k: round(float(v), 4) for k, v in _signals(raw, case, reader, embedder, not_found, gate_margin).items()}


def _signals(
    raw: str, case: Case, reader: IndexReader, embedder: Embedder, not_found: float, gate_margin: float,
) -> dict[str, float]:
    signals = {"not_found": not_found, "gate_margin": gate_margin}
    parsed = parse(raw, case.lang)
    claims = _claims(parsed, case, reader, embedder)
    cited = sorted({e for c in claims for e in c.cited})
    if not cited:
        return {**signals, "support": 0.0, "names": 1.0, "cross": 0.0, **NEUTRAL}
    langs = case.doc_langs()
    same = all(langs[e - 1] == case.lang for e in cited)
    near = [around(case.evidence[e - 1], case) for e in cited]
    signals["support"] = max(c.support for c in claims)
    signals["cross"] = 0.0 if same else 1.0
    absent = names_absent(f"{case.question} {case.query}", near) if same else unfamiliar_names_absent(case.question, langs[cited[0] - 1], near)
    signals["names"] = 1.0 if absent else 0.0
    if not same:
        return {**signals, **NEUTRAL}
    return {**signals, **_word_signals(claims, case, cited, near, reader)}


def _claims(parsed: Sequence[tuple[str, tuple[int, ...]]], case: Case, reader: IndexReader, embedder: Embedder) -> list[Claim]:
    if not parsed:
        return []
    claim_vecs = embedder.embed_queries([text for text, _ in parsed])
    ev_vecs = np.stack([reader.sentence_vectors.vector(h.sentence_id) for h in case.evidence])
    said = [h.text for h in case.evidence]
    texts = [case.docs[h.doc_path].text for h in case.evidence]
    return verify(parsed, case.lang, said, claim_vecs, ev_vecs, texts, case.question, case.doc_langs(), _NONE)


def _word_signals(claims: Sequence[Claim], case: Case, cited: Sequence[int], near: Sequence[str], reader: IndexReader) -> dict[str, float]:
    """Within one language: how much of each claim is new and sourced, and how much of the question
    the cited documents and passages cover (idf-weighted)."""
    def stated(c: Claim) -> list[str]:
        return [s for e in c.cited for s in (case.evidence[e - 1].text, case.titles[case.evidence[e - 1].doc_path])]

    novelty = max(novel_support(c.text, case.question, case.lang, stated(c)) for c in claims)
    docs = [[case.docs[case.evidence[e - 1].doc_path].text for e in c.cited] for c in claims]
    unsourced = any(unsourced_details(c.text, d) for c, d in zip(claims, docs) if c.cited)
    wanted = topic_terms(case.question, case.lang)
    total, in_corpus = reader.store.sentence_frequencies(wanted)
    paths = sorted({case.evidence[e - 1].doc_path for e in cited})
    _, in_cited = reader.store.sentence_frequencies(wanted, paths)
    return {
        "novelty": novelty,
        "unsourced": 1.0 if unsourced else 0.0,
        "topic_docs": topic_coverage(total, in_corpus, in_cited),
        "topic_near": topic_coverage(total, in_corpus, terms_found(wanted, " ".join(near), case.lang)),
    }

