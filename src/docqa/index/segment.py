"""Language detection and sentence segmentation with character offsets, paragraphs and sections."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache

from docqa.types import Document, Sentence

LANGUAGES = ("es", "en", "fr", "de", "it", "pt", "ca", "nl")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*|\n(?=#{1,6} )")
_TERMINAL = tuple(".!?:;…»\"”’)]")
MAX_SENTENCE_CHARS = 1000


@cache
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str, default: str = "en", likely: Iterable[str] = ()) -> str:
    """Best guess among LANGUAGES; short or ambiguous text falls back to `default`, unless the
    uncertain guess is one of the `likely` languages (those of the documents asked about: "Hazme un
    resumen breve." is Spanish at 0.31)."""
    sample = text[:5000].strip()
    if not sample:
        return default
    lang, prob = _identifier().classify(sample)
    return lang if prob >= 0.5 or lang in likely else default


def title(text: str) -> str:
    """The document's first line when it reads as a heading (short, no closing punctuation), else ""."""
    first = text.lstrip("\ufeff \n\t").split("\n", 1)[0].strip().lstrip("#").strip()
    if not first or len(first) > 100 or len(first.split()) > 15 or first.endswith((".", "!", "?", "…", ":", ";", ",")):
        return ""
    return first


def paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of blank-line separated blocks, with surrounding whitespace trimmed."""
    pos = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        yield from _trim(text, pos, match.start())
        pos = match.end()
    yield from _trim(text, pos, len(text))


def _trim(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def is_heading(block: str) -> bool:
    """A short single line without closing punctuation reads as a title or section heading."""
    if block.startswith("#"):
        return True
    return "\n" not in block and len(block) <= 120 and not block.endswith(_TERMINAL)


def _segment(text: str, lang: str) -> list[str]:
    from sentencex import segment

    # Newlines inside a paragraph are usually hard wraps (PDF, plain text); a space of the
    # same length keeps offsets exact while letting the segmenter see whole sentences.
    return list(segment(lang, text.replace("\n", " ")))


def _spans(block: str, lang: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for piece in _segment(block, lang):
        start, end = pos, pos + len(piece)
        pos = end
        for s, e in _trim(block, start, end):
            yield from _cap(block, s, e)


def _cap(block: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    # Lists and tables often lack punctuation; without a cap one "sentence" could be a page.
    while end - start > MAX_SENTENCE_CHARS:
        cut = block.rfind("\n", start, start + MAX_SENTENCE_CHARS)
        if cut <= start:
            cut = block.rfind(" ", start, start + MAX_SENTENCE_CHARS)
        if cut <= start:
            cut = start + MAX_SENTENCE_CHARS
        yield from _trim(block, start, cut)
        start = cut
    yield from _trim(block, start, end)


def split_sentences(doc: Document, limit: int | None = None) -> list[Sentence]:
    """Sentences of a document, each with offsets into doc.text, its paragraph, section and page;
    with `limit`, it stops at the sentence past it (a file over the cap is never held whole)."""
    out: list[Sentence] = []
    section = 0
    for para_no, (p_start, p_end) in enumerate(paragraphs(doc.text)):
        block = doc.text[p_start:p_end]
        if is_heading(block) and out:
            section += 1
        for s, e in _spans(block, doc.lang):
            start, end = p_start + s, p_start + e
            out.append(
                Sentence(
                    doc_path=doc.path,
                    seq=len(out),
                    start=start,
                    end=end,
                    text=doc.text[start:end],
                    paragraph=para_no,
                    section=section,
                    page=doc.page_at(start),
                )
            )
            if limit is not None and len(out) > limit:
                return out
    return out
