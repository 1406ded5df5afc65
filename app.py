"""Streamlit page: a thin view over docqa.services (index status until the chat lands)."""

from __future__ import annotations

import streamlit as st

from docqa.config import load_settings
from docqa.services import Services

st.set_page_config(page_title="docqa", page_icon="📄", layout="wide")


@st.cache_resource(show_spinner="Loading docqa ...")
def services() -> Services:
    return Services(load_settings())


st.title("docqa")
st.caption("Private, offline Q&A over your own documents.")
try:
    info = services().status()
except Exception as err:  # noqa: BLE001 - every index problem is shown as a message, not a traceback
    st.error(str(err))
    st.stop()
cols = st.columns(3)
cols[0].metric("Documents", info["documents"])
cols[1].metric("Chunks", info["chunks"])
cols[2].metric("Sentences", info["sentences"])
st.write(f"Embedder: `{info['embedder']}` · built at {info['built_at']}")
if info["stale"]:
    st.warning("Files changed since the build; run `docqa index`:\n" + "\n".join(f"- {s['change']}: {s['path']}" for s in info["stale"]))
