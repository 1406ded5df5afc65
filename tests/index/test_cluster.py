"""Ingest on Ray: the work a worker does (fast, no cluster) and a real local cluster on 127.0.0.1 (slow)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EVAL, SEED

from docqa.config import FileLimits, load_settings
from docqa.index import localray
from docqa.index.cluster import PART_BYTES, Shipped, Worker, _parts, join
from docqa.index.ingest import BuildReport
from docqa.index.layout import current_version
from docqa.index.prepare import prepare_group
from docqa.index.reader import IndexReader
from docqa.index.scan import scan_corpus
from docqa.interfaces.commands import main
from docqa.interfaces.services import Services

XQUAD_ES = EVAL / "xquad" / "corpus" / "es"


def _worker(embedder) -> Worker:  # type: ignore[no-untyped-def]
    worker = object.__new__(Worker)  # its embedder set by hand: a fake, without loading a model
    worker._embedder, worker._budget, worker._chunk_vectors, worker._limits = embedder, 160, "sentences", FileLimits()
    return worker


def test_a_worker_prepares_shipped_bytes_as_a_local_build_prepares_files(corpus, fake) -> None:  # type: ignore[no-untyped-def]
    files, _ = scan_corpus(corpus, 10**9)
    group = [(f, f"sha-{f.rel}") for f in files]
    here = prepare_group(group, 160, lambda: fake, "sentences")
    shipped = [Shipped(f.rel, f.path.name, sha, f.mtime, f.size, f.path.read_bytes()) for f, sha in group]
    parts = [_worker(fake).prepare([s]) for s in shipped]  # one file a part, joined back in order
    there = join(parts)
    assert [p.doc for p in there.pending] == [p.doc for p in here.pending]
    assert [p.sentences for p in there.pending] == [p.sentences for p in here.pending]
    assert np.allclose(there.sentence_vecs, here.sentence_vecs) and np.allclose(there.chunk_vecs, here.chunk_vecs)
    assert there.embedded == here.embedded > 0


def test_a_worker_reports_a_bad_file_and_keeps_the_rest(fake) -> None:  # type: ignore[no-untyped-def]
    good = Shipped("a.txt", "a.txt", "1", 0.0, 30, "Una frase completa sobre México.".encode())
    bad = Shipped("b.txt", "b.txt", "2", 0.0, 4, b"\x00\x01\x02\x03")
    prepared = _worker(fake).prepare([bad, good])
    assert [p.doc.path for p in prepared.pending] == ["a.txt"]
    assert [s.path for s in prepared.unusable] == ["b.txt"] and "binary" in prepared.unusable[0].reason


def test_parts_split_a_group_by_size_in_order() -> None:
    files = [Shipped(f"{n}.txt", f"{n}.txt", "", 0.0, PART_BYTES // 3, b"") for n in range(7)]
    parts = _parts(files)
    assert [f.rel for p in parts for f in p] == [f.rel for f in files]
    assert [len(p) for p in parts] == [3, 3, 1]
    assert _parts([Shipped("big", "big", "", 0.0, PART_BYTES * 5, b"")]) == [[Shipped("big", "big", "", 0.0, PART_BYTES * 5, b"")]]


def test_ray_missing_says_how_to_install_it_and_builds_nothing(tmp_path, corpus, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    result = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index"),
                                       "--embedder", "fake", "--ray"])
    assert result.exit_code == 1 and "pip install 'docqa[ray]'" in result.output
    assert "Traceback" not in result.output and not list((tmp_path / "index" / "versions").glob("*"))


# ---- a real local cluster --------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():  # type: ignore[no-untyped-def]
    """A head on 127.0.0.1 with two CPUs, so two worker processes; stopped afterwards."""
    if importlib.util.find_spec("ray") is None:  # not imported here: docqa sets Ray's settings before it does
        pytest.skip("Ray is not installed (pip install 'docqa[ray]')")
    running = localray.start(cpus=2)
    try:
        yield running
    finally:
        localray.stop(running)


def _settings(corpus: Path, index: Path):  # type: ignore[no-untyped-def]
    return load_settings({}).with_overrides(corpus=corpus, index=index)


@pytest.fixture(scope="module")
def local_xquad(tmp_path_factory):  # type: ignore[no-untyped-def]
    if not XQUAD_ES.is_dir():
        pytest.skip("../shared/eval/xquad is absent")
    index = tmp_path_factory.mktemp("local") / "index"
    Services(_settings(XQUAD_ES, index)).build()
    return index


def _same_index(a: Path, b: Path) -> None:
    ra, rb = IndexReader(a), IndexReader(b)
    for table, cols in (("documents", "id, path, sha256, lang"), ("sentences", 'id, doc_id, seq, start, "end", text'),
                        ("chunks", "*")):
        rows = [r.store.db.execute(f"SELECT {cols} FROM {table} ORDER BY id").fetchall() for r in (ra, rb)]
        assert rows[0] == rows[1] and rows[0], table
    for name in ("vectors", "sentence_vectors"):
        (ia, va), (ib, vb) = (map(np.concatenate, zip(*getattr(r, name).batches())) for r in (ra, rb))
        oa, ob = np.argsort(ia), np.argsort(ib)
        assert np.array_equal(ia[oa], ib[ob]) and np.allclose(va[oa], vb[ob], atol=1e-5), name
    ra.close()
    rb.close()


@pytest.mark.slow
def test_a_ray_build_of_xquad_equals_the_local_build(cluster, local_xquad, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from docqa.search.retrieve import Retriever

    services = Services(_settings(XQUAD_ES, tmp_path / "index"))
    report = services.build(ray=cluster.address)
    assert report.documents == 42 and not report.skipped
    _same_index(local_xquad, tmp_path / "index")
    rows = [json.loads(line) for line in (EVAL / "xquad" / "questions.dev.es.jsonl").read_text("utf-8").splitlines()][::8]
    embedder = services.embedder()
    top: list[list[list[int]]] = []
    for index in (local_xquad, tmp_path / "index"):
        reader = IndexReader(index)
        retriever = Retriever(reader, embedder)
        top.append([[h.sentence_id for h in retriever.sentence_hits(r["question"], 5)] for r in rows])
        reader.close()
    assert len(rows) > 20 and top[0] == top[1]


@pytest.mark.slow
def test_an_incremental_ray_run_embeds_only_the_edited_file(cluster, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if not XQUAD_ES.is_dir():
        pytest.skip("../shared/eval/xquad is absent")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(XQUAD_ES.glob("*.txt"))[:6]:
        shutil.copy(path, corpus / path.name)
    services = Services(_settings(corpus, tmp_path / "index"))
    first = services.build(ray=cluster.address)
    edited = sorted(corpus.glob("*.txt"))[2]
    edited.write_text(edited.read_text("utf-8") + "\n\nUna frase nueva añadida al final del artículo.\n", "utf-8")
    second: BuildReport = services.build(ray=cluster.address)
    assert first.documents == 6 and second.updated == [edited.name] and not second.added and second.unchanged == 5
    reader = IndexReader(tmp_path / "index")
    in_edited = reader.store.db.execute(
        "SELECT count(*) FROM sentences s JOIN documents d ON d.id = s.doc_id WHERE d.path = ?", (edited.name,)
    ).fetchone()[0]
    reader.close()
    assert second.embedded_chunks == in_edited < first.embedded_chunks


def _in_background(call):  # type: ignore[no-untyped-def]
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["report"] = call()
        except Exception as err:  # noqa: BLE001  # the test inspects it
            out["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _busy_workers(timeout: float = 120) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-f", "ray::Worker.prepare"], check=False, capture_output=True, text=True).stdout.split()
        if found:
            return [int(p) for p in found]
        time.sleep(0.2)
    raise AssertionError("no Ray worker started preparing")


@pytest.mark.slow
def test_a_worker_killed_mid_build_is_retried_and_the_result_equals_the_local_build(cluster, local_xquad, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = Services(_settings(XQUAD_ES, tmp_path / "index"))
    thread, out = _in_background(lambda: services.build(ray=cluster.address))
    victim = _busy_workers()[0]
    time.sleep(1.0)
    os.kill(victim, signal.SIGKILL)
    assert thread.is_alive()  # killed mid-build, not after it
    thread.join(600)
    assert "error" not in out, out.get("error")
    _same_index(local_xquad, tmp_path / "index")


@pytest.mark.slow
def test_the_cluster_going_away_ends_the_build_clearly_and_the_old_index_serves(cluster, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from docqa.index.cluster import ClusterError

    if not XQUAD_ES.is_dir():
        pytest.skip("../shared/eval/xquad is absent")
    corpus = tmp_path / "corpus"
    shutil.copytree(XQUAD_ES, corpus)
    (corpus / "seed.txt").write_text(SEED.read_text("utf-8"), "utf-8")
    services = Services(_settings(corpus, tmp_path / "index"))
    services.build(ray=cluster.address)
    before = current_version(tmp_path / "index")
    for path in sorted(corpus.glob("0*.txt")):  # every file changes: a long rebuild to interrupt
        path.write_text(path.read_text("utf-8") + "\n\nOtra frase al final.\n", "utf-8")
    thread, out = _in_background(lambda: services.build(ray=cluster.address))
    _busy_workers()
    localray.stop(cluster)  # the whole cluster goes away (this module's last use of it)
    thread.join(300)
    assert not thread.is_alive() and isinstance(out.get("error"), ClusterError), out
    assert "previous index is untouched" in str(out["error"])
    assert current_version(tmp_path / "index") == before
    reader = IndexReader(tmp_path / "index")
    assert reader.store.counts()["documents"] == 43
    reader.close()


def test_an_unreachable_cluster_address_fails_at_once_with_the_fix() -> None:
    from docqa.index.cluster import ClusterError, _connect

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}", "nohost"):
        with pytest.raises(ClusterError, match="cannot reach a Ray cluster .* `ray start --head`"):
            _connect(None, address)  # refused before Ray is asked
    assert time.monotonic() - started < 30  # Ray's own retries took 13.7 minutes
