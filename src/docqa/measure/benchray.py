"""`docqa bench ingest --ray`: a local build against Ray builds with 1 and 2 workers on the same texts."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docqa.config import Settings
from docqa.index import BuildReport, build_index, ray_runner, start_local_cluster, stop_local_cluster
from docqa.interfaces import Services

Log = Callable[[str], None]


def run_ray_ingest_bench(settings: Settings, workers: list[int], log: Log) -> dict[str, Any]:
    """Full builds of the same corpus: here (the default threads), then on a local Ray cluster
    started for the bench on 127.0.0.1 with each number of workers (one CPU and thread each)."""
    work = Path(tempfile.mkdtemp(prefix="docqa-bench-ray-"))
    log("starting a local Ray cluster on 127.0.0.1 ...")
    cluster = start_local_cluster(max(workers))
    address = cluster.address
    try:
        services = Services(settings.with_overrides(index=work / "local"))
        services.embedder()  # loaded before the clock starts, as a worker loads its own before its first part
        log("local build ...")
        local = services.build(rebuild=True)
        rows = [_row("local", local, local)]
        for n in workers:
            log(f"Ray build, {n} worker(s) ...")
            ready: list[float] = []
            t0 = time.perf_counter()
            runner = ray_runner(settings, address, n, log=lambda m, r=ready, t=t0: r.append(time.perf_counter() - t))
            report = build_index(settings.with_overrides(index=work / f"ray-{n}"), services.embedder, rebuild=True, runner=runner)
            rows.append(_row(f"ray, {n} worker(s)", report, local, n, startup=ready[0] if ready else 0.0))
            log(str(rows[-1]))
        return {"corpus": str(settings.corpus), "documents": local.documents, "texts": local.embedded_chunks, "rows": rows}
    finally:
        stop_local_cluster(cluster)
        shutil.rmtree(work, ignore_errors=True)


def _row(label: str, report: BuildReport, local: BuildReport, workers: int = 0, startup: float = 0.0) -> dict[str, Any]:
    # Ray's own cost per document: the wall time less the cluster's start-up, the workers' reading
    # and embedding (spread over the workers) and this process's writing.
    compute = (report.stage_seconds.get("read", 0.0) + report.stage_seconds.get("embed", 0.0)) / max(1, workers)
    written = report.stage_seconds.get("store", 0.0) + report.stage_seconds.get("vectors", 0.0)
    overhead = (report.seconds - startup - compute - written) / max(1, report.documents) if workers else None
    return {
        "build": label, "workers": workers, "seconds": round(report.seconds, 2), "startup_s": round(startup, 2),
        "texts_per_s": round(report.embedded_chunks / report.seconds, 1),
        "texts_per_s_after_startup": round(report.embedded_chunks / max(1e-9, report.seconds - startup), 1),
        "speed_vs_local": round(local.seconds / report.seconds, 3),
        "ray_overhead_ms_per_document": None if overhead is None else round(overhead * 1000, 1),
    }
