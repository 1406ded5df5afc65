"""HTML for the UI: escaped document text with the cited sentence highlighted. No document text is
ever emitted unescaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from docqa.store import SentenceRow
from docqa.types import Answer, Citation

_BOX = (
    "<div class='docqa-passage' style='white-space:pre-wrap;line-height:1.55;"
    "border-left:3px solid #f0b429;padding:0.4em 0.8em;max-height:{h};overflow:auto'>{body}</div>"
    "<style>mark.docqa-cited{{background:#ffe58a;padding:0 2px;border-radius:2px}}</style>"
)


def location(c: Citation) -> str:
    page = f"page {c.page}, " if c.page else ""
    return f"{page}characters {c.start}–{c.end}"


def passage_html(doc_text: str, rows: Sequence[SentenceRow], cited_id: int) -> str:
    """The cited sentence between its neighbours, highlighted, with the document's own spacing."""
    if not rows:
        return ""
    cited = next((r for r in rows if r.id == cited_id), None)
    start, end = rows[0].start, rows[-1].end
    if cited is None:
        return _BOX.format(h="none", body=escape(doc_text[start:end]))
    body = (
        escape(doc_text[start : cited.start])
        + f"<mark class='docqa-cited'>{escape(doc_text[cited.start : cited.end])}</mark>"
        + escape(doc_text[cited.end : end])
    )
    return _BOX.format(h="none", body=body)


def document_html(text: str, start: int, end: int) -> str:
    """The whole document with [start, end) highlighted."""
    body = (
        escape(text[:start])
        + f"<mark class='docqa-cited docqa-in-document'>{escape(text[start:end])}</mark>"
        + escape(text[end:])
    )
    return _BOX.format(h="32em", body=body)


def answer_markdown(answer: Answer) -> str:
    """Answer text for st.markdown: escaped, unsupported sentences flagged."""
    if not answer.sentences:
        return _md_escape(answer.text)
    out = []
    for s in answer.sentences:
        marks = "".join(f" [{n}]" for n in s.citations)
        text = _md_escape(s.text) + marks
        out.append(text if s.supported else f"{text} ⚠️ *(not supported by the documents)*")
    return " ".join(out)


def _md_escape(text: str) -> str:
    # HTML is escaped and Markdown's active characters are backslashed, so model output that
    # echoes a document's markup shows as text.
    text = escape(text)
    return "".join("\\" + c if c in "\\`*_{}[]()#+-!|~>" else c for c in text)
