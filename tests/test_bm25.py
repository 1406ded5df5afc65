"""BM25 at size: query terms too common to rank by are left out, and only on a large table."""

from __future__ import annotations

import pytest

from docqa import store as store_module
from docqa.lexical import query_terms
from docqa.services import Services


def test_every_term_is_kept_on_a_small_corpus(services: Services) -> None:
    services.build()
    store = services.reader().store
    terms = query_terms("¿Dónde se reunirán nuevamente las delegaciones de México?", "es")
    in_index = [t for t in terms if store.db.execute("SELECT 1 FROM sentences_fts WHERE sentences_fts MATCH ?",
                                                     (f'"{t}"',)).fetchone()]
    assert store.selective("sentences_fts", terms) == in_index


def test_a_common_term_is_left_out_once_the_table_is_large(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    services.build()
    store = services.reader().store
    # The seed article's sentences all but always hold "de"; "delegaciones" only a few of them.
    monkeypatch.setattr(store_module, "COMMON_ROWS", 2)
    monkeypatch.setattr(store_module, "COMMON_SHARE", 0.3)
    terms = query_terms("delegaciones de", "es")
    assert len(terms) == 2
    kept = store.selective("sentences_fts", terms)
    assert kept == [terms[0]]
    assert store.bm25("sentences_fts", terms, 5) == store.bm25("sentences_fts", kept, 5, every_term=True)
    assert store.bm25("sentences_fts", terms, 5, every_term=True) != store.bm25("sentences_fts", kept, 5)
    monkeypatch.setattr(store_module, "COMMON_ROWS", 10_000)
    assert store.selective("sentences_fts", terms) == terms


def test_user_text_is_never_fts_syntax(services: Services) -> None:
    services.build()
    store = services.reader().store
    for text in ('"', "NEAR(", "a OR b*", "AND NOT -"):
        assert isinstance(store.bm25("sentences_fts", query_terms(text, "es"), 5), list)
