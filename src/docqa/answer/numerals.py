"""Small numbers written as words or digits: matching them, and writing them as the sources do."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from docqa.answer.words import NUMBER_WORDS
from docqa.index import fold, folded_words

_WORDS = NUMBER_WORDS
_WORD_TO_DIGITS = {w: str(i) for words in _WORDS.values() for i, w in enumerate(words.split())}
_DIGITS_TO_WORD = {lang: dict(enumerate(words.split())) for lang, words in _WORDS.items()}
# A whole number on its own: not part of "2,4", "1600" or "4-3", where a word form makes no sense.
_SMALL = re.compile(r"(?<![\w.,/:-])(\d{1,2})(?![\w%]|[.,/:-]\d)")
# Each language's number words, as a claim may write them ("Seis", "seis").
_WORDS_WRITTEN = {
    lang: re.compile(r"\b(" + "|".join(words.split()) + r")\b", re.IGNORECASE) for lang, words in _WORDS.items()
}


def digits_of(words: Iterable[str]) -> set[str]:
    """The digits of the number words among `words` (folded, lower-case)."""
    return {_WORD_TO_DIGITS[w] for w in words if w in _WORD_TO_DIGITS}


def as_sources_write(claim: str, sources: Sequence[str], lang: str) -> str:
    """The claim with each small number written as its cited sentences write it: "4 balones"
    becomes "cuatro balones" when the source says "cuatro" and never "4", and back. The answer then
    quotes what the user sees highlighted. Only within the claim's language: across languages the
    source's word ("cuatro") is not the answer's."""
    words = _DIGITS_TO_WORD.get(lang)
    if not words or not sources:
        return claim
    have = folded_words(" ".join(sources))

    def word_for(match: re.Match[str]) -> str:
        digits = match.group(1)
        word = words.get(int(digits)) if int(digits) > 1 else None
        if word is None or digits in have or word not in have:
            return digits
        return word.capitalize() if match.start() == 0 else word

    def digits_for(match: re.Match[str]) -> str:
        word = match.group(0)
        digits = _WORD_TO_DIGITS.get(fold(word))
        if digits is None or digits == "1" or fold(word) in have or digits not in have:
            return word
        return digits

    claim = _SMALL.sub(word_for, claim)
    return _WORDS_WRITTEN[lang].sub(digits_for, claim)
