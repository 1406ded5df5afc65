"""Read-only access to the current index version, and what changed in the corpus since it was built."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from docqa.index import layout
from docqa.index.scan import scan_corpus
from docqa.index.store import Store
from docqa.index.vectors import Spec, VectorIndex


@dataclass(frozen=True)
class StaleFile:
    path: str
    change: str  # added | modified | deleted


class IndexReader:
    """One immutable index version: its manifest, store and vectors."""

    def __init__(self, root: Path, embedder_id: str | None = None) -> None:
        self.root = root
        self.folder = layout.current_version(root)
        where = f"the index in '{root}' (version {self.folder.name})"
        try:
            self.manifest = layout.Manifest.load(self.folder)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise layout.IndexDamaged(layout.damage_message(err, f"{where}: its manifest")) from None
        layout.check_compatible(self.manifest, embedder_id)
        try:
            self.store = Store(self.folder / layout.STORE, readonly=True)
            self.store.check()
            specs = self.manifest.vectors
            # Memory-mapped where the index is an inverted file: pages load as queries touch them.
            self.vectors = VectorIndex.load(self.folder / layout.VECTORS, Spec.of(specs.get(layout.VECTORS)), mmap=True)
            self.sentence_vectors = VectorIndex.load(
                self.folder / layout.SENTENCE_VECTORS, Spec.of(specs.get(layout.SENTENCE_VECTORS)), mmap=True
            )
        except (OSError, RuntimeError, sqlite3.DatabaseError) as err:
            raise layout.IndexDamaged(layout.damage_message(err, where)) from None
        for name, index in ((layout.VECTORS, self.vectors), (layout.SENTENCE_VECTORS, self.sentence_vectors)):
            if index.dim != self.manifest.dim:
                raise layout.IndexMismatch(
                    f"{where}: {name} holds {index.dim}-dimensional vectors but its manifest says {self.manifest.dim}; "
                    f"{layout.REBUILD}"
                )

    @property
    def version(self) -> str:
        return self.folder.name

    def is_latest(self) -> bool:
        """False once a newer build has been published, so long-lived readers can reload."""
        try:
            return layout.current_version(self.root) == self.folder
        except layout.IndexError_:
            return True

    def close(self) -> None:
        self.store.close()


def stale_files(reader: IndexReader, corpus: Path, max_bytes: int) -> list[StaleFile]:
    """Files added, modified or deleted since the build (by mtime and size, without hashing)."""
    known = reader.store.documents()
    skipped = reader.store.skipped()
    files, _ = scan_corpus(corpus, max_bytes) if corpus.is_dir() else ([], [])
    out: list[StaleFile] = []
    seen = set()
    for f in files:
        seen.add(f.rel)
        rec = known.get(f.rel)
        was = skipped.get(f.rel)
        if rec is None and was is not None and was.unchanged(f.mtime, f.size):
            continue  # skipped by the build for its content, and unchanged since: `status` says why
        if rec is None:
            out.append(StaleFile(f.rel, "added"))
        elif rec.mtime != f.mtime or rec.size != f.size:
            out.append(StaleFile(f.rel, "modified"))
    out.extend(StaleFile(p, "deleted") for p in sorted(set(known) - seen))
    return out
