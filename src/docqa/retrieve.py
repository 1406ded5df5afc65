"""Hybrid retrieval: dense FAISS and BM25 (FTS5) fused by reciprocal rank, for chunks and sentences."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np

from docqa.embed import Embedder
from docqa.lexical import fts_query
from docqa.reader import IndexReader
from docqa.segment import detect_language
from docqa.types import Hit

RRF_K = 60  # the constant from Cormack et al. (2009); rankings here are short, so it matters little
CANDIDATES = 40


def rrf(rankings: Iterable[Sequence[int]], weights: Sequence[float] | None = None) -> dict[int, float]:
    """Reciprocal-rank fusion: sum of weight / (RRF_K + rank) over the rankings an id appears in."""
    scores: dict[int, float] = defaultdict(float)
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else weights[i]
        for rank, item in enumerate(ranking):
            scores[item] += w / (RRF_K + rank + 1)
    return dict(scores)


class Retriever:
    def __init__(self, reader: IndexReader, embedder: Embedder) -> None:
        self.reader = reader
        self.embedder = embedder

    def query_vector(self, query: str) -> np.ndarray:
        return self.embedder.embed_queries([query])[0]

    def rank_chunks(
        self, query: str, k: int, mode: str = "hybrid", qvec: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Chunk ids with fused scores, best first. mode: hybrid | dense | bm25."""
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if mode in ("hybrid", "dense"):
            qvec = self.query_vector(query) if qvec is None else qvec
            dense = self.reader.vectors.search(qvec, CANDIDATES)
        if mode in ("hybrid", "bm25"):
            lexical = self.reader.store.bm25("chunks_fts", fts_query(query, detect_language(query)), CANDIDATES)
        if mode == "dense":
            return dense[:k]
        if mode == "bm25":
            return lexical[:k]
        fused = rrf([[i for i, _ in dense], [i for i, _ in lexical]])
        return sorted(fused.items(), key=lambda kv: -kv[1])[:k]

    def sentence_hits(self, query: str, k: int, qvec: np.ndarray | None = None) -> list[Hit]:
        """The k best sentences, ranked by fusing sentence-level dense and BM25 ranks with the
        rank of the chunk each sentence sits in (context that a lone sentence lacks)."""
        qvec = self.query_vector(query) if qvec is None else qvec
        store = self.reader.store
        chunks = self.rank_chunks(query, CANDIDATES // 4, "hybrid", qvec)
        dense = self.reader.sentence_vectors.search(qvec, CANDIDATES)
        lexical = store.bm25("sentences_fts", fts_query(query, detect_language(query)), CANDIDATES)
        members = store.chunk_sentence_ids(c for c, _ in chunks)
        chunk_rank = [sid for c, _ in chunks for sid in members.get(c, [])]
        fused = rrf([[i for i, _ in dense], [i for i, _ in lexical], chunk_rank])
        best = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
        dense_of, lex_of = dict(dense), dict(lexical)
        rows = {r.id: r for r in store.sentences(i for i, _ in best)}
        hits = []
        for sid, score in best:
            r = rows[sid]
            hits.append(
                Hit(sid, r.chunk_id, r.doc_path, r.text, r.start, r.end, r.page, score,
                    dense=dense_of.get(sid, 0.0), lexical=lex_of.get(sid, 0.0))
            )
        return hits
