"""The index folder: immutable versions, an atomic CURRENT pointer, a manifest, and the build lock."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
CURRENT = "CURRENT"
VERSIONS = "versions"
MANIFEST = "manifest.json"
STORE = "store.sqlite"
VECTORS = "vectors.faiss"  # chunk vectors
SENTENCE_VECTORS = "sentences.faiss"
KEEP_VERSIONS = 2  # the current one and the one before it, which a running app may still read


class IndexError_(RuntimeError):
    """Base for index problems; messages say what to do."""


class IndexMissing(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


class IndexBusy(IndexError_):
    pass


class IndexDamaged(IndexError_):
    pass


REBUILD = "run `docqa index --rebuild` (the documents are untouched; only the index is rebuilt)"


def damage_message(err: BaseException, where: str = "the index") -> str:
    """One line for an index file that cannot be read, with the fix."""
    detail = " ".join(str(err).split())
    detail = detail.split("failed: ")[-1][:160]  # faiss's messages start with a C++ signature
    return f"{where} is damaged ({type(err).__name__}: {detail}); {REBUILD}"


@dataclass(frozen=True)
class Manifest:
    schema: int
    embedder_id: str
    dim: int
    chunking: dict[str, Any]
    built_at: str
    build_seconds: float
    corpus: str
    # How each vector file is built (vectors.Spec per file name); absent in older indexes: exact.
    vectors: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
        return cls(
            schema=int(data["schema"]),
            embedder_id=data["embedder"]["id"],
            dim=int(data["embedder"]["dim"]),
            chunking=data["chunking"],
            built_at=data["built_at"],
            build_seconds=float(data.get("build_seconds", 0.0)),
            corpus=data.get("corpus", ""),
            vectors=data.get("vectors", {}),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "schema": self.schema,
                "embedder": {"id": self.embedder_id, "dim": self.dim},
                "chunking": self.chunking,
                "built_at": self.built_at,
                "build_seconds": round(self.build_seconds, 3),
                "corpus": self.corpus,
                "vectors": self.vectors,
            },
            indent=2,
        )


def current_version(root: Path) -> Path:
    """The folder of the complete index that readers should use."""
    pointer = root / CURRENT
    if not pointer.is_file():
        if any(p.is_dir() and not p.name.startswith(".") for p in (root / VERSIONS).glob("*")):
            raise IndexMissing(f"the index in '{root}' is damaged (its {CURRENT} file is missing); {REBUILD}")
        raise IndexMissing(f"no index in '{root}'; run `docqa index` to build it")
    folder = root / VERSIONS / pointer.read_text("utf-8").strip()
    if not (folder / MANIFEST).is_file():
        raise IndexMissing(f"index in '{root}' is damaged (missing {folder.name}); run `docqa index --rebuild`")
    return folder


def check_compatible(manifest: Manifest, embedder_id: str | None) -> None:
    if manifest.schema != SCHEMA_VERSION:
        raise IndexMismatch(
            f"index was built with schema {manifest.schema}, this docqa uses {SCHEMA_VERSION}; "
            "run `docqa index --rebuild`"
        )
    if embedder_id is not None and manifest.embedder_id != embedder_id:
        raise IndexMismatch(
            f"index was built with embedder '{manifest.embedder_id}', but '{embedder_id}' is configured; "
            "run `docqa index --rebuild` (or configure the embedder the index was built with)"
        )


def new_staging(root: Path) -> Path:
    (root / VERSIONS).mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    staging = root / VERSIONS / f".staging-{name}"
    staging.mkdir()
    return staging


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(root: Path, staging: Path) -> Path:
    """Make a finished staging folder the current index in one atomic rename of the pointer."""
    for item in staging.iterdir():
        _fsync(item)
    final = staging.with_name(staging.name.removeprefix(".staging-"))
    staging.rename(final)
    _fsync(final.parent)
    tmp = root / f".{CURRENT}.tmp"
    tmp.write_text(final.name, "utf-8")
    _fsync(tmp)
    os.replace(tmp, root / CURRENT)
    _fsync(root)
    return final


def collect_garbage(root: Path) -> None:
    """Remove staging folders of killed builds and versions older than KEEP_VERSIONS."""
    versions = root / VERSIONS
    if not versions.is_dir():
        return
    current = (root / CURRENT).read_text("utf-8").strip() if (root / CURRENT).is_file() else ""
    done = sorted((p for p in versions.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    keep = {p.name for p in done[-KEEP_VERSIONS:]} | {current}
    for p in versions.iterdir():
        if p.name.startswith(".staging-") or p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)


def build_lock(root: Path):  # type: ignore[no-untyped-def]
    """An exclusive, non-blocking lock; the OS releases it if the build dies, even by kill -9."""
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    return FileLock(str(root / ".build.lock"), timeout=0)
