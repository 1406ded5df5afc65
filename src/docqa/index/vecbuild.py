"""One vector file built without the corpus's vectors in memory: new ones spill to disk, then go
in batches into the current index, or into a retrained one when it no longer fits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from docqa.index import vectors as _vectors
from docqa.index.vectors import BATCH, GRAPH_SAMPLE, HNSW, TRAIN_PER_LIST, Spec, VectorIndex, spec_for, still_fits

Batches = Iterator[tuple[np.ndarray, np.ndarray]]


class VectorBuilder:
    def __init__(self, folder: Path, name: str, old: VectorIndex | None, exact_up_to: int | None = None) -> None:
        self._old = old
        self._exact_up_to = exact_up_to if exact_up_to is not None else _vectors.EXACT_UP_TO
        self._ids_path, self._vecs_path = folder / f".{name}.ids", folder / f".{name}.f32"
        self._all_ids_path, self._all_vecs_path = folder / f".{name}.all.ids", folder / f".{name}.all.f32"
        self._ids, self._vecs = self._ids_path.open("wb"), self._vecs_path.open("wb")
        self._added, self._removed = 0, set[int]()
        self.dim = old.dim if old is not None else 0

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if not ids:
            return
        self.dim = vectors.shape[1]
        np.asarray(ids, dtype=np.int64).tofile(self._ids)
        np.ascontiguousarray(vectors, dtype=np.float32).tofile(self._vecs)
        self._added += len(ids)

    def can_reuse(self) -> bool:
        return self._old is not None

    def reuse(self, old_ids: list[int], ids: list[int]) -> None:
        """Add the current index's vectors of `old_ids` again as `ids` (a renamed file's)."""
        assert self._old is not None
        if old_ids:
            self.add(ids, np.stack([self._old.vector(i) for i in old_ids]))

    def remove(self, ids: list[int]) -> None:
        self._removed.update(ids)

    def discard(self) -> None:
        """Nothing to write after all: drop the spill files."""
        self._ids.close()
        self._vecs.close()
        self._ids_path.unlink(missing_ok=True)
        self._vecs_path.unlink(missing_ok=True)

    def finish(self, path: Path, dim: int) -> Spec:
        """Write the vector file at `path`; returns how it was built."""
        self._ids.close()
        self._vecs.close()
        self.dim = self.dim or dim
        try:
            index = self._into_old() if self._fits() else self._fresh()
            index.save(path)
            return index.spec
        finally:
            for spill in (self._ids_path, self._vecs_path, self._all_ids_path, self._all_vecs_path):
                spill.unlink(missing_ok=True)

    def _total(self) -> int:
        return (len(self._old) - len(self._removed) if self._old is not None else 0) + self._added

    def _fits(self) -> bool:
        if self._old is None or (self._removed and not self._old.spec.removable):
            return False
        return still_fits(self._old.spec, self._total(), self._exact_up_to)

    def _into_old(self) -> VectorIndex:
        assert self._old is not None
        self._old.remove(sorted(self._removed))
        for ids, vectors in self._spilled():
            self._old.add(ids, vectors)
        return self._old

    def _fresh(self) -> VectorIndex:
        spec = spec_for(self._total(), self._exact_up_to)
        if spec.kind == HNSW:
            # A graph built in one call: added in batches its recall@10 fell from 0.95 to 0.89 at
            # 100k generated vectors and to 0.45 at 1M. From a file, so the vectors stay on disk.
            ids, vectors = self._on_disk()
            index = VectorIndex.trained(self.dim, spec, vectors[:: max(1, len(vectors) // GRAPH_SAMPLE)])
            index.add(ids, vectors)
            return index
        sample = self._sample(spec) if spec.nlist else None
        index = VectorIndex.trained(self.dim, spec, sample) if sample is not None else VectorIndex.empty(self.dim)
        for ids, vectors in self._everything():
            index.add(ids, vectors)
        return index

    def _on_disk(self) -> tuple[np.ndarray, np.ndarray]:
        """Every vector as one memory-mapped array: the spill file itself, or, with an old index,
        a copy of its remaining vectors and the new ones."""
        if self._old is not None:
            with self._all_ids_path.open("wb") as ids, self._all_vecs_path.open("wb") as vecs:
                n = 0
                for part_ids, part in self._everything():
                    part_ids.astype(np.int64).tofile(ids)
                    np.ascontiguousarray(part, dtype=np.float32).tofile(vecs)
                    n += len(part_ids)
            ids_path, vecs_path = self._all_ids_path, self._all_vecs_path
        else:
            n, ids_path, vecs_path = self._added, self._ids_path, self._vecs_path
        if not n:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        return (np.memmap(ids_path, dtype=np.int64, mode="r", shape=(n,)),
                np.memmap(vecs_path, dtype=np.float32, mode="r", shape=(n, self.dim)))

    def _sample(self, spec: Spec) -> np.ndarray:
        """Evenly spaced rows, so that every part of the corpus shapes the lists."""
        step = max(1, self._total() // (spec.nlist * TRAIN_PER_LIST))
        parts, seen = [], 0
        for _, vectors in self._everything():
            rows = np.arange((-seen) % step, len(vectors), step)
            parts.append(vectors[rows])
            seen += len(vectors)
        return np.vstack(parts)

    def _everything(self) -> Batches:
        if self._old is not None:
            removed = np.fromiter(self._removed, np.int64, len(self._removed))
            for ids, vectors in self._old.batches():
                keep = ~np.isin(ids, removed)
                if keep.any():
                    yield ids[keep], vectors[keep]
        yield from self._spilled()

    def _spilled(self) -> Batches:
        if not self._added:
            return
        ids = np.memmap(self._ids_path, dtype=np.int64, mode="r", shape=(self._added,))
        vectors = np.memmap(self._vecs_path, dtype=np.float32, mode="r", shape=(self._added, self.dim))
        for start in range(0, self._added, BATCH):
            yield np.array(ids[start : start + BATCH]), np.array(vectors[start : start + BATCH])
