"""Words of a question that the documents never mention, and the documents' own spelling of them."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from docqa.answer.verify import unfamiliar_terms
from docqa.index import IndexReader, fold, stem


def never_mentioned(query: str, lang: str, reader: IndexReader) -> str | None:
    """A word of the question that no dictionary knows and no indexed sentence holds ("picanha"):
    the documents cannot be about it, however close their other words are."""
    absent = unfamiliar_terms(query, lang, among=lambda terms: {t for t in terms if not reader.store.holds(t)})
    return next(iter(absent.values()), None)


def spelled_like(word: str, lang: str, reader: IndexReader) -> str | None:
    """A word of the documents spelt almost like `word` ("Bendigo" for "Bedigo"), as they write it:
    a typo is the likeliest reason a name is missing, and the user can ask again with it."""
    term = stem(word, lang)
    for near in reader.store.similar_terms(term) if term else []:
        written = [t for t in re.findall(r"\w+", reader.store.sentence_with(near)) if stem(t, lang) == near]
        # Close in spelling as written, not only as stems: "picanha" is not a typo of "picante".
        match = next((t for t in written if SequenceMatcher(None, fold(t), fold(word)).ratio() >= 0.85), None)
        if match:
            return match
    return _written_apart(word, lang, reader)


def _written_apart(word: str, lang: str, reader: IndexReader) -> str | None:
    """Two words the documents write apart, as they write them ("Super Bowl" for "Superbowl")."""
    for i in range(3, len(word) - 2):
        left, right = word[:i], word[i:]
        stems = [stem(part, lang) for part in (left, right)]
        if not all(stems):
            continue
        text = reader.store.sentence_with(" ".join(stems))
        found = re.search(rf"(?<!\w){re.escape(left)}[\s-]+{re.escape(right)}(?!\w)", text, re.IGNORECASE) if text else None
        if found:
            return found.group()
    return None


def respell(text: str, word: str, near: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", near, text)
