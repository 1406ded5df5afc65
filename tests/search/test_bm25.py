"""BM25 at size: query terms too common to rank by are left out, and only on a large table."""

from __future__ import annotations

import sqlite3

import pytest

from docqa.index import termstore
from docqa.index.lexical import query_terms
from docqa.index.segment import detect_language
from docqa.interfaces.services import Services
from docqa.search.retrieve import Retriever


def test_every_term_is_kept_on_a_small_corpus(services: Services) -> None:
    services.build()
    store = services.reader().store
    terms = query_terms("¿Dónde se reunirán nuevamente las delegaciones de México?", "es")
    in_index = [t for t in terms if store.db.execute("SELECT 1 FROM sentences_fts WHERE sentences_fts MATCH ?",
                                                     (f'"{t}"',)).fetchone()]
    assert store.selective(terms) == in_index


def test_the_commonest_terms_are_left_out_past_the_row_budget(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    services.build()
    store = services.reader().store
    terms = query_terms("delegaciones de", "es")
    rows = {t: store.db.execute("SELECT count(*) FROM sentences_fts WHERE sentences_fts MATCH ?", (f'"{t}"',)).fetchone()[0]
            for t in terms}
    rare, common = terms  # "de" is in almost every sentence of the seed article, "delegaciones" in a few
    assert 0 < rows[rare] < rows[common]
    monkeypatch.setattr(termstore, "ROW_BUDGET", rows[rare] + rows[common] - 1)
    assert store.selective(terms) == [rare]
    assert store.bm25(terms, 5) == store.bm25([rare], 5, every_term=True)
    assert store.bm25(terms, 5, every_term=True) != store.bm25([rare], 5)
    monkeypatch.setattr(termstore, "ROW_BUDGET", 1)  # the rarest term stays, whatever the budget
    assert store.selective([common, rare]) == [rare]
    monkeypatch.setattr(termstore, "ROW_BUDGET", rows[rare] + rows[common])
    assert store.selective(terms) == terms


def test_chunks_rank_by_their_best_bm25_sentence(services: Services) -> None:
    services.build()
    reader = services.reader()
    retriever = Retriever(reader, services.embedder())
    query = "¿Con quién viajó a Lisboa la Dra. Pérez?"
    lexical = reader.store.bm25(query_terms(query, detect_language(query)), 40)
    chunks = retriever.rank_chunks(query, 3, "bm25")
    best = reader.store.sentences([lexical[0][0]])[0]
    assert lexical and chunks[0] == (best.chunk_id, lexical[0][1])
    assert len({c for c, _ in chunks}) == len(chunks)


def test_user_text_is_never_fts_syntax(services: Services) -> None:
    services.build()
    store = services.reader().store
    for text in ('"', "NEAR(", "a OR b*", "AND NOT -"):
        assert isinstance(store.bm25(query_terms(text, "es"), 5), list)


def test_an_earlier_releases_chunk_bm25_table_goes_at_the_next_build(services: Services, corpus) -> None:  # type: ignore[no-untyped-def]
    services.build()
    folder = services.reader().folder
    db = sqlite3.connect(folder / "store.sqlite")
    db.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(terms)")
    db.commit()
    db.close()
    (corpus / "nuevo.txt").write_text("Un documento nuevo sobre Lisboa.\n", "utf-8")
    services.build()
    tables = {r[0] for r in sqlite3.connect(services.reader().folder / "store.sqlite").execute("SELECT name FROM sqlite_master")}
    assert "sentences_fts" in tables and "chunks_fts" not in tables
