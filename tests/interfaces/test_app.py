"""The Streamlit page through AppTest, with the fake embedder and a scripted LLM."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import APP, _fakes_for_the_page
from fakes import seen
from streamlit.testing.v1 import AppTest

from docqa.config import load_settings
from docqa.interfaces.services import Services


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def test_status_in_sidebar(app: AppTest) -> None:
    text = " ".join(seen(m.value) for m in app.sidebar.markdown)
    assert "**3** documents" in text


def test_the_sidebar_names_the_model_and_warns_when_it_is_uncalibrated(monkeypatch: pytest.MonkeyPatch, app: AppTest) -> None:
    from docqa.models.profile import Profile

    monkeypatch.setattr(Services, "profile", lambda self: Profile("fake"))
    monkeypatch.setattr(Services, "model_line", lambda self: "fake.gguf, uncalibrated: the NOT_FOUND guard is off")
    app.run()
    assert any("Model: fake.gguf, uncalibrated" in seen(w.value) for w in app.sidebar.warning)
    monkeypatch.setattr(Services, "profile", lambda self: Profile("fake", 0.02, "fitted"))
    monkeypatch.setattr(Services, "model_line", lambda self: "fake.gguf, calibrated (NOT_FOUND bar 0.02)")
    app.run()
    assert not app.sidebar.warning and any("Model: fake.gguf, calibrated" in seen(c.value) for c in app.sidebar.caption)


def test_ask_shows_answer_and_sources(app: AppTest) -> None:
    _ask(app, "¿Dónde se reunirán nuevamente las delegaciones?")
    answer = app.chat_message[-1]
    assert any("Washington" in seen(m.value) and "[1]" in seen(m.value) for m in answer.markdown)
    labels = [seen(e.label) for e in app.expander]
    # Named by the document and the cited sentence's opening words; the offsets are inside.
    assert any(label.startswith("[1] seed.txt — “") and "characters" not in label for label in labels)
    source = next(e for e in app.expander if seen(e.label).startswith("[1] "))
    assert any(seen(c.value).startswith("seed.txt — characters ") for c in source.caption)
    # Past answers keep their sources when the page reruns.
    app.run()
    assert any(seen(e.label).startswith("[1] seed.txt") for e in app.expander)


def test_each_answer_carries_its_grade_badge(app: AppTest) -> None:
    _ask(app, "¿Dónde se reunirán nuevamente las delegaciones?")
    assert any(":green-badge[" in m.value and "Verified" in m.value for m in app.chat_message[-1].markdown)
    _ask(app, "¿Cuál fue el presupuesto del acuerdo?")
    doubtful = app.chat_message[-1]
    assert any(":orange-badge[" in m.value and "Unverified" in m.value for m in doubtful.markdown)
    assert any("40 millones" in seen(m.value) and "not supported" in seen(m.value) for m in doubtful.markdown)
    assert any("not confirmed by your documents" in seen(c.value) for c in doubtful.caption)
    # What to check it against: the closest passages, opened in place.
    assert any("Closest passages" in seen(m.value) for m in doubtful.markdown)


def test_abstention_looks_different(app: AppTest) -> None:
    _ask(app, "¿Cuántos migrantes cruzaron la frontera?")
    assert [seen(i.value) for i in app.info] == ["No encuentro esa información en los documentos."]
    assert not [e for e in app.expander if seen(e.label).startswith("[")]
    assert any("closest documents" in seen(c.value) and "Why: " in seen(c.value) for c in app.caption)


def test_follow_up_uses_the_conversation(app: AppTest) -> None:
    _ask(app, "¿Quién encabezó la delegación de Estados Unidos?")
    _ask(app, "¿Y qué cargo tiene?")
    assert any("secretario de Estado" in seen(m.value) for m in app.chat_message[-1].markdown)


def test_clear_conversation(app: AppTest) -> None:
    _ask(app, "¿Dónde se reunirán nuevamente las delegaciones?")
    next(b for b in app.sidebar.button if b.label == "New chat").click().run()
    assert len(app.chat_message) == 0


def test_missing_index_is_a_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch, corpus: Path, tmp_path: Path) -> None:
    _fakes_for_the_page(monkeypatch, corpus, tmp_path / "no-index")
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("docqa index" in seen(e.value) for e in at.sidebar.error)
    _ask(at, "¿Dónde?")
    assert any("docqa index" in seen(e.value) for e in at.error)


def test_a_misspelt_name_offers_the_question_with_the_documents_spelling(app: AppTest) -> None:
    _ask(app, "¿Qué cargo tiene Blinkin?")
    assert any("they do mention “Blinken”" in seen(c.value) for c in app.chat_message[-1].caption)
    button = next(b for b in app.button if seen(b.label).startswith("Ask instead"))
    assert seen(button.label) == "Ask instead: ¿Qué cargo tiene Blinken?"
    button.click().run()
    assert not app.exception, app.exception
    answer = app.chat_message[-1]
    assert any("secretario de Estado" in seen(m.value) for m in answer.markdown)
    # Once used, the offer is gone from the older answer.
    assert not [b for b in app.button if seen(b.label).startswith("Ask instead")]


def test_an_unusable_setting_is_one_message_on_the_page_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    monkeypatch.setenv("DOCQA_THREADS", "many")
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("DOCQA_THREADS='many'" in seen(e.value) for e in at.error)
    st.cache_resource.clear()


def test_an_empty_question_in_the_chat_says_what_to_do(app: AppTest) -> None:
    _ask(app, "   ")
    assert any("question is empty" in seen(i.value) for i in app.info)


def test_a_damaged_index_is_a_message_with_the_fix_on_the_page(monkeypatch: pytest.MonkeyPatch, corpus: Path, tmp_path: Path) -> None:
    import streamlit as st

    from docqa.index import layout

    _fakes_for_the_page(monkeypatch, corpus, tmp_path / "index")
    Services(load_settings()).build()
    with (layout.current_version(tmp_path / "index") / layout.SENTENCE_VECTORS).open("r+b") as fh:
        fh.truncate(100)  # damaged before the page opens it
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("damaged" in seen(e.value) and "docqa index --rebuild" in seen(e.value) for e in at.sidebar.error)
    _ask(at, "¿Dónde se reunirán nuevamente las delegaciones?")
    assert any("docqa index --rebuild" in seen(e.value) for e in at.error)  # a question says the same, no traceback


def test_an_abstention_shows_the_closest_passages_openable_and_marked_not_an_answer(app: AppTest) -> None:
    _ask(app, "¿Cuántos migrantes cruzaron la frontera?")
    assert any("Closest passages" in seen(m.value) and "not an answer" in seen(m.value) for m in app.markdown)
    labels = [seen(e.label) for e in app.expander]
    assert any(label.startswith("a. ") for label in labels) and not any(label.startswith("[") for label in labels)
    assert app.toggle and not app.exception  # each passage opens like a citation, the whole document too
