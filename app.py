"""Streamlit chat page: a thin view over docqa.services; all logic lives in the package."""

from __future__ import annotations

from html import escape

import streamlit as st

from docqa.answer import Token, Turn
from docqa.config import SUPPORTED_EXTENSIONS, SettingsError, load_settings
from docqa.index import OCR_MARK, save_uploads
from docqa.interfaces import (
    BADGES,
    TABLE_REACH,
    Progress,
    Services,
    abstention_hint,
    answer_markdown,
    crossing_note,
    document_html,
    grade_line,
    inert,
    location,
    source_html,
    source_label,
    typed,
)
from docqa.interfaces.panels import changed_since, conversations, document_view, keep, library, rate, restore
from docqa.models import EmbedderError, ModelChoiceError
from docqa.types import UNVERIFIED, VERIFIED

st.set_page_config(page_title="docqa", page_icon="📄", layout="wide")


@st.cache_resource(show_spinner="Loading the embedder and the local LLM (about 15 s, once per server) ...")
def load_services() -> Services:
    services = Services(load_settings())
    services.warm()
    return services


def sidebar(services: Services) -> tuple[int, bool]:
    with st.sidebar:
        st.header("Index")
        try:
            info = services.status()
        except Exception as err:  # noqa: BLE001 - a missing or mismatched index is a message, not a traceback
            st.error(inert(str(err)))
            info = None
        if info:
            st.markdown(
                f"**{info['documents']}** document{'s' * (info['documents'] != 1)} · **{info['chunks']}** chunks · "
                f"{info['sentences']} sentences  \n"
                f"Embedder {inert(info['embedder'])}  \nBuilt {inert(info['built_at'])}"
            )
            # An uncalibrated model runs without its NOT_FOUND guard; the user is told.
            (st.caption if info["model_calibrated"] else st.warning)(inert(f"Model: {info['model']}"))
            if info["stale"]:
                st.warning(
                    "Changed since the build:\n" + "\n".join(f"- {inert(s['change'])}: {inert(s['path'])}" for s in info["stale"])
                )
            if info["skipped"]:
                st.caption("Not indexed (unchanged since the build):\n" + "\n".join(
                    f"- {inert(s['path'])}: {inert(s['reason'])}" for s in info["skipped"]))
        if st.button("Rebuild index", help="Embeds only new or changed files; answers keep using the old index until done."):
            bar = st.progress(0.0, text="Starting ...")

            def progress(stage: str, done: int, total: int) -> None:
                bar.progress(done / total if total else 1.0, text=f"{stage}: {done}/{total}")

            try:
                report = services.rebuild(progress=progress)
                st.success(f"Index updated: {len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed.")
                for s in report.skipped:
                    st.warning(inert(f"Skipped {s.path}: {s.reason}"))
            except Exception as err:  # noqa: BLE001
                st.error(inert(str(err)))
        if info:
            library(services, info)
        st.header("Add documents")
        files = st.file_uploader("Upload", type=[e.lstrip(".") for e in SUPPORTED_EXTENSIONS], accept_multiple_files=True)
        if files and st.button("Save to corpus"):
            batch = [(f.name, f.getvalue()) for f in files]
            for result in save_uploads(services.settings.corpus, batch, int(services.settings.max_file_mb * 1e6)):
                (st.success if result.saved_as else st.error)(inert(f"{result.original}: {result.message}"))
        st.header("Chat")
        k = st.slider("Sources to retrieve", 3, 15, 8)
        show_all = st.checkbox("Show everything retrieved")
    return k, show_all


def show_sources(services: Services, answer, key: str, show_all: bool, latest: bool = True) -> None:  # type: ignore[no-untyped-def]
    if answer.abstained:
        if hint := abstention_hint(answer):
            st.caption(inert(hint))
        # Offered on the latest answer only: an older one's suggestion belongs to a finished exchange.
        if answer.suggestion and latest and st.button(inert(f"Ask instead: {answer.suggestion}"), key=f"{key}-suggest"):
            st.session_state.pending_question = answer.suggestion
            st.rerun()
        closest_passages(services, answer, key, "(what the documents say; not an answer)")
        _everything(answer, show_all)
        return
    if note := crossing_note(answer):
        st.caption(inert(note))
    if answer.citations:
        st.markdown("**Sources**")
        gone = services.missing_sources([c.doc_path for c in answer.citations])
        store = services.reader().store
        for c in answer.citations:
            hit = next((h for h in answer.retrieved if h.start == c.start and h.doc_path == c.doc_path), None)
            label = f"[{c.n}] {source_label(c, store.document(c.doc_path))}"
            passage(services, label, c.doc_path, hit, f"{key}-doc-{c.n}", gone, (c.start, c.end), location(c))
    if answer.grade == UNVERIFIED:
        closest_passages(services, answer, key, "(to check the answer against)")
    _everything(answer, show_all)


def closest_passages(services: Services, answer, key: str, why: str) -> None:  # type: ignore[no-untyped-def]
    """What the documents say closest to the question, beside an answer not found or not verified."""
    if closest := answer.closest():
        st.markdown(f"**Closest passages** {why}")
        gone = services.missing_sources([h.doc_path for h in closest])
        store = services.reader().store
        for n, h in enumerate(closest, 1):
            label = f"{'ab'[n - 1]}. {source_label(h, store.document(h.doc_path))}"
            passage(services, label, h.doc_path, h, f"{key}-near-{n}", gone)


def _everything(answer, show_all: bool) -> None:  # type: ignore[no-untyped-def]
    if show_all and answer.retrieved:
        with st.expander("Everything retrieved"):
            for h in answer.retrieved:
                st.html(f"<div><code>{h.score:.4f}</code> {escape(h.doc_path)}: {escape(h.text)}</div>")


def passage(services: Services, label: str, doc_path: str, hit, key: str, gone: list[str],  # type: ignore[no-untyped-def]
            span: tuple[int, int] | None = None, where: str = "") -> None:
    """One source, opened in place: where it is, the sentence between its neighbours, and the whole
    document on request."""
    # Open again after a rerun that one of its own toggles caused (showing the page, the whole document).
    opened = bool(st.session_state.get(key)) or bool(st.session_state.get(f"{key}-page"))
    with st.expander(inert(label), expanded=opened):
        st.caption(inert(f"{doc_path} — {where or location(hit)}") if hit is not None or where else inert(doc_path))
        store = services.reader().store
        doc = store.document(doc_path)
        if doc is None:
            st.warning(inert(f"{doc_path} is no longer in the index; rebuild to refresh this answer's sources."))
            return
        if doc_path in gone:
            st.warning(inert(f"{doc_path} was deleted from the corpus since the build; this is the indexed copy. "
                             "Rebuild the index to drop it."))
        if doc.encoding.startswith(OCR_MARK):
            st.caption(inert(f"Scanned: read by {doc.encoding}; OCR may misread a word or a figure."))
        elif doc.encoding not in ("", "utf-8"):
            st.caption(inert(f"Read as {doc.encoding}."))
        if hit is not None:
            st.html(source_html(doc.text, store.neighbours(hit.sentence_id, TABLE_REACH, TABLE_REACH), hit.sentence_id))
            _page_view(services, doc_path, hit, key)
        start, end = span or (hit.start, hit.end)
        if st.toggle("Read the whole document", key=key):
            st.html(document_html(doc.text, start, end))


def _page_view(services: Services, doc_path: str, hit, key: str) -> None:  # type: ignore[no-untyped-def]
    """A PDF's page, with the cited sentence marked on it, on request (rendering takes a moment)."""
    if not doc_path.lower().endswith(".pdf") or not hit.page or not st.toggle(f"Show it on page {hit.page}", key=f"{key}-page"):
        return
    shown = services.page_image(doc_path, hit.page, hit.text)
    if shown is None:
        st.caption(inert(f"Page {hit.page} of {doc_path} cannot be shown: the file is no longer in the corpus."))
        return
    png, marked = shown
    st.image(png, caption=f"p. {hit.page}" + ("" if marked else " — the sentence could not be located on the page image"))


def main() -> None:
    st.title("docqa")
    st.caption("Private, offline answers from your documents, with the exact sentences they come from.")
    try:
        services = load_services()
    except (SettingsError, EmbedderError, ModelChoiceError) as err:  # a setting to fix: say which, not a traceback
        st.error(inert(str(err)))
        st.stop()
    k, show_all = sidebar(services)
    document_view(services)
    restore(services)
    try:
        chat(services, k, show_all)
    finally:  # after the chat, so the conversation just kept is listed (and exported) at once
        with st.sidebar:
            conversations(services)


def chat(services: Services, k: int, show_all: bool) -> None:
    messages = st.session_state.setdefault("messages", [])
    # A question typed, or one offered with the documents' spelling after a typo. The input stays
    # pinned below the conversation wherever it is called; it is read first so that the last answer
    # knows whether it is still the latest.
    asked = st.chat_input("Ask about your documents (Spanish or English)") or st.session_state.pop("pending_question", None)
    question = typed(asked) if asked else None
    for i, m in enumerate(messages):
        with st.chat_message(m["role"]):
            if m["role"] == "user":
                st.text(m["content"])
            else:
                changed_since(services, m.get("versions", {}))
                render_answer(services, m["answer"], f"m{i}", show_all, latest=not question and i == len(messages) - 1)
                rate(m)
    if not question:
        return
    with st.chat_message("user"):
        st.text(question)
    history = [Turn.of(m["question"], m["answer"]) for m in messages if m["role"] == "assistant"]
    messages.append({"role": "user", "content": question})
    with st.chat_message("assistant"):
        shown = Progress()
        status = st.status(shown.label)
        try:
            placeholder = st.empty()
            for event in services.stream(question, history, k):
                label = shown.label
                shown.update(event)
                if shown.label != label:
                    status.update(label=shown.label)
                if shown.redrafted:
                    placeholder.empty()
                elif isinstance(event, Token):
                    placeholder.markdown(inert(shown.streamed) + " ▌")
            placeholder.empty()
            answer = shown.answer
        except Exception as err:  # noqa: BLE001
            status.update(label="Failed", state="error")
            st.error(inert(str(err)))
            return
        render_answer(services, answer, f"m{len(messages)}", show_all)
        versions = services.versions({c.doc_path for c in answer.citations})
        message = {"role": "assistant", "answer": answer, "question": question, "versions": versions}
        message["turn"] = keep(services, question, answer, versions)
        messages.append(message)
        rate(message)
        # "Done" only once the answer and its sources are on the page, and it is kept.
        status.update(label="Done", state="complete")


# The grade badge: its colour, and an icon from the font the page ships (an emoji needs the
# reader's own emoji font, which a server or kiosk browser may lack).
_BADGE_STYLES = {VERIFIED: ("green", ":material/verified:"), UNVERIFIED: ("orange", ":material/warning:")}


def render_answer(services: Services, answer, key: str, show_all: bool, latest: bool = True) -> None:  # type: ignore[no-untyped-def]
    if answer.abstained:
        st.info(inert(answer.text), icon=":material/search_off:")
    else:
        st.markdown(answer_markdown(answer))
        label = BADGES[answer.grade].split(" ", 1)[1]
        colour, icon = _BADGE_STYLES[answer.grade]
        line = grade_line(answer)
        st.badge(label, icon=icon, color=colour, help=inert(line))
        if answer.grade != VERIFIED:
            st.caption(inert(line.split(": ", 1)[1]))
    show_sources(services, answer, key, show_all, latest)


main()
