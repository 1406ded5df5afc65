"""Test doubles for the embedder seam: deterministic bag-of-words vectors, no model files."""

from __future__ import annotations

import hashlib
import time
from typing import Sequence

import numpy as np

from docqa.lexical import fold


class FakeEmbedder:
    """Hashes folded words into a fixed-size vector, so shared words mean similar vectors."""

    def __init__(self, id: str = "sentence-transformers:fake", dim: int = 64, delay: float = 0.0) -> None:
        self.id, self.dim, self.delay = id, dim, delay
        self.passages_embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        for word in fold(text).split():
            word = "".join(c for c in word if c.isalnum())
            if word:
                v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v + 1.0 / np.sqrt(self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.delay:
            time.sleep(self.delay)
        self.passages_embedded += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
