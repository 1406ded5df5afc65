"""What a build has to do: files changed since the last one, files skipped before and unchanged,
and new paths whose bytes an indexed document already has (renamed, moved, copied)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from docqa.index import layout
from docqa.index.scan import CorpusFile, Skipped
from docqa.index.store import DocumentRecord, Store
from docqa.index.vecbuild import VectorBuilder

Group = list[tuple[CorpusFile, str]]  # files with their hashes


@dataclass
class Changes:
    todo: Group = field(default_factory=list)  # to read and embed
    touched: bool = False  # the store changed without new content (a new mtime, a skip remembered)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def changed_files(files: list[CorpusFile], known: dict[str, DocumentRecord], store: Store) -> Changes:
    """Files whose bytes changed, with their hashes; a file whose bytes did not is only touched, and
    one skipped for its content before is reported skipped again without being read."""
    out = Changes()
    skipped = store.skipped()
    for f in files:
        rec = known.get(f.rel)
        if rec and rec.mtime == f.mtime and rec.size == f.size:
            out.unchanged += 1
            continue
        was = skipped.get(f.rel)
        if was and was.unchanged(f.mtime, f.size):
            out.skipped.append(Skipped(f.rel, was.reason))
            continue
        try:
            sha = sha256(f.path)
        except OSError as err:  # deleted or made unreadable since the scan
            out.skipped.append(Skipped(f.rel, f"cannot read file: {err.strerror or err}"))
            continue
        if rec and rec.sha256 == sha:
            store.touch(f.rel, f.mtime, f.size)  # same bytes, new mtime: nothing to re-embed
            out.unchanged += 1
            out.touched = True
        elif was and was.sha256 == sha:
            store.touch(f.rel, f.mtime, f.size)
            out.skipped.append(Skipped(f.rel, was.reason))
            out.touched = True
        else:
            out.todo.append((f, sha))
    return out


def reuse_copies(todo: Group, known: dict[str, DocumentRecord], store: Store,
                 builders: dict[str, VectorBuilder]) -> tuple[Group, list[str]]:
    """Add new paths whose bytes an indexed document has from that document's rows and vectors,
    without reading or embedding them; returns the files left to do and the paths added."""
    if not all(b.can_reuse() for b in builders.values()):
        return todo, []
    by_sha = {rec.sha256: path for path, rec in known.items()}
    left: Group = []
    added: list[str] = []
    for f, sha in todo:
        source = by_sha.get(sha)
        if source is None or f.rel in known:
            left.append((f, sha))
            continue
        old_chunks, chunks, old_sentences, sentences = store.copy_document(source, f.rel, f.mtime, f.size)
        builders[layout.VECTORS].reuse(old_chunks, chunks)
        builders[layout.SENTENCE_VECTORS].reuse(old_sentences, sentences)
        added.append(f.rel)
    return left, added
