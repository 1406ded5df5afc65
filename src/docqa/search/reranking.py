"""Optional reranker seam: a cross-encoder rescoring retrieved sentences (off unless configured)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from docqa.types import Hit


@runtime_checkable
class Reranker(Protocol):
    """Scores how well each passage answers the query; higher is better."""

    def score(self, query: str, passages: Sequence[str]) -> list[float]: ...


class CrossEncoderReranker:
    """sentence-transformers CrossEncoder from a local folder (no reranker weights ship offline)."""

    def __init__(self, path: str, threads: int) -> None:
        import torch
        from sentence_transformers import CrossEncoder

        torch.set_num_threads(threads)
        self._model = CrossEncoder(path, device="cpu")

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        return [float(s) for s in self._model.predict([(query, p) for p in passages])]


def rerank(reranker: Reranker | None, query: str, hits: Sequence[Hit]) -> list[Hit]:
    """Hits reordered by the reranker (stable for ties); unchanged without one."""
    if reranker is None or not hits:
        return list(hits)
    scores = reranker.score(query, [h.text for h in hits])
    order = sorted(range(len(hits)), key=lambda i: -scores[i])
    return [hits[i] for i in order]
