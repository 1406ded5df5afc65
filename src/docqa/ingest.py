"""Incremental, crash-safe index builds: scan, extract, segment, chunk, embed, publish."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from docqa import layout
from docqa.chunk import TOKENS_PER_UNIT, estimate_tokens, make_chunks
from docqa.config import Settings
from docqa.embed import Embedder, embedder_id
from docqa.extract import SkipFile, extract
from docqa.scan import CorpusFile, Skipped, scan_corpus
from docqa.segment import MAX_SENTENCE_CHARS, detect_language, split_sentences
from docqa.store import DocumentRecord, Store
from docqa.types import Chunk, Document, Sentence
from docqa.vecbuild import VectorBuilder
from docqa.vectors import Spec, VectorIndex

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EMBED_BATCH = 16
GROUP_BYTES = 1 << 20  # files are read, embedded and written about a megabyte of text at a time


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
    embedded_chunks: int = 0  # texts through the embedder
    version: str = ""
    stage_seconds: dict[str, float] = field(default_factory=dict)  # read, embed, store, vectors
    rebuilt_because: str = ""

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
        "chunk_vectors": settings.chunk_vectors + ("-sqrt-length" if settings.chunk_vectors == "sentences" else ""),
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
            if manifest.chunking != params:  # every chunk would change: start from scratch
                report.rebuilt_because = "the chunking settings changed since the last build"
                current = None
        staging = layout.new_staging(root)
        try:
            built = _build_into(staging, current, files, settings, get_embedder, report, tick)
            if built is None:  # nothing changed: keep serving the current version as is
                layout.collect_garbage(root)
                report.version = current.name if current else ""
            else:
                manifest = layout.Manifest(
                    layout.SCHEMA_VERSION, wanted_id, built[0], params,
                    time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter() - started,
                    str(settings.corpus.resolve()), built[1],
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
) -> tuple[int, dict[str, object]] | None:
    """Fill `staging` a group of files at a time, so memory does not grow with the corpus; returns
    the vector dimension and how each vector file was built, or None when nothing changed."""
    if current is not None:
        old = Store(current / layout.STORE, readonly=True)
        old.copy_to(staging / layout.STORE)
        old.close()
    store = Store(staging / layout.STORE)
    known = store.documents()
    present = {f.rel for f in files}
    to_remove = [p for p in known if p not in present]
    todo, touched = _changed(files, known, store, report)
    if not (todo or to_remove or touched) and current is not None:
        return _unchanged(store, report)
    builders = _builders(staging, current)

    def drop(path: str) -> None:
        chunk_ids, sentence_ids = store.remove_document(path)
        builders[layout.VECTORS].remove(chunk_ids)
        builders[layout.SENTENCE_VECTORS].remove(sentence_ids)

    for path in to_remove:
        drop(path)
        report.removed.append(path)
    done = 0
    for group in _groups(todo):
        pending = _read(group, settings.chunk_tokens, known, report, drop)
        chunk_vecs, sentence_vecs = _embed_group(pending, get_embedder, settings.chunk_vectors, report)
        _write(pending, known, store, builders, chunk_vecs, sentence_vecs, drop, report)
        done += len(group)
        tick("indexing", done, len(todo))
    if not (report.added or report.updated or report.removed or touched) and current is not None:
        for b in builders.values():
            b.discard()
        return _unchanged(store, report)
    store.commit()
    counts = store.counts()
    store.close()
    report.documents, report.chunks, report.sentences = counts["documents"], counts["chunks"], counts["sentences"]
    if counts["documents"] == 0:
        raise NothingIndexed("nothing usable to index: every file was skipped (see the reasons above)")
    t0 = time.perf_counter()
    dim = next((b.dim for b in builders.values() if b.dim), 0) or get_embedder().dim
    specs = {name: b.finish(staging / name, dim).to_dict() for name, b in builders.items()}
    report.stage_seconds["vectors"] = round(time.perf_counter() - t0, 3)
    return dim, specs


def _changed(files: list[CorpusFile], known: dict[str, DocumentRecord], store: Store,
             report: BuildReport) -> tuple[list[tuple[CorpusFile, str]], bool]:
    """Files whose bytes changed, with their hashes; a file whose bytes did not is only touched."""
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
    return todo, touched


def _unchanged(store: Store, report: BuildReport) -> None:
    counts = store.counts()
    report.documents, report.chunks, report.sentences = counts["documents"], counts["chunks"], counts["sentences"]
    store.close()


def _builders(staging: Path, current: Path | None) -> dict[str, VectorBuilder]:
    specs = layout.Manifest.load(current).vectors if current is not None else {}
    out = {}
    for name in (layout.VECTORS, layout.SENTENCE_VECTORS):
        old = VectorIndex.load(current / name, Spec.of(specs.get(name))) if current is not None else None
        out[name] = VectorBuilder(staging, name, old)
    return out


def _groups(todo: list[tuple[CorpusFile, str]]) -> Iterator[list[tuple[CorpusFile, str]]]:
    """Files in groups of about GROUP_BYTES of text, so a group's texts fit in memory at once."""
    group: list[tuple[CorpusFile, str]] = []
    size = 0
    for item in todo:
        group.append(item)
        size += item[0].size
        if size >= GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _read(group: list[tuple[CorpusFile, str]], budget: int, known: dict[str, DocumentRecord],
          report: BuildReport, drop: Callable[[str], None]) -> list[_Pending]:
    t0 = time.perf_counter()
    pending = []
    for f, sha in group:
        try:
            pending.append(prepare(f, sha, budget))
        except SkipFile as err:
            report.skipped.append(Skipped(f.rel, str(err)))
            if f.rel in known:
                drop(f.rel)
                report.removed.append(f.rel)
        except OSError as err:
            report.skipped.append(Skipped(f.rel, f"cannot read file: {err.strerror or err}"))
    _add_time(report, "read", t0)
    return pending


def _write(pending: list[_Pending], known: dict[str, DocumentRecord], store: Store, builders: dict[str, VectorBuilder],
           chunk_vecs: np.ndarray, sentence_vecs: np.ndarray, drop: Callable[[str], None], report: BuildReport) -> None:
    t0 = time.perf_counter()
    row = srow = 0
    for p in pending:
        if p.doc.path in known:
            drop(p.doc.path)
            report.updated.append(p.doc.path)
        else:
            report.added.append(p.doc.path)
        chunk_ids, sentence_ids = store.add_document(p.doc, p.sentences, p.chunks)
        builders[layout.VECTORS].add(chunk_ids, chunk_vecs[row : row + len(chunk_ids)])
        builders[layout.SENTENCE_VECTORS].add(sentence_ids, sentence_vecs[srow : srow + len(sentence_ids)])
        row += len(chunk_ids)
        srow += len(sentence_ids)
    _add_time(report, "store", t0)


def _embed_group(pending: list[_Pending], get_embedder: Callable[[], Embedder], chunk_vectors: str,
                 report: BuildReport) -> tuple[np.ndarray, np.ndarray]:
    """Sentence vectors, and chunk vectors: embedded, or the mean of their sentences' (half the texts)."""
    sentences = [s.text for p in pending for s in p.sentences]
    chunks = [c.text for p in pending for c in p.chunks]
    if not sentences:
        return np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
    embedder = get_embedder()
    t0 = time.perf_counter()
    if chunk_vectors == "embedded":
        both = _embed(embedder, chunks + sentences)
        chunk_vecs, sentence_vecs = both[: len(chunks)], both[len(chunks) :]
    else:
        sentence_vecs = _embed(embedder, sentences)
        chunk_vecs = _chunk_means(pending, sentence_vecs)
    report.embedded_chunks += len(sentences) + (len(chunks) if chunk_vectors == "embedded" else 0)
    _add_time(report, "embed", t0)
    report.embed_seconds = report.stage_seconds["embed"]
    return chunk_vecs, sentence_vecs


def _chunk_means(pending: list[_Pending], sentence_vecs: np.ndarray) -> np.ndarray:
    """Each chunk's vector: its sentences' vectors, weighted by the square root of their length and
    normalised. Chosen on XQuAD dev over the plain mean and length weights (docs/benchmarks.md, "Ingest")."""
    out, srow = [], 0
    for p in pending:
        row_of = {s.seq: srow + i for i, s in enumerate(p.sentences)}
        weight = {s.seq: np.sqrt(estimate_tokens(s.text)) for s in p.sentences}
        for c in p.chunks:
            w = np.array([weight[q] for q in c.sentence_seqs], np.float32)
            out.append((sentence_vecs[[row_of[q] for q in c.sentence_seqs]] * w[:, None]).sum(axis=0))
        srow += len(p.sentences)
    means = np.stack(out)
    return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)


def _embed(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Embed in batches of similar length, so that little of each batch is padding."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 0), np.float32)
    for start in range(0, len(order), EMBED_BATCH):
        rows = order[start : start + EMBED_BATCH]
        vecs = embedder.embed_passages([texts[i] for i in rows])
        if out.shape[1] == 0:
            out = np.zeros((len(texts), vecs.shape[1]), np.float32)
        out[rows] = vecs
    return out


def _add_time(report: BuildReport, stage: str, t0: float) -> None:
    report.stage_seconds[stage] = round(report.stage_seconds.get(stage, 0.0) + time.perf_counter() - t0, 3)
