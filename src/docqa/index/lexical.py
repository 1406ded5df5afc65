"""Words per language: accent folding, lower-casing and Snowball stemming for BM25, and dictionary lookups."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_WORD = re.compile(r"\w+")
# A stem this long also matches longer ones as a prefix: Snowball leaves "campeones" and "campeonato"
# apart, but they are one topic. Shared by the FTS lookups and the in-memory match, so both agree.
PREFIX_MIN = 5
_STEMMER_NAMES = {
    "es": "spanish", "en": "english", "fr": "french", "de": "german",
    "it": "italian", "pt": "portuguese", "ca": "catalan", "nl": "dutch",
}


_local = threading.local()


def _stemmer(lang: str):  # type: ignore[no-untyped-def]
    """This thread's stemmer for `lang`. Snowball's stemmers keep their state on the object: shared by
    four threads, they raised IndexError and returned wrong stems ('vaándolos' → 'fapiment'), which the
    memo below then kept. One per thread, so the memo only ever holds right stems."""
    stemmers = _local.__dict__.setdefault("stemmers", {})
    if lang not in stemmers:
        import snowballstemmer

        stemmers[lang] = snowballstemmer.stemmer(_STEMMER_NAMES.get(lang, "english"))
    return stemmers[lang]


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Migración' and 'migracion' match."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def folded_words(text: str) -> set[str]:
    """The text's words, folded: what names and numbers are matched against."""
    return set(_WORD.findall(fold(text)))


def terms(text: str, lang: str) -> list[str]:
    # Stem before folding: Snowball's Spanish rules know the accented suffixes.
    return [_term(w, lang) for w in _WORD.findall(text.lower())]


@lru_cache(maxsize=1 << 18)
def _term(word: str, lang: str) -> str:
    # Words repeat (Zipf), and Snowball in pure Python was ~95 % of the store's write time.
    return fold(_stemmer(lang).stemWord(word))


def stem(word: str, lang: str) -> str:
    """The BM25 term of one word ("" for none)."""
    return next(iter(terms(word, lang)), "")


def terms_found(wanted: Iterable[str], text: str, lang: str) -> dict[str, int]:
    """1 for each wanted term the text holds, 0 otherwise. As in the FTS lookups, a stem of
    PREFIX_MIN or more letters also matches as a prefix ("campeon" finds "campeonato")."""
    have = set(terms(text, lang))
    return {t: int(t in have or (len(t) >= PREFIX_MIN and any(h.startswith(t) for h in have))) for t in wanted}


def in_dictionary(word: str, lang: str) -> bool:
    """In simplemma's dictionary of the language, as written or as its lemma ("reabrieron")."""
    import simplemma

    try:
        return simplemma.is_known(word, lang=lang) or simplemma.is_known(simplemma.lemmatize(word, lang=lang), lang=lang)
    except ValueError:  # a language simplemma has no dictionary for
        return False


def fts_document(text: str, lang: str) -> str:
    return " ".join(terms(text, lang))


def query_terms(text: str, lang: str) -> list[str]:
    """The distinct BM25 terms of a query, in order (the store quotes them into an FTS5 OR-query)."""
    return list(dict.fromkeys(t for t in terms(text, lang) if len(t) > 1))
