"""A PDF's pages joined into its text: each page's prose, then its tables, figures' labels and
footnotes; a sentence cut by a column, table or page break joined again; compatibility forms and
Unicode's scripts written plainly."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SOFT_HYPHENS = "\ufffe\u00ad\x02"  # pdfium marks a hyphen that only breaks a word at a line end
_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


@dataclass(frozen=True)
class Page:
    prose: list[str]  # paragraphs in reading order
    extras: list[str]  # the page's tables, figures' text and footnotes, after its prose


def joined_pages(pages: list[Page]) -> tuple[str, tuple[int, ...]]:
    """The pages' text and where each page starts in it. A sentence cut by a page break is joined
    again: its end, at the top of the next page, moves up to the page it starts on."""
    prose = [list(p.prose) for p in pages]
    for i in range(len(prose) - 1):
        if prose[i] and prose[i + 1] and _runs_on(prose[i][-1]) and _goes_on(prose[i + 1][0]):
            prose[i][-1] = f"{prose[i][-1]} {prose[i + 1].pop(0)}"
    texts = ["\n\n".join(para + page.extras).strip() for para, page in zip(prose, pages)]
    starts, pos = [], 0
    for text in texts:
        starts.append(pos)
        pos += len(text) + 2
    return "\n\n".join(texts), tuple(starts)


def _goes_on(text: str) -> bool:
    """A paragraph that can be the rest of a cut sentence: prose (not a label), opening in lower case."""
    return len(text) >= 80 and text[:1].islower()


def plain(text: str) -> str:
    return readable(text.translate(str.maketrans("", "", SOFT_HYPHENS)))


def run_on(parts: list[str], text: str) -> list[str]:
    if parts and _runs_on(parts[-1]) and _goes_on(text):
        return [*parts[:-1], f"{parts[-1]} {text}"]
    return [*parts, text]


def _runs_on(previous: str) -> bool:
    """A paragraph that stops mid-sentence (no closing punctuation, and not a heading: longer than a
    line): a column break, a table, a footnote or the page's end cut it."""
    tail = previous.rstrip()
    return len(tail) > 80 and "\n" in tail and (tail[-1:].isalnum() or tail[-1:] in ",;-")


def readable(text: str) -> str:
    """Compatibility forms written plainly (ligatures "ﬁ", full-width digits) with NFKC, after
    Unicode's own superscripts and subscripts are kept apart ("10⁴" is 10^4, not 104)."""
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻]+", lambda m: "^" + m.group().translate(_SUPER), text)
    text = re.sub(r"[₀₁₂₃₄₅₆₇₈₉]+", lambda m: "_" + m.group().translate(_SUB), text)
    return unicodedata.normalize("NFKC", text)
