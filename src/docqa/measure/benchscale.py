"""`docqa bench retrieve`: a generated corpus at each size through the real store and vector
index: build time, latency of dense, BM25 and fused retrieval, memory, disk, and approximate recall."""

from __future__ import annotations

import json
import multiprocessing
import resource
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import numpy as np

from docqa.index import (
    MANIFEST,
    SCHEMA_VERSION,
    SENTENCE_VECTORS,
    STORE,
    VECTORS,
    Manifest,
    Store,
    VectorBuilder,
    make_chunks,
    new_staging,
    publish,
)
from docqa.measure.synthetic import Generator

Log = Callable[[str], None]
QUERIES = 200
EVERY_TERM_QUERIES = 20  # BM25 with every term is timed on this many: at 1M chunks each takes seconds
CHUNK_BUDGET = 160


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class MemoryPeaks:
    """Peaks of anonymous and file-backed resident memory, sampled while the block runs. Peak RSS
    alone counts the pages of memory-mapped files, which the kernel drops under pressure, as if
    they were the process's own."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.anon_mb = self.file_mb = 0.0
        self._every, self._done = every_s, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
            self.anon_mb = max(self.anon_mb, int(fields.get("RssAnon", "0 kB").split()[0]) / 1024)
            self.file_mb = max(self.file_mb, int(fields.get("RssFile", "0 kB").split()[0]) / 1024)
            if self._done.wait(self._every):
                return

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def build(work: Path, vocab: Path, n_chunks: int, exact_up_to: int | None = None) -> dict[str, Any]:
    """Generate documents until the index holds n_chunks chunks; keep the exact vectors beside it."""
    with MemoryPeaks() as peaks:
        row = _build(work, vocab, n_chunks, exact_up_to)
    return {**row, "build_peak_anon_mb": round(peaks.anon_mb), "build_peak_file_mb": round(peaks.file_mb)}


def _build(work: Path, vocab: Path, n_chunks: int, exact_up_to: int | None) -> dict[str, Any]:
    gen = Generator.from_folder(vocab)
    root, t0 = work / "index", time.perf_counter()
    staging = new_staging(root)
    store = Store(staging / STORE)
    kw = {} if exact_up_to is None else {"exact_up_to": exact_up_to}
    builders = {name: VectorBuilder(staging, name, None, **kw) for name in (VECTORS, SENTENCE_VECTORS)}
    # Open for the whole generation, closed below; the exact vectors are the recall's ground truth.
    exact = {name: (open(work / f"{name}.ids", "wb"), open(work / f"{name}.f32", "wb")) for name in builders}  # noqa: SIM115
    queries: list[tuple[str, list[float]]] = []
    chunks = sentences = 0
    for d, g in enumerate(gen.documents(10**9)):
        doc_chunks = make_chunks(g.doc, g.sentences, CHUNK_BUDGET)
        cids, sids = store.add_document(g.doc, g.sentences, doc_chunks)
        means = np.stack([g.vectors[list(c.sentence_seqs)].mean(axis=0) for c in doc_chunks])
        means /= np.linalg.norm(means, axis=1, keepdims=True)
        for name, ids, vecs in ((VECTORS, cids, means), (SENTENCE_VECTORS, sids, g.vectors)):
            builders[name].add(ids, vecs)
            np.asarray(ids, np.int64).tofile(exact[name][0])
            vecs.astype(np.float32).tofile(exact[name][1])
        if d % max(1, n_chunks // 10 // QUERIES) == 0 and len(queries) < QUERIES:
            text, vec = gen.query(g)
            queries.append((text, vec.tolist()))
        chunks, sentences = chunks + len(cids), sentences + len(sids)
        if chunks >= n_chunks:
            break
    store.commit()
    store.close()
    for ids_fh, vecs_fh in exact.values():
        ids_fh.close()
        vecs_fh.close()
    specs = {name: b.finish(staging / name, gen.dim).to_dict() for name, b in builders.items()}
    manifest = Manifest(SCHEMA_VERSION, "synthetic", gen.dim, {"generated": True},
                               time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter() - t0, str(vocab), specs)
    (staging / MANIFEST).write_text(manifest.to_json(), "utf-8")
    folder = publish(root, staging)
    (work / "queries.json").write_text(json.dumps(queries), "utf-8")
    disk = sum(p.stat().st_size for p in folder.iterdir())
    return {"chunks": chunks, "sentences": sentences, "build_s": round(time.perf_counter() - t0, 1),
            "build_peak_rss_mb": round(peak_rss_mb()), "disk_mb": round(disk / 1e6, 1),
            "disk_bytes_per_chunk": round(disk / chunks), "vectors": specs}


def serve(work: Path) -> dict[str, Any]:
    """Open the index as the app does and time the three retrievals on the saved queries."""
    from docqa.index import IndexReader, query_terms
    from docqa.search import CANDIDATES, Retriever

    before = rss_mb()
    t0 = time.perf_counter()
    reader = IndexReader(work / "index")
    open_s = time.perf_counter() - t0
    retriever = Retriever(reader, None)  # type: ignore[arg-type]  # query vectors are given
    queries = [(text, np.asarray(vec, np.float32)) for text, vec in json.loads((work / "queries.json").read_text("utf-8"))]
    times: dict[str, list[float]] = {"dense": [], "bm25_every_term": [], "bm25": [], "fused": []}
    same: list[float] = []  # overlap of the top 10 with and without the common terms
    found: dict[str, list[list[int]]] = {VECTORS: [], SENTENCE_VECTORS: []}
    for n, (text, vec) in enumerate(queries):
        for mode, call in (
            ("dense", lambda v=vec: reader.sentence_vectors.search(v, CANDIDATES)),
            ("bm25_every_term", lambda t=text: reader.store.bm25(query_terms(t, "es"), CANDIDATES, every_term=True)),
            ("bm25", lambda t=text: reader.store.bm25(query_terms(t, "es"), CANDIDATES)),
            ("fused", lambda t=text, v=vec: retriever.sentence_hits(t, 8, v)),
        ):
            if mode == "bm25_every_term" and n >= EVERY_TERM_QUERIES:
                continue
            t = time.perf_counter()
            call()
            times[mode].append((time.perf_counter() - t) * 1000)
        if n < EVERY_TERM_QUERIES:
            every, pruned = (reader.store.bm25(query_terms(text, "es"), 10, every_term=e) for e in (True, False))
            same.append(len({i for i, _ in every} & {i for i, _ in pruned}) / max(1, len(every)))
        found[VECTORS].append([i for i, _ in reader.vectors.search(vec, 10)])
        found[SENTENCE_VECTORS].append([i for i, _ in reader.sentence_vectors.search(vec, 10)])
    out: dict[str, Any] = {"open_s": round(open_s, 2), "serving_rss_mb": round(rss_mb()), "rss_before_open_mb": round(before)}
    for mode, ms in times.items():
        out[f"{mode}_p50_ms"], out[f"{mode}_p95_ms"] = round(float(np.percentile(ms, 50)), 1), round(float(np.percentile(ms, 95)), 1)
    out["bm25_top10_kept"] = round(float(np.mean(same)), 3)
    qvecs = np.stack([v for _, v in queries])
    for name, label in ((VECTORS, "chunks"), (SENTENCE_VECTORS, "sentences")):
        out[f"recall@10_{label}"] = round(recall_at_10(work, name, qvecs, found[name]), 3)
    reader.close()
    return out


def recall_at_10(work: Path, name: str, qvecs: np.ndarray, found: list[list[int]]) -> float:
    """Share of the exact top 10 that the index returned, the exact search done here in blocks."""
    ids = np.fromfile(work / f"{name}.ids", dtype=np.int64)
    vecs = np.memmap(work / f"{name}.f32", dtype=np.float32, mode="r", shape=(len(ids), qvecs.shape[1]))
    best_s = np.full((len(qvecs), 10), -np.inf, np.float32)
    best_i = np.zeros((len(qvecs), 10), np.int64)
    for start in range(0, len(ids), 262_144):
        scores = qvecs @ np.asarray(vecs[start : start + 262_144]).T
        all_s = np.hstack([best_s, scores])
        all_i = np.hstack([best_i, np.broadcast_to(ids[start : start + 262_144], scores.shape)])
        top = np.argsort(-all_s, axis=1)[:, :10]
        best_s, best_i = np.take_along_axis(all_s, top, 1), np.take_along_axis(all_i, top, 1)
    hits = [len(set(f) & set(t)) for f, t in zip(found, best_i.tolist())]
    return sum(hits) / (10 * len(found))


def _in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run one phase in a fresh process, so that its memory figures are its own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def run_retrieve_bench(sizes: list[int], work: Path, vocab: Path, log: Log, keep: bool = False,
                       exact_up_to: int | None = None) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        folder = work / f"generated-{n}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        log(f"building {n:,} chunks in {folder} ...")
        row = {"size": n, **_in_child(build, folder, vocab, n, exact_up_to)}
        log(f"  built in {row['build_s']} s; serving ...")
        row.update(_in_child(serve, folder))
        log("  " + json.dumps(row))
        rows.append(row)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return rows


def real_recall(index_root: Path, queries: np.ndarray, shares: list[float], efs: list[int]) -> list[dict[str, Any]]:
    """Recall@10 against exact search on a real index's sentence vectors, for queries embedded by the
    real embedder: the inverted file at several shares of its lists probed, and the graph at several
    search widths."""
    import math

    from docqa.index import GRAPH_EF_SEARCH, GRAPH_M, HNSW, IVF, IndexReader, Spec, VectorIndex

    reader = IndexReader(index_root)
    ids, vecs = map(np.concatenate, zip(*reader.sentence_vectors.batches()))
    reader.close()
    exact = np.argsort(-(queries @ vecs.T), axis=1)[:, :10]
    truth = [set(ids[row].tolist()) for row in exact]
    nlist = max(1, min(int(math.sqrt(len(ids))), len(ids) // 39))
    specs = [Spec(IVF, nlist, max(1, round(nlist * share)), len(ids)) for share in shares]
    specs += [Spec(HNSW, trained_on=len(ids), m=GRAPH_M, ef_search=ef or GRAPH_EF_SEARCH) for ef in efs]
    rows = []
    for spec in specs:
        index = VectorIndex.trained(vecs.shape[1], spec, vecs)
        index.add(ids, vecs)
        t = time.perf_counter()
        found = [{i for i, _ in index.search(q, 10)} for q in queries]
        ms = (time.perf_counter() - t) * 1000 / max(1, len(queries))
        recall = sum(len(f & t) for f, t in zip(found, truth)) / (10 * len(queries))
        rows.append({"vectors": len(ids), **{k: v for k, v in spec.to_dict().items() if v}, "recall@10": round(recall, 3),
                     "ms_per_query": round(ms, 2)})
    return rows
