"""The page's panels beside the chat: the document library, the kept conversations, feedback on an answer."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from docqa.index import OCR_MARK
from docqa.interfaces.chats import ChatStore, ChatStoreError, markdown
from docqa.interfaces.render import document_html, inert
from docqa.interfaces.services import Services

LISTED = 200  # documents the library lists on the page


def library(services: Services, status: dict[str, Any]) -> None:
    """The indexed documents (from the `status` the sidebar has read): each one's type, size,
    sentences and state; open one, or delete it from the corpus and the index after a confirmation
    (the old index answers until the new one is built)."""
    docs = services.library(status)
    st.header("Documents")
    with st.expander(f"{len(docs)} indexed document{'s' * (len(docs) != 1)}"):
        for d in docs[:LISTED]:
            path = str(d["path"])
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(d["modified"])))
            state = f" · **{inert(d['stale'])} since the build**" if d["stale"] else ""
            if str(d.get("read", "")).startswith(OCR_MARK):  # "OCR (eng), 28 pages"
                state = f" · {inert(d['read'])}{state}"
            st.markdown(f"{inert(path)}  \n{inert(d['type'])} · {int(d['size']) / 1024:,.1f} KB · "
                        f"{d['sentences']} sentences · modified {when}{state}")
            opening, deleting = st.columns(2)
            if opening.button("Open", key=f"open-doc-{path}"):
                st.session_state.viewing = path
            if deleting.button("Delete…", key=f"delete-doc-{path}"):
                st.session_state.deleting = path
            if st.session_state.get("deleting") == path:
                confirm_delete(services, path)
        if len(docs) > LISTED:
            st.caption(f"… and {len(docs) - LISTED:,} more (`docqa docs list` shows them all).")
    if done := st.session_state.pop("library_done", None):
        st.info(inert(done))


def confirm_delete(services: Services, path: str) -> None:
    st.warning(inert(f"Delete {path} from the corpus folder and the index? The file is removed."))
    sure, keep_it = st.columns(2)
    if sure.button("Delete it", type="primary", key=f"confirm-doc-{path}"):
        st.session_state.deleting = None
        try:
            report = services.delete_document(path)
            st.session_state.library_done = f"Deleted {path}; index updated ({len(report.removed)} removed)."
        except Exception as err:  # noqa: BLE001 - a file that cannot be deleted is a message
            st.session_state.library_done = str(err)
        st.rerun()
    if keep_it.button("Cancel", key=f"cancel-doc-{path}"):
        st.session_state.deleting = None
        st.rerun()


def document_view(services: Services) -> None:
    """The document opened from the library, in the viewer the sources use."""
    path = st.session_state.get("viewing")
    if not path:
        return
    doc = services.reader().store.document(path)
    if doc is None:
        st.session_state.viewing = None
        return
    with st.expander(inert(f"📄 {path}"), expanded=True):
        st.html(document_html(doc.text, 0, 0))
        if st.button("Close the document", key="library-close"):
            st.session_state.viewing = None
            st.rerun()


def chat_store(services: Services) -> ChatStore | None:
    """This session's connection to the conversation store; None (said once) when it cannot be used."""
    if "chats" not in st.session_state:
        try:
            st.session_state.chats = services.chats()
        except ChatStoreError as err:
            st.session_state.chats = None
            st.session_state.chats_problem = str(err)
    return st.session_state.chats


def conversations(services: Services) -> None:
    """New chat, the kept conversations newest first (open or delete one), and the open one's export;
    drawn after the chat, so that an answer just kept is listed and exported at once."""
    st.header("Conversations")
    if st.button("New chat"):
        _close()
        st.rerun()
    store = chat_store(services)
    if problem := st.session_state.get("chats_problem"):
        st.warning(inert(problem))
    if store is None:
        return
    try:
        kept = store.conversations()[:30]
        current = st.session_state.get("conversation")
        if current is not None and (title := next((c.title for c in kept if c.id == current), None)):
            st.download_button("Export as Markdown", markdown(title, store.exchanges(current)), f"docqa-chat-{current}.md", "text/markdown")
        for c in kept:
            left, right = st.columns([4, 1])
            if left.button(inert(c.title), key=f"open-{c.id}", help=f"{c.turns} question{'s' * (c.turns != 1)}",
                           type="primary" if c.id == current else "secondary"):
                _open(store, c.id)
                st.rerun()
            if right.button("✕", key=f"delete-{c.id}", help="Delete this conversation"):
                store.delete(c.id)
                if c.id == current:
                    _close()
                st.rerun()
    except ChatStoreError as err:
        st.warning(inert(str(err)))


def restore(services: Services) -> None:
    """In a new session, the conversation named in the URL (a reload comes back to it)."""
    if "conversation" in st.session_state:
        return
    st.session_state.conversation = None
    store = chat_store(services)
    if store is not None and (wanted := st.query_params.get("chat", "")).isdigit():
        try:
            _open(store, int(wanted))
        except ChatStoreError as err:
            st.session_state.chats_problem = str(err)


def _open(store: ChatStore, conversation: int) -> None:
    """Show a kept conversation, its id in the URL so that a reload comes back to it; one that is
    gone (deleted in another tab) opens a new chat."""
    exchanges = store.exchanges(conversation)
    if not exchanges:
        _close()
        return
    st.session_state.messages = [m for e in exchanges for m in (
        {"role": "user", "content": e.question},
        {"role": "assistant", "answer": e.answer, "question": e.question, "versions": e.versions, "turn": e.id})]
    st.session_state.conversation = conversation
    st.query_params["chat"] = str(conversation)


def _close() -> None:
    st.session_state.messages, st.session_state.conversation = [], None
    st.query_params.pop("chat", None)


def keep(services: Services, question: str, answer, versions: dict[str, str]) -> int | None:  # type: ignore[no-untyped-def]
    """Save the exchange as it completes (its id); a store that fails is said and the chat goes on."""
    store = chat_store(services)
    if store is None:
        return None
    try:
        st.session_state.conversation, turn = store.add(st.session_state.get("conversation"), question, answer,
                                                        services.model_line(), versions)
        st.query_params["chat"] = str(st.session_state.conversation)
        return turn
    except ChatStoreError as err:
        st.session_state.chats_problem = str(err)
        return None


def rate(message: dict) -> None:  # type: ignore[type-arg]
    """Thumbs up or down on a kept answer, and what was wrong with it, saved with the conversation."""
    turn, store = message.get("turn"), st.session_state.get("chats")
    if turn is None or store is None:
        return
    value = st.feedback("thumbs", key=f"rate-{turn}")
    comment = st.text_input("What was wrong? (optional)", key=f"why-{turn}") if value == 0 else ""
    if (value, comment) != message.get("rated", (None, "")):
        try:
            store.feedback(turn, value, comment)
            message["rated"] = (value, comment)
        except ChatStoreError as err:
            st.warning(inert(str(err)))


def changed_since(services: Services, versions: dict[str, str]) -> None:
    """Say so when a document an older answer cites has changed or gone since it was given."""
    now = services.versions(versions)
    changed = sorted(p for p, sha in versions.items() if now.get(p) != sha)
    if changed:
        st.caption(inert(f"Changed since this answer: {', '.join(changed)}; its sources show the indexed text now."))
