"""FAISS vectors keyed by stable chunk ids (inner product over normalised vectors = cosine)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


class VectorIndex:
    def __init__(self, index: object) -> None:
        self._index = index

    @classmethod
    def empty(cls, dim: int) -> VectorIndex:
        import faiss

        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        import faiss

        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @property
    def dim(self) -> int:
        return int(self._index.d)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return int(self._index.ntotal)  # type: ignore[attr-defined]

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(  # type: ignore[attr-defined]
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )

    def remove(self, ids: Sequence[int]) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[attr-defined]

    def ids(self) -> list[int]:
        import faiss

        return sorted(int(i) for i in faiss.vector_to_array(self._index.id_map))  # type: ignore[attr-defined]

    def vector(self, id_: int) -> np.ndarray:
        return np.asarray(self._index.reconstruct(int(id_)), dtype=np.float32)  # type: ignore[attr-defined]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine) best first for one query vector."""
        if len(self) == 0:
            return []
        scores, ids = self._index.search(  # type: ignore[attr-defined]
            np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), min(k, len(self))
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]
