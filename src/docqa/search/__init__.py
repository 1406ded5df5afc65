"""The search side: the index's sentences ranked for a question, dense and BM25 fused, optionally reranked."""

from __future__ import annotations

from docqa.search.reranking import CrossEncoderReranker, Reranker, rerank
from docqa.search.retrieve import CANDIDATES, Retriever

__all__ = ["CANDIDATES", "CrossEncoderReranker", "Reranker", "Retriever", "rerank"]
