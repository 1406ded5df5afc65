"""The index: incremental builds, manifest checks, the lock, crash safety, and skipped files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from docqa.index import layout
from docqa.index.ingest import NothingIndexed
from docqa.index.reader import IndexReader
from docqa.interfaces.services import Services


def test_build_stores_sentences_chunks_and_vectors(services: Services) -> None:
    report = services.build()
    assert (report.documents, len(report.added), report.skipped) == (3, 3, [])
    reader = services.reader()
    counts = reader.store.counts()
    assert len(reader.vectors) == counts["chunks"] and len(reader.sentence_vectors) == counts["sentences"]
    doc = reader.store.document("seed.txt")
    assert doc is not None and doc.lang == "es"
    rows = reader.store.db.execute(
        'SELECT s.start, s."end", s.text FROM sentences s JOIN documents d ON d.id=s.doc_id WHERE d.path=?', ("seed.txt",)
    ).fetchall()
    assert len(rows) > 5 and all(doc.text[s:e] == t for s, e, t in rows)
    manifest = json.loads((reader.folder / layout.MANIFEST).read_text())
    assert manifest["embedder"] == {"id": "sentence-transformers:fake", "dim": 64}
    assert manifest["schema"] == layout.SCHEMA_VERSION and manifest["chunking"]["budget_tokens"] > 0


def test_incremental_embeds_only_changed_files(services: Services, fake: FakeEmbedder, corpus: Path) -> None:
    services.build()
    first = services.reader()
    seed_chunks = first.store.db.execute(
        "SELECT c.id FROM chunks c JOIN documents d ON d.id=c.doc_id WHERE d.path='seed.txt' ORDER BY c.id"
    ).fetchall()
    before = fake.passages_embedded
    (corpus / "english.txt").write_text("The committee met in Bern on Friday.\n", "utf-8")
    (corpus / "notas.md").unlink()
    (corpus / "nuevo.txt").write_text("Un documento nuevo. Con dos frases.\n", "utf-8")
    report = services.build()
    assert (report.added, report.updated, report.removed, report.unchanged) == (["nuevo.txt"], ["english.txt"], ["notas.md"], 1)
    embedded = fake.passages_embedded - before
    assert 0 < embedded <= 6  # the two small files' chunks and sentences, not the seed article
    reader = services.reader()
    assert reader.version != first.version
    # Unchanged documents keep their chunk ids, so their vectors are reused as they are.
    assert reader.store.db.execute(
        "SELECT c.id FROM chunks c JOIN documents d ON d.id=c.doc_id WHERE d.path='seed.txt' ORDER BY c.id"
    ).fetchall() == seed_chunks
    assert sorted(reader.vectors.ids()) == sorted(reader.store.chunk_ids())
    assert "Bern" in (reader.store.document("english.txt") or pytest.fail()).text


def test_unchanged_corpus_is_a_no_op(services: Services, fake: FakeEmbedder, corpus: Path) -> None:
    services.build()
    version, before = services.reader().version, fake.passages_embedded
    os.utime(corpus / "seed.txt")  # touched but identical bytes
    report = services.build()
    assert fake.passages_embedded == before and report.unchanged == 3 and report.documents == 3
    assert services.build().version == services.reader().version
    assert version  # the first version was complete


def test_rebuild_starts_from_scratch(services: Services, fake: FakeEmbedder) -> None:
    services.build()
    before = fake.passages_embedded
    report = services.build(rebuild=True)
    assert len(report.added) == 3 and fake.passages_embedded == 2 * before


def test_other_embedder_needs_rebuild(services: Services, settings) -> None:  # type: ignore[no-untyped-def]
    services.build()
    other = settings.with_overrides(embedder="other-model")
    with pytest.raises(layout.IndexMismatch, match="docqa index --rebuild"):
        Services(other, FakeEmbedder(id="sentence-transformers:other-model")).reader()
    with pytest.raises(layout.IndexMismatch, match="--rebuild"):
        Services(other, FakeEmbedder(id="sentence-transformers:other-model")).build()
    assert Services(other, FakeEmbedder(id="sentence-transformers:other-model")).build(rebuild=True).documents == 3


def test_missing_index_says_how_to_build(settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(layout.IndexMissing, match="docqa index"):
        IndexReader(settings.index)


def test_bad_files_are_skipped_and_the_rest_indexed(services: Services, corpus: Path, tmp_path: Path) -> None:
    (corpus / "empty.txt").write_text("")
    (corpus / "blob.md").write_bytes(bytes(range(256)) * 4)
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (corpus / ".hidden.txt").write_text("secreto")
    (corpus / "bad.pdf").write_bytes(b"%PDF-1.4 garbage")
    outside = tmp_path / "outside.txt"
    outside.write_text("fuera del corpus")
    (corpus / "link.txt").symlink_to(outside)
    (corpus / "big.txt").write_text("x" * 20000)
    services.settings = services.settings.with_overrides(max_file_mb=0.01)
    report = services.build()
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "blob.md", "photo.jpg", ".hidden.txt", "bad.pdf", "link.txt", "big.txt"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["blob.md"]
    assert "outside the corpus" in reasons["link.txt"] and "too large" in reasons["big.txt"]
    assert report.documents == 3


def test_nothing_usable_fails_and_keeps_the_old_index(services: Services, corpus: Path) -> None:
    services.build()
    version = services.reader().version
    for p in corpus.iterdir():
        p.write_text("")
    with pytest.raises(NothingIndexed, match="nothing usable"):
        services.build()
    assert layout.current_version(services.settings.index).name == version


def test_second_concurrent_build_is_refused(services: Services) -> None:
    services.build()
    lock = layout.build_lock(services.settings.index)
    lock.acquire()
    try:
        with pytest.raises(layout.IndexBusy, match="already building"):
            services.build(rebuild=True)
    finally:
        lock.release()


_SLOW_BUILD = """
import sys
sys.path.insert(0, {tests!r})
from fakes import FakeEmbedder
from docqa.config import load_settings
from docqa.interfaces.services import Services
s = load_settings({{}}).with_overrides(corpus={corpus!r}, index={index!r}, embedder="fake")
print("building", flush=True)
Services(s, FakeEmbedder(delay=0.5)).build(rebuild=True)
"""


def test_kill_9_during_a_build_leaves_the_previous_index(services: Services, corpus: Path) -> None:
    services.build()
    old = services.reader()
    old_counts, old_version = old.store.counts(), old.version
    for i in range(10):
        (corpus / f"extra{i}.txt").write_text(f"Documento extra número {i}. Tiene texto.\n")
    code = _SLOW_BUILD.format(tests=str(Path(__file__).parents[1]), corpus=str(corpus), index=str(services.settings.index))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "building"
    staging = services.settings.index / layout.VERSIONS
    deadline = time.time() + 30
    while not any(p.name.startswith(".staging-") and (p / layout.STORE).exists() for p in staging.iterdir()):
        assert time.time() < deadline, "the build never started writing"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    fresh = IndexReader(services.settings.index, "sentence-transformers:fake")
    assert fresh.version == old_version and fresh.store.counts() == old_counts
    assert len(fresh.vectors) == old_counts["chunks"]
    # The lock died with the process, and the next build cleans up the half-written folder.
    report = services.build()
    assert report.documents == old_counts["documents"] + 10
    assert not any(p.name.startswith(".staging-") for p in staging.iterdir())


def _damage(folder: Path, kind: str) -> None:
    if kind == "truncated vectors":
        with (folder / layout.SENTENCE_VECTORS).open("r+b") as fh:
            fh.truncate(100)
    elif kind == "damaged store":
        with (folder / layout.STORE).open("r+b") as fh:  # the header and first pages overwritten
            fh.seek(0)
            fh.write(os.urandom(8192))
    elif kind == "missing CURRENT":
        (folder.parent.parent / layout.CURRENT).unlink()
    elif kind in ("another embedder", "wrong dimension"):
        manifest = json.loads((folder / layout.MANIFEST).read_text("utf-8"))
        manifest["embedder"]["id" if kind == "another embedder" else "dim"] = "sentence-transformers:other" if kind == "another embedder" else 768
        (folder / layout.MANIFEST).write_text(json.dumps(manifest), "utf-8")
    elif kind == "unreadable manifest":
        (folder / layout.MANIFEST).write_text("{not json", "utf-8")


@pytest.mark.parametrize("kind", ["truncated vectors", "damaged store", "missing CURRENT", "another embedder",
                                  "wrong dimension", "unreadable manifest"])
def test_a_damaged_index_says_to_rebuild_in_one_line_and_the_rebuild_recovers(services: Services, kind: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from docqa import cli
    from docqa.interfaces import services as services_module

    services.build()
    _damage(layout.current_version(services.settings.index), kind)
    with pytest.raises(layout.IndexError_, match=r"docqa index --rebuild"):
        IndexReader(services.settings.index, "sentence-transformers:fake")
    monkeypatch.setattr(services_module, "load_embedder", lambda spec, threads: FakeEmbedder())
    args = ["--index", str(services.settings.index), "--corpus", str(services.settings.corpus)]
    status = CliRunner().invoke(cli.main, ["status", *args], env={"DOCQA_EMBEDDER": "fake"})
    assert status.exit_code == 1 and "docqa index --rebuild" in status.output and "Traceback" not in status.output
    rebuilt = CliRunner().invoke(cli.main, ["index", "--rebuild", "--embedder", "fake", *args])
    assert rebuilt.exit_code == 0, rebuilt.output
    reader = IndexReader(services.settings.index, "sentence-transformers:fake")
    assert reader.store.counts()["documents"] == 3 and len(reader.sentence_vectors) == reader.store.counts()["sentences"]


@pytest.mark.parametrize("kind", ["truncated vectors", "damaged store", "unreadable manifest"])
def test_a_plain_build_over_a_damaged_version_rebuilds_it_and_says_why(services: Services, kind: str) -> None:
    services.build()
    _damage(layout.current_version(services.settings.index), kind)
    report = services.build()
    assert "damaged" in report.rebuilt_because and len(report.added) == 3
    assert IndexReader(services.settings.index).store.counts()["documents"] == 3


def _docx_bomb(path: Path, inflated_mb: int) -> None:
    """A valid .docx whose document.xml inflates to `inflated_mb` MB from a few hundred KB."""
    import zipfile

    import docx

    docx.Document().save(str(path))
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    body = b"<w:p><w:r><w:t>" + b"a" * (inflated_mb << 20) + b"</w:t></w:r></w:p>"
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"<w:body>", b"<w:body>" + body, 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_a_hostile_corpus_indexes_every_good_document_and_skips_the_rest_with_reasons(services: Services, corpus: Path, tmp_path: Path) -> None:
    good = {p.name for p in corpus.iterdir()}
    odd_names = ["con espacio.txt", "acentuación ñ.txt", "emoji 🎉.txt", "línea\nnueva.txt", "a..b.txt"]
    for name in odd_names:
        (corpus / name).write_text(f"Documento {name!r} con una frase completa sobre el presupuesto.\n", "utf-8")
    (corpus / "..hidden.txt").write_text("Una frase.", "utf-8")  # a leading dot: hidden, like .git
    (corpus / "utf16.txt").write_bytes("Texto en UTF-16 con una frase completa.\n".encode("utf-16"))
    (corpus / "nul.txt").write_bytes(b"texto\x00con\x00nulos" * 50)
    (corpus / "truncated.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj << /Ty")
    (corpus / "notzip.docx").write_bytes(b"just text, not a zip")
    _docx_bomb(corpus / "bomb.docx", 300)
    (corpus / "page.html").write_text('<html><body><p onclick="steal()">Una frase del artículo web.</p>'
                                      '<script>alert(1)</script><a href="javascript:alert(2)">enlace</a></body></html>', "utf-8")
    (corpus / "raw.md").write_text("# Título\n\nTexto con <img src=x onerror=alert(1)> dentro de una frase.\n", "utf-8")
    (corpus / "loop-a.txt").symlink_to(corpus / "loop-b.txt")
    (corpus / "loop-b.txt").symlink_to(corpus / "loop-a.txt")
    (corpus / "tiny").mkdir()
    for n in range(300):
        (corpus / "tiny" / f"{n}.txt").write_text(f"Nota número {n} sobre la reunión.\n", "utf-8")
    report = services.build()
    reasons = {s.path: s.reason for s in report.skipped}
    indexed = set(services.reader().store.documents())
    assert good | set(odd_names) | {"utf16.txt", "page.html", "raw.md"} <= indexed
    assert sum(p.startswith("tiny/") for p in indexed) == 300
    for bad in ("nul.txt", "truncated.pdf", "notzip.docx", "bomb.docx", "loop-a.txt", "loop-b.txt", "..hidden.txt"):
        assert reasons.get(bad), bad
    assert "too large" in reasons["bomb.docx"] or "inflate" in reasons["bomb.docx"]
    html = services.reader().store.document("page.html")
    assert html is not None and "alert" not in html.text and "steal" not in html.text


def test_a_file_deleted_during_the_build_is_skipped_and_the_rest_indexed(services: Services, corpus: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from docqa.index import changes

    real = changes.sha256

    def vanish(path: Path) -> str:
        if path.name == "english.txt":
            path.unlink()
        return real(path)

    monkeypatch.setattr(changes, "sha256", vanish)
    report = services.build()
    assert report.documents == 2 and "cannot read" in {s.path: s.reason for s in report.skipped}["english.txt"]


def assert_consistent(root: Path) -> None:
    """One index version agrees with itself: vector ids are the store's, no chunk or sentence is
    orphaned or duplicated, and FTS5 holds one row a sentence."""
    reader = IndexReader(root)
    one = lambda sql: reader.store.db.execute(sql).fetchone()[0]
    chunks = [r[0] for r in reader.store.db.execute("SELECT id FROM chunks ORDER BY id")]
    sentences = [r[0] for r in reader.store.db.execute("SELECT id FROM sentences ORDER BY id")]
    assert sorted(reader.vectors.ids()) == chunks and sorted(reader.sentence_vectors.ids()) == sentences
    assert one("SELECT count(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)") == 0
    assert one("SELECT count(*) FROM sentences WHERE doc_id NOT IN (SELECT id FROM documents)") == 0
    assert one("SELECT count(*) FROM sentences WHERE chunk_id IS NOT NULL AND chunk_id NOT IN (SELECT id FROM chunks)") == 0
    assert one("SELECT count(*) FROM (SELECT doc_id, seq FROM chunks GROUP BY doc_id, seq HAVING count(*) > 1)") == 0
    assert one("SELECT count(*) FROM sentences_fts") == len(sentences)
    assert sorted(r[0] for r in reader.store.db.execute("SELECT rowid FROM sentences_fts")) == sentences
    reader.close()


@pytest.mark.slow
def test_twenty_sigkills_at_random_moments_never_lose_or_corrupt_the_index(services: Services, corpus: Path, fake: FakeEmbedder) -> None:
    import random

    from docqa.search.retrieve import Retriever

    rng = random.Random(7)
    services.build()
    root = services.settings.index
    for trial in range(20):
        before = IndexReader(root)
        version, counts = before.version, before.store.counts()
        before.close()
        (corpus / f"trial{trial}.txt").write_text(f"Documento de la prueba {trial}. La reunión fue en Lima.\n", "utf-8")
        code = _SLOW_BUILD.replace("delay=0.5", "delay=0.02").format(
            tests=str(Path(__file__).parents[1]), corpus=str(corpus), index=str(root))
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "building"
        time.sleep(rng.uniform(0.0, 2.5))  # anywhere from the scan to the publish
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader = IndexReader(root, "sentence-transformers:fake")
        published = reader.version != version  # the kill may land after the publish: then it is complete
        assert published or reader.store.counts() == counts, trial
        assert Retriever(reader, fake).sentence_hits("¿Dónde fue la reunión?", 5), trial  # it answers
        reader.close()
        assert_consistent(root)
        report = services.build()  # the next build completes, whatever was left behind
        assert f"trial{trial}.txt" in IndexReader(root).store.documents()
        assert_consistent(root)
        assert not any(p.name.startswith(".staging-") for p in (root / layout.VERSIONS).iterdir()), report


def test_a_full_disk_during_a_build_is_one_clear_error_and_the_old_index_serves(services: Services, corpus: Path) -> None:
    services.build()
    version = layout.current_version(services.settings.index).name
    for n in range(40):
        (corpus / f"big{n}.txt").write_text(f"Un documento largo número {n}. " * 400, "utf-8")
    # A size-capped file stands in for a full disk: writing past the cap fails with EFBIG, as ENOSPC would.
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "from docqa.index.segment import detect_language; detect_language('hola', 'es')\n"  # its model unpacks to a temp file
        "resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))\n"
        f"sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n"
        "import fakes, docqa.interfaces.services as s\n"
        "s.load_embedder = lambda spec, threads: fakes.FakeEmbedder()\n"
        "from docqa.cli import main\n"
        f"main(['index', '--corpus', {str(corpus)!r}, '--index', {str(services.settings.index)!r}, '--embedder', 'fake'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "cannot write the index" in done.stderr and "free space" in done.stderr
    assert layout.current_version(services.settings.index).name == version
    assert_consistent(services.settings.index)
    assert not any(p.name.startswith(".staging-") for p in (services.settings.index / layout.VERSIONS).iterdir())


@pytest.mark.slow
def test_ten_thousand_tiny_files_are_all_indexed_and_an_unchanged_rerun_is_a_no_op(tmp_path: Path, fake: FakeEmbedder) -> None:
    from docqa.config import load_settings

    corpus = tmp_path / "corpus"
    for n in range(10_000):
        folder = corpus / f"{n // 1000}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n}.txt").write_text(f"Nota número {n} sobre la reunión de las delegaciones.\n", "utf-8")
    services = Services(load_settings({}).with_overrides(corpus=corpus, index=tmp_path / "index", embedder="fake"), fake)
    report = services.build()
    assert report.documents == 10_000 and not report.skipped
    again = services.build()
    assert again.unchanged == 10_000 and not again.added and again.embedded_chunks == 0
    assert_consistent(tmp_path / "index")


def test_a_passage_is_the_paragraph_of_a_chunk_or_the_chunk_between_its_neighbours(services: Services, corpus: Path) -> None:
    long = " ".join(f"La frase larga número {i} del informe continúa el mismo párrafo sin pausa." for i in range(60))
    (corpus / "largo.txt").write_text("Primer párrafo corto. Tiene dos frases.\n\n" + long + "\n", "utf-8")
    services.build()
    store = services.reader().store
    chunks = {store.chunk_texts([c])[0]: c for c in store.chunk_ids()}
    short = next(c for text, c in chunks.items() if text.startswith("Primer párrafo"))
    assert store.passage(short) == "Primer párrafo corto. Tiene dos frases."
    middle = next(c for text, c in chunks.items() if "número 30 " in text)
    around = store.passage(middle, max_chars=2000)
    assert "número 30 " in around and len(around) < len(long) and not around.startswith("Primer")
