"""Incremental, crash-safe index builds: scan, extract, segment, chunk, embed, publish."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from docqa import layout
from docqa.chunk import TOKENS_PER_UNIT, make_chunks
from docqa.config import Settings
from docqa.embed import Embedder, embedder_id
from docqa.extract import SkipFile, extract
from docqa.scan import CorpusFile, Skipped, scan_corpus
from docqa.segment import MAX_SENTENCE_CHARS, detect_language, split_sentences
from docqa.store import Store
from docqa.types import Chunk, Document, Sentence
from docqa.vectors import VectorIndex

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EMBED_BATCH = 16


class NothingIndexed(RuntimeError):
    pass


@dataclass
class BuildReport:
    documents: int = 0
    chunks: int = 0
    sentences: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    embedded_chunks: int = 0
    version: str = ""

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["skipped"] = [asdict(s) for s in self.skipped]
        for key in ("added", "updated", "removed"):
            d[key + "_files"] = d[key]
            d[key] = len(d[key])
        d["seconds"] = round(self.seconds, 3)
        d["embed_seconds"] = round(self.embed_seconds, 3)
        return d


def chunking_params(settings: Settings) -> dict[str, object]:
    return {
        "budget_tokens": settings.chunk_tokens,
        "tokens_per_unit": TOKENS_PER_UNIT,
        "max_sentence_chars": MAX_SENTENCE_CHARS,
        "segmenter": f"sentencex@{metadata.version('sentencex')}",
    }


@dataclass(frozen=True)
class _Pending:
    doc: Document
    sentences: list[Sentence]
    chunks: list[Chunk]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare(file: CorpusFile, sha: str, budget: int) -> _Pending:
    """Extract, segment and chunk one file; raises SkipFile with a user-facing reason."""
    extracted = extract(file.path)
    doc = Document(file.rel, sha, file.mtime, file.size, extracted.text, detect_language(extracted.text), extracted.page_starts)
    sentences = split_sentences(doc)
    if not sentences:
        raise SkipFile("no sentences found after extraction")
    return _Pending(doc, sentences, make_chunks(doc, sentences, budget))


def build_index(
    settings: Settings,
    get_embedder: Callable[[], Embedder],
    rebuild: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Bring the index in line with the corpus, re-embedding only new or changed files."""
    started = time.perf_counter()
    root, report = settings.index, BuildReport()
    tick = progress or (lambda stage, done, total: None)
    lock = layout.build_lock(root)
    try:
        lock.acquire()
    except Exception as err:  # filelock.Timeout
        raise layout.IndexBusy(
            f"another `docqa index` is already building '{root}'; wait for it to finish and try again"
        ) from err
    try:
        layout.collect_garbage(root)
        if not settings.corpus.is_dir():
            raise NothingIndexed(f"corpus folder '{settings.corpus}' does not exist; create it and add documents")
        files, report.skipped = scan_corpus(settings.corpus, int(settings.max_file_mb * 1e6))
        wanted_id, params = embedder_id(settings.embedder), chunking_params(settings)
        current = None
        if not rebuild:
            try:
                current = layout.current_version(root)
            except layout.IndexMissing:
                current = None
        if current is not None:
            manifest = layout.Manifest.load(current)
            layout.check_compatible(manifest, wanted_id)
            if manifest.chunking != params:
                raise layout.IndexMismatch("chunking settings changed since the last build; run `docqa index --rebuild`")
        staging = layout.new_staging(root)
        try:
            version = _build_into(staging, current, files, settings, get_embedder, report, tick)
            if version is None:  # nothing changed: keep serving the current version as is
                layout.collect_garbage(root)
                report.version = current.name if current else ""
            else:
                manifest = layout.Manifest(
                    layout.SCHEMA_VERSION, wanted_id, version, params,
                    time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter() - started,
                    str(settings.corpus.resolve()),
                )
                (staging / layout.MANIFEST).write_text(manifest.to_json(), "utf-8")
                report.version = layout.publish(root, staging).name
                layout.collect_garbage(root)
        except BaseException:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def _build_into(
    staging: Path,
    current: Path | None,
    files: list[CorpusFile],
    settings: Settings,
    get_embedder: Callable[[], Embedder],
    report: BuildReport,
    tick: Progress,
) -> int | None:
    """Fill `staging`; returns the vector dimension, or None when nothing changed."""
    if current is not None:
        old = Store(current / layout.STORE, readonly=True)
        old.copy_to(staging / layout.STORE)
        old.close()
    store = Store(staging / layout.STORE)
    known = store.documents()
    vectors = VectorIndex.load(current / layout.VECTORS) if current is not None else None
    svectors = VectorIndex.load(current / layout.SENTENCE_VECTORS) if current is not None else None
    present = {f.rel for f in files}
    to_remove = [p for p in known if p not in present]
    todo: list[tuple[CorpusFile, str]] = []
    touched = False
    for f in files:
        rec = known.get(f.rel)
        if rec and rec.mtime == f.mtime and rec.size == f.size:
            report.unchanged += 1
            continue
        sha = _sha256(f.path)
        if rec and rec.sha256 == sha:
            store.touch(f.rel, f.mtime, f.size)  # same bytes, new mtime: nothing to re-embed
            report.unchanged += 1
            touched = True
        else:
            todo.append((f, sha))
    pending: list[_Pending] = []
    for i, (f, sha) in enumerate(todo):
        tick("reading", i, len(todo))
        try:
            pending.append(prepare(f, sha, settings.chunk_tokens))
        except SkipFile as err:
            report.skipped.append(Skipped(f.rel, str(err)))
            if f.rel in known:
                to_remove.append(f.rel)
        except OSError as err:
            report.skipped.append(Skipped(f.rel, f"cannot read file: {err.strerror or err}"))
    tick("reading", len(todo), len(todo))
    if not (pending or to_remove or touched) and current is not None:
        counts = store.counts()
        report.documents, report.chunks, report.sentences = counts["documents"], counts["chunks"], counts["sentences"]
        store.close()
        return None
    # Chunks are what dense retrieval ranks; sentence vectors let answers pick and verify
    # single sentences without embedding them at question time.
    texts = [c.text for p in pending for c in p.chunks] + [s.text for p in pending for s in p.sentences]
    embedded = _embed(texts, get_embedder, report, tick) if texts else None
    if vectors is None or svectors is None:
        dim = embedded.shape[1] if embedded is not None else get_embedder().dim
        vectors, svectors = VectorIndex.empty(dim), VectorIndex.empty(dim)

    def drop(path: str) -> None:
        chunk_ids, sentence_ids = store.remove_document(path)
        vectors.remove(chunk_ids)
        svectors.remove(sentence_ids)

    for path in to_remove:
        drop(path)
        report.removed.append(path)
    row, srow = 0, sum(len(p.chunks) for p in pending)
    for p in pending:
        if p.doc.path in known:
            drop(p.doc.path)
            report.updated.append(p.doc.path)
        else:
            report.added.append(p.doc.path)
        chunk_ids, sentence_ids = store.add_document(p.doc, p.sentences, p.chunks)
        assert embedded is not None
        vectors.add(chunk_ids, embedded[row : row + len(chunk_ids)])
        svectors.add(sentence_ids, embedded[srow : srow + len(sentence_ids)])
        row += len(chunk_ids)
        srow += len(sentence_ids)
    store.commit()
    counts = store.counts()
    store.close()
    report.documents, report.chunks, report.sentences = counts["documents"], counts["chunks"], counts["sentences"]
    if counts["documents"] == 0:
        raise NothingIndexed("nothing usable to index: every file was skipped (see the reasons above)")
    vectors.save(staging / layout.VECTORS)
    svectors.save(staging / layout.SENTENCE_VECTORS)
    return vectors.dim


def _embed(texts: list[str], get_embedder: Callable[[], Embedder], report: BuildReport, tick: Progress) -> np.ndarray:
    embedder = get_embedder()
    t0 = time.perf_counter()
    parts = []
    for start in range(0, len(texts), EMBED_BATCH):
        tick("embedding", start, len(texts))  # texts are chunks, then sentences
        parts.append(embedder.embed_passages(texts[start : start + EMBED_BATCH]))
    tick("embedding", len(texts), len(texts))
    report.embed_seconds = time.perf_counter() - t0
    report.embedded_chunks = len(texts)
    return np.vstack(parts)
