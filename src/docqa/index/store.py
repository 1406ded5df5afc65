"""SQLite store beside the vectors: documents, sentences with offsets, chunks, and FTS5 for BM25."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docqa.index.lexical import fts_document
from docqa.index.termstore import TermQueries
from docqa.types import Chunk, Document, Sentence

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents(
  id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT UNIQUE NOT NULL, sha256 TEXT NOT NULL,
  mtime REAL NOT NULL, size INTEGER NOT NULL, lang TEXT NOT NULL, text TEXT NOT NULL,
  page_starts TEXT NOT NULL, encoding TEXT NOT NULL DEFAULT '');
-- Files whose content cannot be indexed, as they were when tried: not read again until they change.
CREATE TABLE IF NOT EXISTS skipped(
  path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, mtime REAL NOT NULL, size INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sentences(
  id INTEGER PRIMARY KEY AUTOINCREMENT, doc_id INTEGER NOT NULL, seq INTEGER NOT NULL,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL, page INTEGER, paragraph INTEGER NOT NULL,
  section INTEGER NOT NULL, chunk_id INTEGER, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sentences_doc ON sentences(doc_id, seq);
CREATE INDEX IF NOT EXISTS sentences_chunk ON sentences(chunk_id);
CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY AUTOINCREMENT, doc_id INTEGER NOT NULL, seq INTEGER NOT NULL,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS sentences_fts USING fts5(terms, tokenize='unicode61 remove_diacritics 2');
-- Chunks rank by their best sentence's BM25 (search/retrieve.py); indexes of earlier releases had their own.
DROP TABLE IF EXISTS chunks_fts;
"""


@dataclass(frozen=True)
class DocumentRecord:
    id: int
    path: str
    sha256: str
    mtime: float
    size: int


@dataclass(frozen=True)
class SkipRecord:
    """A file skipped for its content, as it was when tried."""

    sha256: str
    mtime: float
    size: int
    reason: str

    def unchanged(self, mtime: float, size: int) -> bool:
        return (self.mtime, self.size) == (mtime, size)


@dataclass(frozen=True)
class SentenceRow:
    id: int
    doc_path: str
    seq: int
    start: int
    end: int
    page: int | None
    chunk_id: int
    text: str


class Store(TermQueries):
    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.db = sqlite3.connect(str(path), check_same_thread=False)
            self.db.executescript(SCHEMA)
            if "encoding" not in self._columns("documents"):  # a store of an earlier release
                self.db.execute("ALTER TABLE documents ADD COLUMN encoding TEXT NOT NULL DEFAULT ''")
        self._encoding = "encoding" if "encoding" in self._columns("documents") else "''"
        self._has_skipped = bool(self._columns("skipped"))
        self._has_vocab = False
        # Sentences per BM25 term; only readers ask, and a reader's version of the store never changes.
        self._row_counts: dict[str, int] = {}

    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        self.db.close()

    def copy_to(self, target: Path) -> None:
        """A consistent copy via SQLite's backup API, the base of an incremental build."""
        dest = sqlite3.connect(str(target))
        with dest:
            self.db.backup(dest)
        dest.close()

    # --- writing -------------------------------------------------------------------------
    def add_document(
        self, doc: Document, sentences: Sequence[Sentence], chunks: Sequence[Chunk]
    ) -> tuple[list[int], list[int]]:
        """Insert a document with its sentences and chunks; returns the new chunk and sentence ids in order."""
        cur = self.db.execute(
            "INSERT INTO documents(path, sha256, mtime, size, lang, text, page_starts, encoding) VALUES (?,?,?,?,?,?,?,?)",
            (doc.path, doc.sha256, doc.mtime, doc.size, doc.lang, doc.text, json.dumps(doc.page_starts), doc.encoding),
        )
        self.db.execute("DELETE FROM skipped WHERE path=?", (doc.path,))
        doc_id = int(cur.lastrowid or 0)
        chunk_ids: list[int] = []
        chunk_of: dict[int, int] = {}
        for chunk in chunks:
            cid = int(
                self.db.execute(
                    'INSERT INTO chunks(doc_id, seq, start, "end", text) VALUES (?,?,?,?,?)',
                    (doc_id, chunk.seq, chunk.start, chunk.end, chunk.text),
                ).lastrowid
                or 0
            )
            chunk_ids.append(cid)
            chunk_of.update({seq: cid for seq in chunk.sentence_seqs})
        sentence_ids: list[int] = []
        for s in sentences:
            sid = self.db.execute(
                'INSERT INTO sentences(doc_id, seq, start, "end", page, paragraph, section, chunk_id, text) '
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (doc_id, s.seq, s.start, s.end, s.page, s.paragraph, s.section, chunk_of.get(s.seq), s.text),
            ).lastrowid
            self.db.execute("INSERT INTO sentences_fts(rowid, terms) VALUES (?,?)", (sid, fts_document(s.text, doc.lang)))
            sentence_ids.append(int(sid or 0))
        return chunk_ids, sentence_ids

    def remove_document(self, path: str) -> tuple[list[int], list[int]]:
        """Delete a document and everything derived from it; returns its chunk and sentence ids."""
        row = self.db.execute("SELECT id FROM documents WHERE path=?", (path,)).fetchone()
        if row is None:
            return [], []
        doc_id = row[0]
        chunk_ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE doc_id=?", (doc_id,))]
        sentence_ids = [r[0] for r in self.db.execute("SELECT id FROM sentences WHERE doc_id=?", (doc_id,))]
        self.db.execute("DELETE FROM sentences_fts WHERE rowid IN (SELECT id FROM sentences WHERE doc_id=?)", (doc_id,))
        self.db.execute("DELETE FROM sentences WHERE doc_id=?", (doc_id,))
        self.db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        return chunk_ids, sentence_ids

    def copy_document(self, source: str, path: str, mtime: float, size: int) -> tuple[list[int], list[int], list[int], list[int]]:
        """`source`'s text, sentences, chunks and BM25 terms again under `path` (a renamed or copied
        file, same bytes): returns the source's and the copy's chunk ids, then sentence ids."""
        doc = self.document(source)
        assert doc is not None
        rows = self.db.execute('SELECT id, seq, start, "end", text FROM chunks WHERE doc_id=(SELECT id FROM documents '
                               "WHERE path=?) ORDER BY seq", (source,)).fetchall()
        chunks = [Chunk(path, seq, (), start, end, text) for _, seq, start, end, text in rows]
        old_chunks = [r[0] for r in rows]
        srows = self.db.execute('SELECT id, seq, start, "end", page, paragraph, section, chunk_id, text FROM sentences '
                                "WHERE doc_id=(SELECT id FROM documents WHERE path=?) ORDER BY seq", (source,)).fetchall()
        sentences = [Sentence(path, seq, start, end, text, paragraph, section, page)
                     for _, seq, start, end, page, paragraph, section, _, text in srows]
        chunk_seq = {cid: seq for cid, seq, *_ in rows}
        seqs: dict[int, list[int]] = {}
        for r in srows:
            if r[7] is not None:
                seqs.setdefault(chunk_seq[r[7]], []).append(r[1])
        chunks = [Chunk(c.doc_path, c.seq, tuple(seqs.get(c.seq, ())), c.start, c.end, c.text) for c in chunks]
        copy = Document(path, doc.sha256, mtime, size, doc.text, doc.lang, doc.page_starts, doc.encoding)
        new_chunks, new_sentences = self.add_document(copy, sentences, chunks)
        return old_chunks, new_chunks, [r[0] for r in srows], new_sentences

    def touch(self, path: str, mtime: float, size: int) -> None:
        self.db.execute("UPDATE documents SET mtime=?, size=? WHERE path=?", (mtime, size, path))
        self.db.execute("UPDATE skipped SET mtime=?, size=? WHERE path=?", (mtime, size, path))

    def skip(self, path: str, sha256: str, mtime: float, size: int, reason: str) -> None:
        """Remember a file whose content cannot be indexed, so it is not stale until it changes."""
        self.db.execute("INSERT OR REPLACE INTO skipped(path, sha256, mtime, size, reason) VALUES (?,?,?,?,?)",
                        (path, sha256, mtime, size, reason))

    def forget_skipped(self, keep: set[str]) -> bool:
        """Forget skipped files that are gone from the corpus; returns whether any was."""
        gone = [p for (p,) in self.db.execute("SELECT path FROM skipped").fetchall() if p not in keep]
        self.db.executemany("DELETE FROM skipped WHERE path=?", [(p,) for p in gone])
        return bool(gone)

    def commit(self) -> None:
        self.db.commit()

    # --- reading -------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        rows = self.db.execute("SELECT id, path, sha256, mtime, size FROM documents")
        return {r[1]: DocumentRecord(*r) for r in rows}

    def skipped(self) -> dict[str, SkipRecord]:
        """Files skipped for their content, by path."""
        if not self._has_skipped:
            return {}
        return {r[0]: SkipRecord(*r[1:]) for r in self.db.execute("SELECT path, sha256, mtime, size, reason FROM skipped")}

    def catalogue(self) -> list[dict[str, object]]:
        """Every document with how it was read: path, size, language, encoding, sentences, file mtime."""
        rows = self.db.execute(
            f"SELECT d.path, d.size, d.lang, {self._encoding}, (SELECT count(*) FROM sentences s WHERE s.doc_id=d.id), d.mtime "
            "FROM documents d ORDER BY d.path")
        return [dict(zip(("path", "size", "lang", "encoding", "sentences", "modified"), r)) for r in rows]

    def check(self) -> None:
        """Read the schema and each table's last row, in O(log n): a damaged file fails here, at open,
        instead of in the middle of a question (`PRAGMA quick_check` would read the whole file)."""
        for table in ("documents", "chunks", "sentences", "sentences_fts"):
            self.db.execute(f"SELECT max(rowid) FROM {table}").fetchone()

    def counts(self) -> dict[str, int]:
        one = lambda sql: int(self.db.execute(sql).fetchone()[0])
        return {
            "documents": one("SELECT count(*) FROM documents"),
            "chunks": one("SELECT count(*) FROM chunks"),
            "sentences": one("SELECT count(*) FROM sentences"),
        }

    def chunk_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM chunks ORDER BY id")]

    def chunk_texts(self, ids: Iterable[int]) -> list[str]:
        ids = list(ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return [r[0] for r in self.db.execute(f"SELECT text FROM chunks WHERE id IN ({marks})", ids)]

    def passage(self, chunk_id: int, max_chars: int = 2400) -> str:
        """A chunk as a reader sees it in its document: the blank-line paragraph that holds it, or,
        where paragraphs run longer than `max_chars` (or there are none), the chunk between its
        neighbours."""
        row = self.db.execute(
            "SELECT c.doc_id, min(s.paragraph), c.seq FROM chunks c JOIN sentences s ON s.chunk_id=c.id WHERE c.id=?",
            (chunk_id,)).fetchone()
        if row is None or row[0] is None:
            return ""
        start, end = self._paragraph_span(*row, max_chars)
        return str(self.db.execute("SELECT text FROM documents WHERE id=?", (row[0],)).fetchone()[0][start:end])

    def paragraph_rows(self, sentence_id: int, max_chars: int = 2400) -> list[SentenceRow]:
        """The sentences of `passage` around a sentence, in order."""
        row = self.db.execute(
            "SELECT s.doc_id, s.paragraph, c.seq FROM sentences s JOIN chunks c ON c.id=s.chunk_id WHERE s.id=?",
            (sentence_id,)).fetchone()
        if row is None:
            return []
        start, end = self._paragraph_span(*row, max_chars)
        ids = [r[0] for r in self.db.execute(
            'SELECT id FROM sentences WHERE doc_id=? AND start>=? AND "end"<=? ORDER BY seq', (row[0], start, end))]
        return self.sentences(ids)

    def _paragraph_span(self, doc_id: int, paragraph: int, seq: int, max_chars: int) -> tuple[int, int]:
        start, end = self.db.execute('SELECT min(start), max("end") FROM sentences WHERE doc_id=? AND paragraph=?',
                                     (doc_id, paragraph)).fetchone()
        if end - start > max_chars:
            start, end = self.db.execute('SELECT min(start), max("end") FROM chunks WHERE doc_id=? AND seq BETWEEN ? AND ?',
                                         (doc_id, seq - 1, seq + 1)).fetchone()
        return int(start), int(end)

    def document(self, path: str) -> Document | None:
        row = self.db.execute(
            f"SELECT path, sha256, mtime, size, text, lang, page_starts, {self._encoding} FROM documents WHERE path=?", (path,)
        ).fetchone()
        if row is None:
            return None
        return Document(row[0], row[1], row[2], row[3], row[4], row[5], tuple(json.loads(row[6])), row[7])

    def sentences(self, ids: Iterable[int]) -> list[SentenceRow]:
        ids = list(ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f'SELECT s.id, d.path, s.seq, s.start, s."end", s.page, s.chunk_id, s.text FROM sentences s '
            f"JOIN documents d ON d.id=s.doc_id WHERE s.id IN ({marks})",
            ids,
        ).fetchall()
        by_id = {r[0]: SentenceRow(*r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    def chunk_sentence_ids(self, chunk_ids: Iterable[int]) -> dict[int, list[int]]:
        ids = list(chunk_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        out: dict[int, list[int]] = {i: [] for i in ids}
        for sid, cid in self.db.execute(
            f"SELECT id, chunk_id FROM sentences WHERE chunk_id IN ({marks}) ORDER BY seq", ids
        ):
            out[cid].append(sid)
        return out

    def languages(self, table: str, ids: Iterable[int]) -> dict[int, str]:
        """Document language of each chunk or sentence id."""
        ids = list(ids)
        if not ids or table not in ("chunks", "sentences"):
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT t.id, d.lang FROM {table} t JOIN documents d ON d.id=t.doc_id WHERE t.id IN ({marks})", ids
        )
        return {int(i): str(lang) for i, lang in rows}

    def document_sentences(self, path: str) -> list[SentenceRow]:
        """Every sentence of a document, in order."""
        ids = [r[0] for r in self.db.execute(
            "SELECT s.id FROM sentences s JOIN documents d ON d.id=s.doc_id WHERE d.path=? ORDER BY s.seq", (path,))]
        return self.sentences(ids)

    def neighbours(self, sentence_id: int, before: int, after: int) -> list[SentenceRow]:
        """The sentence with up to `before`/`after` sentences around it in its document."""
        row = self.db.execute("SELECT doc_id, seq FROM sentences WHERE id=?", (sentence_id,)).fetchone()
        if row is None:
            return []
        ids = [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM sentences WHERE doc_id=? AND seq BETWEEN ? AND ? ORDER BY seq",
                (row[0], row[1] - before, row[1] + after),
            )
        ]
        return self.sentences(ids)
