"""One group of files through extract, segment, chunk and embed: the work a local build does, and a cluster worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from docqa.config import DEFAULT_LIMITS, FileLimits
from docqa.index.chunk import estimate_tokens, make_chunks
from docqa.index.extract import SkipFile, extract
from docqa.index.scan import CorpusFile, Skipped
from docqa.index.segment import detect_language, split_sentences
from docqa.models import Embedder
from docqa.types import Chunk, Document, Sentence

EMBED_BATCH = 16


@dataclass(frozen=True)
class Pending:
    doc: Document
    sentences: list[Sentence]
    chunks: list[Chunk]


@dataclass(frozen=True)
class Prepared:
    """A group's documents ready for the store, with their vectors, in the group's order."""

    pending: list[Pending]
    chunk_vecs: np.ndarray
    sentence_vecs: np.ndarray
    unusable: list[Skipped] = field(default_factory=list)  # its content cannot be indexed: an older version goes
    unreadable: list[Skipped] = field(default_factory=list)  # it could not be read this time: an older version stays
    read_s: float = 0.0
    embed_s: float = 0.0
    embedded: int = 0  # texts through the embedder


def prepare(file: CorpusFile, sha: str, budget: int, limits: FileLimits = DEFAULT_LIMITS,
            progress: Callable[[str, int, int], None] | None = None) -> Pending:
    """Extract, segment and chunk one file; raises SkipFile with a user-facing reason. `progress`
    hears each scanned page read by OCR (seconds a page)."""
    on_page = (lambda done, total: progress(f"OCR {file.rel}", done, total)) if progress is not None else None
    extracted = extract(file.path, limits.chars, on_page)
    doc = Document(file.rel, sha, file.mtime, file.size, extracted.text, detect_language(extracted.text),
                   extracted.page_starts, extracted.encoding)
    sentences = split_sentences(doc, limits.sentences)
    if not sentences:
        raise SkipFile("no sentences found after extraction")
    if len(sentences) > limits.sentences:
        raise SkipFile(f"too many sentences: more than the {limits.sentences:,} a file may hold; split it "
                       "into smaller files, or raise DOCQA_MAX_FILE_SENTENCES")
    return Pending(doc, sentences, make_chunks(doc, sentences, budget))


def prepare_group(group: Sequence[tuple[CorpusFile, str]], budget: int, get_embedder: Callable[[], Embedder],
                  chunk_vectors: str, progress: Callable[[str, int, int], None] | None = None,
                  limits: FileLimits = DEFAULT_LIMITS) -> Prepared:
    """Read every file of the group, then embed all their texts at once (batches of similar length).
    Whatever goes wrong with one file (its content, reading it, memory, embedding it) skips that
    file with its reason; the rest of the group is indexed."""
    t0 = time.perf_counter()
    pending, unusable, unreadable = [], [], []
    for f, sha in group:
        try:
            pending.append(prepare(f, sha, budget, limits, progress))
        except SkipFile as err:
            unusable.append(Skipped(f.rel, str(err)))
        except OSError as err:
            unreadable.append(Skipped(f.rel, f"cannot read file: {err.strerror or err}"))
        except MemoryError:
            unusable.append(Skipped(f.rel, _OUT_OF_MEMORY))
        except Exception as err:  # noqa: BLE001 - a reader's bug on one file must not stop the others
            unusable.append(Skipped(f.rel, f"could not be read ({type(err).__name__}: {err}); re-save it, or report it"))
    t1 = time.perf_counter()
    try:
        chunk_vecs, sentence_vecs, embedded = embed_group(pending, get_embedder, chunk_vectors, progress)
    except (MemoryError, ValueError, RuntimeError):  # embed file by file: the one that fails is skipped
        pending, chunk_vecs, sentence_vecs, embedded = _embed_each(pending, get_embedder, chunk_vectors, unusable)
    return Prepared(pending, chunk_vecs, sentence_vecs, unusable, unreadable, t1 - t0, time.perf_counter() - t1, embedded)


_OUT_OF_MEMORY = ("ran out of memory indexing it; split it into smaller files, or lower DOCQA_MAX_FILE_CHARS "
                  "and DOCQA_MAX_FILE_SENTENCES so that such a file is refused up front")


def _embed_each(pending: list[Pending], get_embedder: Callable[[], Embedder], chunk_vectors: str,
                unusable: list[Skipped]) -> tuple[list[Pending], np.ndarray, np.ndarray, int]:
    kept, chunks, sentences, embedded = [], [], [], 0
    for p in pending:
        try:
            c, s, n = embed_group([p], get_embedder, chunk_vectors)
        except (MemoryError, ValueError, RuntimeError) as err:
            why = _OUT_OF_MEMORY if isinstance(err, MemoryError) else f"could not be embedded ({type(err).__name__}: {err})"
            unusable.append(Skipped(p.doc.path, why))
            continue
        kept.append(p)
        chunks.append(c)
        sentences.append(s)
        embedded += n
    if not kept:
        return [], np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32), 0
    return kept, np.concatenate(chunks), np.concatenate(sentences), embedded


def embed_group(pending: list[Pending], get_embedder: Callable[[], Embedder], chunk_vectors: str,
                progress: Callable[[str, int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Chunk and sentence vectors, and how many texts were embedded: chunks embedded, or the
    weighted mean of their sentences' (half the texts)."""
    sentences = [s.text for p in pending for s in p.sentences]
    chunks = [c.text for p in pending for c in p.chunks]
    if not sentences:
        return np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32), 0
    embedder = get_embedder()
    if chunk_vectors == "embedded":
        both = _embed(embedder, chunks + sentences, progress)
        return both[: len(chunks)], both[len(chunks) :], len(chunks) + len(sentences)
    sentence_vecs = _embed(embedder, sentences, progress)
    return _chunk_means(pending, sentence_vecs), sentence_vecs, len(sentences)


def _chunk_means(pending: list[Pending], sentence_vecs: np.ndarray) -> np.ndarray:
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


def _embed(embedder: Embedder, texts: list[str], progress: Callable[[str, int, int], None] | None = None) -> np.ndarray:
    """Embed in batches of similar length, so that little of each batch is padding; `progress` hears
    of each batch (one large file is a minute of embedding)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 0), np.float32)
    for start in range(0, len(order), EMBED_BATCH):
        rows = order[start : start + EMBED_BATCH]
        vecs = embedder.embed_passages([texts[i] for i in rows])
        if out.shape[1] == 0:
            out = np.zeros((len(texts), vecs.shape[1]), np.float32)
        out[rows] = vecs
        if progress is not None:
            progress("embedding", min(start + EMBED_BATCH, len(order)), len(order))
    return out
