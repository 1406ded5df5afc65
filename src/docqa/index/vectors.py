"""FAISS vectors keyed by stable ids: exact while small, then a graph (HNSW), then an inverted file, all with 8-bit codes past exact."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

FLAT, HNSW, IVF = "flat", "hnsw-sq8", "ivf-sq8"
# Exact search up to EXACT_UP_TO; then, up to GRAPH_UP_TO, a graph over 8-bit codes, which finds
# 0.956-0.988 of the exact top 10 on real multilingual-e5 vectors where an inverted file found
# 0.77-0.80 (question vectors do not fall in their answers' coarse cells), and 0.949 on 100k
# generated ones; past it an inverted file of 8-bit codes that readers memory-map, because on
# generated vectors the graph fell to 0.85 at 322k where the inverted file held 0.98 (real vectors
# that many could not be embedded here; docs/benchmarks.md, "Retrieval at size").
EXACT_UP_TO = 50_000
GRAPH_UP_TO = 150_000
GRAPH_M = 16  # links per vector: 536 bytes a vector with its 8-bit codes
GRAPH_EF_SEARCH = 128  # candidates a search keeps: recall@10 0.926 at 32, 0.948 at 64, 0.956 at 128 (1 ms)
GRAPH_EF_BUILD = 40
GRAPH_SAMPLE = 65_536  # vectors that fit the 8-bit ranges
RETRAIN_GROWTH = 4  # retrain the coarse quantizer once the index holds this many times its training size
GRAPH_GROWTH = 1.1  # rebuild a graph once it holds this many times what it was built with: added in
# batches, a graph loses recall (docs/benchmarks.md, "Retrieval at size")
TRAIN_PER_LIST = 64  # training vectors per inverted list; faiss asks for at least 39
NPROBE_SHARE = 0.1  # share of the lists a query visits, at least MIN_NPROBE (docs/benchmarks.md)
MIN_NPROBE = 16
BATCH = 65_536


@dataclass(frozen=True)
class Spec:
    """How one vector file is built; recorded in the manifest."""

    kind: str = FLAT
    nlist: int = 0
    nprobe: int = 0
    trained_on: int = 0
    m: int = 0  # a graph's links per vector
    ef_search: int = 0

    @property
    def removable(self) -> bool:
        """A graph cannot drop a vector: removing any rebuilds it from the rest."""
        return self.kind != HNSW

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Spec:
        return cls(**data) if data else cls()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def spec_for(n: int, exact_up_to: int = EXACT_UP_TO) -> Spec:
    """The index for n vectors: exact, a graph, or about √n lists of which a query visits a tenth."""
    if n <= exact_up_to:
        return Spec()
    if n <= GRAPH_UP_TO:
        return Spec(HNSW, trained_on=n, m=GRAPH_M, ef_search=GRAPH_EF_SEARCH)
    nlist = min(max(64, int(math.sqrt(n))), max(1, n // 39))  # faiss wants 39 training points a list
    return Spec(IVF, nlist, min(nlist, max(MIN_NPROBE, int(nlist * NPROBE_SHARE))), n)


def still_fits(current: Spec, n: int, exact_up_to: int = EXACT_UP_TO) -> bool:
    """Whether an index built as `current` can take n vectors without a rebuild."""
    wanted = spec_for(n, exact_up_to)
    if wanted.kind != current.kind:
        return False
    if current.kind == HNSW:
        return n <= current.trained_on * GRAPH_GROWTH
    return current.kind == FLAT or n <= current.trained_on * RETRAIN_GROWTH


class VectorIndex:
    def __init__(self, index: object, spec: Spec | None = None) -> None:
        self._index = index
        self.spec = spec or Spec()

    @classmethod
    def empty(cls, dim: int) -> VectorIndex:
        import faiss

        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @classmethod
    def trained(cls, dim: int, spec: Spec, sample: np.ndarray) -> VectorIndex:
        """An empty graph or inverted-file index whose 8-bit ranges (and lists) are fitted on `sample`."""
        import faiss

        if spec.kind == FLAT:
            return cls.empty(dim)
        if spec.kind == HNSW:
            graph = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, spec.m, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = GRAPH_EF_BUILD
            graph.hnsw.efSearch = spec.ef_search
            graph.train(np.ascontiguousarray(sample, dtype=np.float32))
            return cls(faiss.IndexIDMap2(graph), spec)
        index = faiss.index_factory(dim, f"IVF{spec.nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        # Ids are sparse (rows deleted from the store), so look-ups by id need a hash table.
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        index.nprobe = spec.nprobe
        return cls(index, spec)

    @classmethod
    def load(cls, path: Path, spec: Spec | None = None, mmap: bool = False) -> VectorIndex:
        """With `mmap`, an inverted-file index is served from the page cache, not read into memory."""
        import faiss

        spec = spec or Spec()
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap and spec.kind == IVF else 0
        index = faiss.read_index(str(path), flags)
        if spec.kind == IVF:
            faiss.extract_index_ivf(index).nprobe = spec.nprobe
        if spec.kind == HNSW:
            faiss.downcast_index(index.index).hnsw.efSearch = spec.ef_search
        return cls(index, spec)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @property
    def dim(self) -> int:
        return int(self._index.d)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return int(self._index.ntotal)  # type: ignore[attr-defined]

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(  # type: ignore[attr-defined]
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )

    def remove(self, ids: Sequence[int]) -> None:
        if len(ids):
            if not self.spec.removable:
                raise ValueError("a graph index cannot remove vectors; rebuild it from the rest")
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[attr-defined]

    def ids(self) -> list[int]:
        return sorted(int(i) for i in self._all_ids())

    def _all_ids(self) -> np.ndarray:
        import faiss

        if self.spec.kind != IVF:
            return faiss.vector_to_array(self._index.id_map)  # type: ignore[attr-defined]
        lists = self._index.invlists  # type: ignore[attr-defined]
        parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy() for i in range(lists.nlist)]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def batches(self, size: int = BATCH) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every (ids, vectors) held, a batch at a time (8-bit codes decoded): the input of a retrain."""
        import faiss

        ids = self._all_ids()
        inner = faiss.downcast_index(self._index.index) if self.spec.kind != IVF else None  # type: ignore[attr-defined]
        for start in range(0, len(ids), size):
            part = ids[start : start + size]
            if inner is not None:  # the flat or graph rows line up with the id map
                yield part, inner.reconstruct_n(start, len(part))
            else:
                yield part, self._index.reconstruct_batch(part)  # type: ignore[attr-defined]

    def vector(self, id_: int) -> np.ndarray:
        return np.asarray(self._index.reconstruct(int(id_)), dtype=np.float32)  # type: ignore[attr-defined]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(id, cosine) best first for one query vector."""
        if len(self) == 0:
            return []
        scores, ids = self._index.search(  # type: ignore[attr-defined]
            np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), min(k, len(self))
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]
