"""Incremental, crash-safe index builds: scan, extract, segment, chunk, embed, publish."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from docqa.config import SUPPORTED_EXTENSIONS, Settings
from docqa.index import layout
from docqa.index.changes import Group, changed_files, reuse_copies
from docqa.index.chunk import TOKENS_PER_UNIT
from docqa.index.prepare import Prepared, prepare_group
from docqa.index.reader import IndexReader
from docqa.index.scan import CorpusFile, Skipped, scan_corpus
from docqa.index.segment import MAX_SENTENCE_CHARS
from docqa.index.store import DocumentRecord, Store
from docqa.index.vecbuild import VectorBuilder
from docqa.index.vectors import Spec, VectorIndex
from docqa.models import Embedder, embedder_id

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# Prepares each group, in the order given: here, or on a cluster's workers (docqa.index.cluster).
Runner = Callable[[Iterator[Group]], Iterator[Prepared]]
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
    reused: int = 0  # added files whose bytes an indexed one has (renamed, moved, copied): not embedded again
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


def build_index(
    settings: Settings,
    get_embedder: Callable[[], Embedder],
    rebuild: bool = False,
    progress: Progress | None = None,
    runner: Runner | None = None,
) -> BuildReport:
    """Bring the index in line with the corpus, re-embedding only new or changed files; `runner`
    prepares them elsewhere (a Ray cluster), in this process by default."""
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
        if settings.corpus.exists() and not settings.corpus.is_dir():
            raise NothingIndexed(f"corpus '{settings.corpus}' is a file, not a folder; point DOCQA_CORPUS or --corpus at the folder that holds it")
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
            try:
                IndexReader(root).close()  # a damaged version is not built upon: this build replaces it
            except layout.IndexDamaged as err:
                report.rebuilt_because = str(err).removesuffix(f"; {layout.REBUILD}")  # this build is the fix
                current = None
        if current is not None:
            manifest = layout.Manifest.load(current)
            layout.check_compatible(manifest, wanted_id)
            if manifest.chunking != params:  # every chunk would change: start from scratch
                report.rebuilt_because = "the chunking settings changed since the last build"
                current = None
        staging = layout.new_staging(root)
        try:
            run = runner or _local(settings, get_embedder, tick)
            built = _build_into(staging, current, files, settings, get_embedder, report, tick, run)
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
    run: Runner,
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
    diff = changed_files(files, known, store)
    todo, touched = diff.todo, diff.touched
    report.unchanged += diff.unchanged
    report.skipped.extend(diff.skipped)
    if not (todo or to_remove or touched) and current is not None:
        return _unchanged(store, report)
    builders = _builders(staging, current)
    # Before removals: a renamed file's old rows are its source.
    todo, reused = reuse_copies(todo, known, store, builders)
    report.added.extend(reused)
    report.reused += len(reused)

    def drop(path: str) -> None:
        chunk_ids, sentence_ids = store.remove_document(path)
        builders[layout.VECTORS].remove(chunk_ids)
        builders[layout.SENTENCE_VECTORS].remove(sentence_ids)

    for path in to_remove:
        drop(path)
        report.removed.append(path)
    done = 0
    groups = list(_groups(todo))
    # Not started at all when nothing changed, so an unchanged corpus never waits for a cluster.
    for group, prepared in zip(groups, run(iter(groups)) if groups else iter(())):
        touched = _account(prepared, group, known, store, report, drop) or touched
        _write(prepared, known, store, builders, drop, report)
        done += len(group)
        tick("indexing", done, len(todo))
    touched = store.forget_skipped(present) or touched
    if not (report.added or report.updated or report.removed or touched) and current is not None:
        for b in builders.values():
            b.discard()
        return _unchanged(store, report)
    store.commit()
    counts = store.counts()
    store.close()
    report.documents, report.chunks, report.sentences = counts["documents"], counts["chunks"], counts["sentences"]
    if counts["documents"] == 0:
        raise NothingIndexed(_nothing_usable(settings, report.skipped))
    t0 = time.perf_counter()
    dim = next((b.dim for b in builders.values() if b.dim), 0) or get_embedder().dim
    specs = {name: b.finish(staging / name, dim).to_dict() for name, b in builders.items()}
    report.stage_seconds["vectors"] = round(time.perf_counter() - t0, 3)
    return dim, specs


def _nothing_usable(settings: Settings, skipped: list[Skipped], shown: int = 5) -> str:
    """Why no document could be indexed, with each file's reason (the first `shown`) in the one line."""
    if not skipped:
        return (f"nothing to index: '{settings.corpus}' holds no documents docqa reads "
                f"({', '.join(SUPPORTED_EXTENSIONS)}); add some and run `docqa index` again")
    reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:shown])
    more = f"; and {len(skipped) - shown} more files" if len(skipped) > shown else ""
    return f"nothing usable to index, every file was skipped: {reasons}{more}"


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


def _local(settings: Settings, get_embedder: Callable[[], Embedder], tick: Progress) -> Runner:
    def run(groups: Iterator[Group]) -> Iterator[Prepared]:
        return (prepare_group(g, settings.chunk_tokens, get_embedder, settings.chunk_vectors, tick, settings.file_limits())
                for g in groups)

    return run


def _groups(todo: Group) -> Iterator[Group]:
    """Files in groups of about GROUP_BYTES of text, so a group's texts fit in memory at once."""
    group: Group = []
    size = 0
    for item in todo:
        group.append(item)
        size += item[0].size
        if size >= GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _account(prepared: Prepared, group: Group, known: dict[str, DocumentRecord], store: Store, report: BuildReport,
             drop: Callable[[str], None]) -> bool:
    """Record the group's skipped files and its times; a file whose new content cannot be indexed
    loses its older version, one that could not be read keeps it. Files skipped for their content
    are remembered in the store, so that status does not call them stale until they change;
    returns whether any was."""
    tried = {f.rel: (f, sha) for f, sha in group}
    for skipped in prepared.unusable:
        f, sha = tried[skipped.path]
        store.skip(f.rel, sha, f.mtime, f.size, skipped.reason)
        report.skipped.append(skipped)
        if skipped.path in known:
            drop(skipped.path)
            report.removed.append(skipped.path)
    report.skipped.extend(prepared.unreadable)
    for stage, seconds in (("read", prepared.read_s), ("embed", prepared.embed_s)):
        report.stage_seconds[stage] = round(report.stage_seconds.get(stage, 0.0) + seconds, 3)
    report.embed_seconds = report.stage_seconds["embed"]
    report.embedded_chunks += prepared.embedded
    return bool(prepared.unusable)


def _write(prepared: Prepared, known: dict[str, DocumentRecord], store: Store, builders: dict[str, VectorBuilder],
           drop: Callable[[str], None], report: BuildReport) -> None:
    t0 = time.perf_counter()
    row = srow = 0
    for p in prepared.pending:
        if p.doc.path in known:
            drop(p.doc.path)
            report.updated.append(p.doc.path)
        else:
            report.added.append(p.doc.path)
        chunk_ids, sentence_ids = store.add_document(p.doc, p.sentences, p.chunks)
        builders[layout.VECTORS].add(chunk_ids, prepared.chunk_vecs[row : row + len(chunk_ids)])
        builders[layout.SENTENCE_VECTORS].add(sentence_ids, prepared.sentence_vecs[srow : srow + len(sentence_ids)])
        row += len(chunk_ids)
        srow += len(sentence_ids)
    _add_time(report, "store", t0)


def _add_time(report: BuildReport, stage: str, t0: float) -> None:
    report.stage_seconds[stage] = round(report.stage_seconds.get(stage, 0.0) + time.perf_counter() - t0, 3)
