"""BM25 over the store's FTS5 table of sentence terms: scores, term counts, and lookups of single
terms (is it indexed at all, what is it spelt like, which sentence holds it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from docqa.index.lexical import PREFIX_MIN

# Rows a BM25 query may match, summed over its terms; the commonest terms are left out past it
# (Store.selective). A question over a small corpus never reaches it, so it keeps every term.
ROW_BUDGET = 20_000
ROW_COUNTS_KEPT = 200_000  # terms whose row counts a reader remembers


def _phrase(term: str) -> str:
    """A term as an FTS5 phrase: quoted, so user text is never read as FTS syntax."""
    return '"' + term.replace('"', '""') + '"'


def _stem_match(term: str) -> str:
    """A BM25 term as the lookups match it: quoted, and a stem of PREFIX_MIN or more letters also as
    a prefix ("campeon" finds "campeonato")."""
    return _phrase(term) + ("*" if len(term) >= PREFIX_MIN else "")


class TermQueries:
    """The term side of `Store`: it holds `db` (the connection), `_row_counts` and `_has_vocab`."""

    db: sqlite3.Connection
    _row_counts: dict[str, int]
    _has_vocab: bool

    def sentence_frequencies(
        self, terms: Iterable[str], doc_paths: Sequence[str] | None = None
    ) -> tuple[int, dict[str, int]]:
        """How many sentences there are, and how many hold each BM25 term: in the whole index (for
        inverse document frequency), or only in the documents at `doc_paths`."""
        scope, params = "", []
        if doc_paths is not None:
            marks = ",".join("?" * len(doc_paths)) or "NULL"
            scope = f" AND s.doc_id IN (SELECT id FROM documents WHERE path IN ({marks}))"
            params = list(doc_paths)
        total = int(self.db.execute(f"SELECT count(*) FROM sentences s WHERE 1=1{scope}", params).fetchone()[0])
        counts = {}
        for term in dict.fromkeys(terms):
            counts[term] = int(self.db.execute(
                f"SELECT count(*) FROM sentences_fts f JOIN sentences s ON s.id=f.rowid WHERE sentences_fts MATCH ?{scope}",
                [_stem_match(term), *params],
            ).fetchone()[0])
        return total, counts

    def holds(self, term: str) -> bool:
        """Whether any sentence holds the BM25 term (as `sentence_frequencies` matches it), from one
        row, however common the term."""
        return self.db.execute("SELECT 1 FROM sentences_fts WHERE sentences_fts MATCH ? LIMIT 1",
                               [_stem_match(term)]).fetchone() is not None

    def similar_terms(self, term: str, n: int = 3) -> list[str]:
        """The indexed BM25 terms closest in spelling to `term`, best first: what a misspelt word meant."""
        import difflib

        # fts5vocab lists the index's terms; a temp table, so a read-only index stays untouched.
        vocab = [r[0] for r in self.db.execute(f"SELECT term FROM temp.{self._vocab()}")]
        return difflib.get_close_matches(term, vocab, n=n, cutoff=0.75)

    def sentence_with(self, term: str) -> str:
        """The text of one sentence that holds the BM25 term ("" if none)."""
        row = self.db.execute(
            "SELECT s.text FROM sentences_fts f JOIN sentences s ON s.id=f.rowid WHERE sentences_fts MATCH ? LIMIT 1",
            [_phrase(term)],
        ).fetchone()
        return row[0] if row else ""

    def bm25(self, terms: Sequence[str], limit: int, every_term: bool = False) -> list[tuple[int, float]]:
        """Sentence (rowid, score) best first for an OR of `terms`, the too common ones left out unless
        `every_term` (for the bench's comparison); FTS5's bm25() is lower-is-better, so it is negated."""
        kept = list(terms) if every_term else self.selective(terms)
        if not kept:
            return []
        rows = self.db.execute(
            "SELECT rowid, -bm25(sentences_fts) FROM sentences_fts WHERE sentences_fts MATCH ? ORDER BY bm25(sentences_fts) LIMIT ?",
            (" OR ".join(_phrase(t) for t in kept), limit),
        )
        return [(int(r[0]), float(r[1])) for r in rows]

    def selective(self, terms: Sequence[str]) -> list[str]:
        """`terms` that fit the query's budget of matched rows, rarest first (at least the rarest one),
        in their own order. FTS5 scores every row a term matches, so one common word ("de", "año")
        costs more than the rest of the query for almost no weight (docs/benchmarks.md, "BM25 at size")."""
        rows = {t: n for t in dict.fromkeys(terms) if (n := self._rows_with(t))}  # a term in no row cannot match
        kept: set[str] = set()
        spent = 0
        for term in sorted(rows, key=rows.__getitem__):
            if kept and spent + rows[term] > ROW_BUDGET:
                break
            kept.add(term)
            spent += rows[term]
        return [t for t in rows if t in kept]

    def _rows_with(self, term: str) -> int:
        """How many sentences hold `term`, remembered: fts5vocab counts them by reading the term's
        whole posting list (7 ms for "el" at 100k chunks), and common terms recur in every question."""
        if term not in self._row_counts:
            if len(self._row_counts) > ROW_COUNTS_KEPT:
                self._row_counts.clear()
            row = self.db.execute(f"SELECT doc FROM temp.{self._vocab()} WHERE term=?", (term,)).fetchone()
            self._row_counts[term] = int(row[0]) if row else 0
        return self._row_counts[term]

    def _vocab(self) -> str:
        """A temp fts5vocab view of the sentences' terms and their row counts; temp, so a read-only
        index stays untouched."""
        if not self._has_vocab:
            self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.sentences_vocab USING fts5vocab(main, 'sentences_fts', 'row')")
            self._has_vocab = True
        return "sentences_vocab"
