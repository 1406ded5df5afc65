"""How text from documents, file names, users and the model is shown: inert Markdown, escaped HTML
and terminal-safe lines. No such text is ever emitted live."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from html import escape

from docqa.index import SentenceRow, TableRow, parse_row, title
from docqa.types import Answer, Citation, Document, Hit

_BOX = (
    "<div class='docqa-passage' style='white-space:pre-wrap;line-height:1.55;"
    "border-left:3px solid #f0b429;padding:0.4em 0.8em;max-height:{h};overflow:auto'>{body}</div>"
    "<style>mark.docqa-cited{{background:#ffe58a;padding:0 2px;border-radius:2px}}</style>"
)


# Sentences either side of a cited one fetched for its view: a table row shows its whole table
# (the paper tables docqa reads run to ~30 rows); any other sentence shows one either side.
TABLE_REACH = 40
OPENING_WORDS = 8  # of the cited sentence, in its label: enough to tell three sources apart


def location(c: Citation | Hit) -> str:
    page = f"page {c.page}, " if c.page else ""
    return f"{page}characters {c.start}–{c.end}"


def source_label(c: Citation | Hit, doc: Document | None) -> str:
    """What a source is called: its document's title (its file name when it has none), the page of a
    PDF, and the opening words of the cited sentence. The offsets are in the opened view."""
    name = (title(doc.text) if doc is not None else "") or c.doc_path
    page = f", p. {c.page}" if c.page else ""
    words = (c.sentence if isinstance(c, Citation) else c.text).split()
    opening = " ".join(words[:OPENING_WORDS]) + ("…" if len(words) > OPENING_WORDS else "")
    return f"{name}{page} — “{opening}”"


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


def source_html(doc_text: str, rows: Sequence[SentenceRow], cited_id: int) -> str:
    """A cited table row as its table, the row marked; any other sentence between its neighbours.
    `rows` reach TABLE_REACH either side of the cited sentence."""
    at = next((i for i, r in enumerate(rows) if r.id == cited_id), None)
    cited = parse_row(rows[at].text) if at is not None else None
    if at is None or cited is None:
        near = rows[max(at - 1, 0) : at + 2] if at is not None else rows
        return passage_html(doc_text, near, cited_id)
    table: list[tuple[int, TableRow]] = []
    for r in rows:  # the run of rows of the cited one's table, around it
        row = parse_row(r.text)
        if row is not None and row.label == cited.label:
            table.append((r.id, row))
        elif r.seq < rows[at].seq:
            table = []
        else:
            break
    return _table_html(table, cited_id, cited.label)


def _table_html(table: Sequence[tuple[int, TableRow]], cited_id: int, label: str) -> str:
    headers = list(dict.fromkeys(h for _, row in table for h, _ in row.cells))
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for rid, row in table:
        cells = dict(row.cells)
        mark = " class='docqa-cited'" if rid == cited_id else ""
        body.append(f"<tr{mark}>" + "".join(f"<td>{escape(cells.get(h, ''))}</td>" for h in headers) + "</tr>")
    caption = f"<caption style='caption-side:top;text-align:left'>{escape(label)}</caption>" if label else ""
    return (
        "<div class='docqa-passage docqa-table' style='border-left:3px solid #f0b429;padding:0.4em 0.8em;"
        f"max-height:32em;overflow:auto'><table>{caption}<tr>{head}</tr>{''.join(body)}</table></div>"
        "<style>.docqa-table td,.docqa-table th{padding:2px 12px;text-align:left}tr.docqa-cited td{background:#ffe58a}</style>"
    )


def document_html(text: str, start: int, end: int) -> str:
    """The whole document with [start, end) highlighted."""
    body = (
        escape(text[:start])
        + f"<mark class='docqa-cited docqa-in-document'>{escape(text[start:end])}</mark>"
        + escape(text[end:])
    )
    return _BOX.format(h="32em", body=body)


def answer_markdown(answer: Answer, escape: Callable[[str], str] | None = None) -> str:
    """Answer text for st.markdown (or, with `escape=portable`, for any Markdown viewer): inert,
    unsupported sentences flagged."""
    escape = escape or inert
    if not answer.sentences:
        return escape(answer.text)
    out = []
    for s in answer.sentences:
        marks = "".join(f" \\[{n}\\]" for n in s.citations)
        text = escape(s.text) + marks
        out.append(text if s.supported else f"{text} ⚠️ *(not supported by the documents)*")
    if answer.text.startswith("- "):  # a list: one item a line, as its text has it
        return "\n".join(f"- {line}" for line in out)
    return " ".join(out)


# C0 and C1 controls but newline and tab, DEL, and the bidirectional overrides that reorder what a
# reader sees ("Trojan Source").
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Where GFM's literal auto-links start ("http://", "www.", "name@host"). Streamlit's Markdown finds
# them after backslash escapes are read, so escaping cannot stop them; a zero-width word joiner there
# does, and changes nothing a reader sees (nor any text without a link in it).
_LINKISH = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)(?=\w)", re.IGNORECASE)


def inert(text: str) -> str:
    """`text` as Markdown that any Streamlit element (st.markdown, an alert, a caption, a label)
    shows exactly as written: no HTML, images, links, auto-links or entities. CommonMark lets any
    ASCII punctuation be backslashed, and a backslashed character is always literal."""
    text = _LINKISH.sub("\u2060", _CONTROLS.sub(" ", text))
    return "".join("\\" + c if c in string.punctuation else c for c in text)


_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# Punctuation that starts nothing in any dialect once brackets are escaped, and that Python-Markdown
# would show with its backslash: left as typed.
_PLAIN = set("\"',/;=?%:@")


def portable(text: str) -> str:
    """`text` as Markdown that every viewer shows as written, raw HTML allowed or not: CommonMark and
    GFM, but also Python-Markdown and Markdown.pl, which do not read `\\<` as a literal. So `<`, `>`
    and `&` become entities (literal text in every dialect, and no tag, comment or entity can
    start), the punctuation that means something in some dialect is backslashed, auto-links are broken as in `inert`, and
    runs of white space (newlines among them) are one space, so no line can start a block."""
    text = " ".join(_LINKISH.sub("\u2060", _CONTROLS.sub(" ", text)).split())
    return "".join(_ENTITIES.get(c) or ("\\" + c if c in string.punctuation and c not in _PLAIN else c) for c in text)


def typed(text: str) -> str:
    """A question as kept and shown: control characters (NUL among them) and bidirectional overrides
    dropped, newlines and tabs kept."""
    return _CONTROLS.sub("", text)


def terminal(text: str, escape: bool = False) -> str:
    """`text` for a terminal: control characters (escape sequences, OSC 8 links, cursor and title
    codes) and bidirectional overrides become spaces, or JSON escapes with `escape`; newlines and
    tabs stay."""
    if escape:
        return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return _CONTROLS.sub(" ", text)
