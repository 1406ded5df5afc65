"""Conversations kept beside the index: saved as they complete, listed, reopened, exported, deleted;
a store that cannot be used is one line and the chat goes on."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_app import _ask

from docqa import cli
from docqa.config import load_settings
from docqa.interfaces.chats import FILE, ChatStore, ChatStoreError, Exchange, markdown
from docqa.interfaces.render import inert, portable
from docqa.interfaces.services import Services
from docqa.types import Answer, AnswerSentence, Citation, Hit

WASHINGTON = "Las dos delegaciones acordaron reunirse nuevamente en Washington en enero de 2024."


def _answer() -> Answer:
    hit = Hit(7, 2, "seed.txt", WASHINGTON, 2396, 2478, None, 0.9, 0.88)
    return Answer("Se reunirán en Washington. [1]", False, "es", (Citation(1, "seed.txt", WASHINGTON, 2396, 2478, None, 0.9),),
                  (AnswerSentence("Se reunirán en Washington.", (1,), True),), (hit,), timings={"ttft_s": 2.5}, shape="fact")


def test_an_exchange_is_kept_with_its_citations_and_comes_back_the_same(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / FILE)
    first, _ = store.add(None, "¿Dónde se reunirán?", _answer(), "model.gguf", {"seed.txt": "abc"})
    store.add(first, "¿Y cuándo?", Answer("No encuentro.", True, "es", reason="weak evidence"), "model.gguf", {})
    second, _ = store.add(None, "What is it about?", _answer(), "model.gguf", {})
    again = ChatStore(tmp_path / FILE)  # another session, or the app restarted
    assert [(c.id, c.title, c.turns) for c in again.conversations()] == [(second, "What is it about?", 1), (first, "¿Dónde se reunirán?", 2)]
    kept = again.exchanges(first)
    assert kept[0].answer == _answer() and kept[0].versions == {"seed.txt": "abc"} and kept[0].model == "model.gguf"
    assert kept[1].answer.abstained and kept[1].answer.reason == "weak evidence"
    text = markdown("¿Dónde se reunirán?", kept)
    assert f"> \\[1\\] {portable(WASHINGTON)}" in text and "seed\\.txt, characters 2396–2478" in text
    assert "*Why: weak evidence*" in text and "*🔎 Not found: your documents do not hold this\\.*" in text
    assert "*✅ Verified: each sentence is stated by the source it cites\\.*" in text
    assert [e.answer.grade for e in kept] == ["verified", "not_found"]
    assert again.delete(first) and not again.exchanges(first) and [c.id for c in again.conversations()] == [second]


@pytest.mark.parametrize("damage", ["corrupt", "a folder"])
def test_a_store_that_cannot_be_used_is_one_line_naming_the_file(tmp_path: Path, damage: str) -> None:
    path = tmp_path / FILE
    if damage == "corrupt":
        path.write_bytes(b"this is not a database" * 100)
    else:
        path.mkdir()
    with pytest.raises(ChatStoreError) as err:
        ChatStore(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_conversation_outlives_its_session_and_reopens_with_its_sources(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _ask(sessions(), "¿Dónde se reunirán nuevamente las delegaciones?")
    later = sessions()  # a reload: a new session with nothing in it
    assert not later.chat_message
    [opener] = [b for b in later.sidebar.button if b.label == inert("¿Dónde se reunirán nuevamente las delegaciones?")]
    opener.click().run()
    assert any("Washington" in m.value for m in later.chat_message[-1].markdown)
    assert any(e.label.startswith("\\[1\\]") or e.label.startswith("[1]") for e in later.expander)
    # The cited document changes: the reopened answer says so.
    seed = Path(load_settings().corpus) / "seed.txt"
    seed.write_text(seed.read_text("utf-8") + "\n\nUna frase nueva.\n", "utf-8")
    Services(load_settings()).build()
    opener = next(b for b in later.sidebar.button if b.label == inert("¿Dónde se reunirán nuevamente las delegaciones?"))
    opener.click().run()
    assert any("Changed since this answer" in c.value for c in later.chat_message[-1].caption)
    next(b for b in later.sidebar.button if b.label == "✕").click().run()
    assert not later.chat_message and not ChatStore(tmp_path / "index" / FILE).conversations()


def test_a_reload_comes_back_to_the_open_conversation_by_its_id_in_the_url(sessions) -> None:  # type: ignore[no-untyped-def]
    at = _ask(sessions(), "¿Dónde se reunirán nuevamente las delegaciones?")
    chat = at.query_params["chat"]
    chat = chat[0] if isinstance(chat, list) else chat
    later = sessions(query={"chat": chat})  # the same URL in a new session: a reload
    assert len(later.chat_message) == 2 and "reunirán nuevamente" in later.chat_message[0].text[0].value
    assert any("Washington" in m.value for m in later.chat_message[-1].markdown)
    gone = sessions(query={"chat": "999"})  # a conversation deleted since: a new chat
    assert not gone.chat_message and "chat" not in gone.query_params


def test_the_chat_still_answers_when_the_store_cannot_be_used(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "index" / FILE).write_bytes(b"not a database" * 100)
    at = _ask(sessions(), "¿Dónde se reunirán nuevamente las delegaciones?")
    assert any("Washington" in m.value for m in at.chat_message[-1].markdown)
    assert any("cannot be used" in w.value for w in at.sidebar.warning)


def test_docqa_chats_lists_exports_and_deletes(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "index" / FILE)
    cid, _ = store.add(None, "¿Dónde se reunirán?", _answer(), "model.gguf", {})
    run = CliRunner()
    listed = run.invoke(cli.main, ["chats", "list", "--index", str(tmp_path / "index"), "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)["title"] == "¿Dónde se reunirán?"
    out = tmp_path / "chat.md"
    assert run.invoke(cli.main, ["chats", "export", str(cid), "--index", str(tmp_path / "index"), "--out", str(out)]).exit_code == 0
    assert f"> \\[1\\] {portable(WASHINGTON)}" in out.read_text("utf-8")
    assert run.invoke(cli.main, ["chats", "delete", str(cid), "--index", str(tmp_path / "index")]).exit_code == 0
    missing = run.invoke(cli.main, ["chats", "export", str(cid), "--index", str(tmp_path / "index")])
    assert missing.exit_code == 1 and "no conversation" in missing.output and "Traceback" not in missing.output


def test_a_thumbs_down_with_its_comment_is_saved_and_exported_as_a_question_to_ask_again(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    at = _ask(sessions(), "¿Dónde se reunirán nuevamente las delegaciones?")
    at.feedback[0].set_value(0).run()  # thumbs down
    at.text_input(key=at.text_input[0].key).set_value("Faltó la fecha").run()
    assert not at.exception
    [wrong] = ChatStore(tmp_path / "index" / FILE).marked_wrong()
    assert wrong.feedback == 0 and wrong.comment == "Faltó la fecha" and "Washington" in wrong.answer.text
    out = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(cli.main, ["feedback", "export", str(out), "--index", str(tmp_path / "index")])
    assert result.exit_code == 0 and "wrote 1 question" in result.output
    [row] = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert row["question"] == "¿Dónde se reunirán nuevamente las delegaciones?" and row["lang"] == "es"
    assert row["rejected_answers"] == [wrong.answer.text] and row["type"] == "answerable"


def hostile_export(port: int) -> str:
    """An exported conversation whose question, document and model reply each try to fetch from
    127.0.0.1:`port`, redirect the viewer, or hide the rest of the file; one sentence is unsupported."""
    url = f"http://127.0.0.1:{port}"
    cited = f"Logo ![x]({url}/doc.png) y <img src='{url}/doc2.png'> aquí <!-- sin cerrar"
    hit = Hit(3, 1, "<b>x</b>.txt", cited, 0, len(cited), None, 0.9, 0.9)
    said = f"El logo es ![x]({url}/model.png) en {url}/bare.png y www.ejemplo.com."
    answer = Answer(f"{said} [1] Es azul.", False, "es", (Citation(1, "<b>x</b>.txt", cited, 0, len(cited), 2, 0.9),),
                    (AnswerSentence(said, (1,), True), AnswerSentence("Es azul.", (), False)), (hit,), shape="fact")
    question = (f'<meta http-equiv="refresh" content="0;url={url}/go"><img src="{url}/q.png"> '
                f"¿Cuál es el logo?\x00 <!-- {url}")
    return markdown(question, [Exchange(1, question, answer, "m", {}, 0.0)])


def rendered(text: str) -> dict[str, str]:
    """The export as two common viewers render it, raw HTML on: GFM with linkify (markdown-it-py) and Python-Markdown."""
    markdown_it = pytest.importorskip("markdown_it")
    python_markdown = pytest.importorskip("markdown")
    gfm = markdown_it.MarkdownIt("gfm-like", {"html": True, "linkify": True})
    return {"gfm": gfm.render(text), "python-markdown": python_markdown.markdown(text)}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.comments = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments += 1


def test_an_export_is_inert_in_any_markdown_viewer_and_keeps_the_support_marks() -> None:
    text = hostile_export(9)
    assert "\x00" not in text
    for viewer, html in rendered(text).items():
        seen = _Tags()
        seen.feed(html)
        live = [(t, a) for t, a in seen.tags if t not in {"h1", "p", "strong", "em", "blockquote", "br"} or a]
        assert not live and not seen.comments, (viewer, live)
        shown = " ".join("".join(seen.text).replace("\u2060", "").split())
        for typed in ("<img src='http://127.0.0.1:9/doc2.png'>", "![x](http://127.0.0.1:9/model.png)", "<!-- sin cerrar",
                      '<meta http-equiv="refresh"', "<b>x</b>.txt, p. 2", "www.ejemplo.com", "[1]"):
            assert typed in shown, (viewer, typed)
        assert "Es azul. ⚠️ (not supported by the documents)" in shown
        assert "Unverified: not confirmed by your documents (1 of 2 sentences" in shown


def test_control_characters_are_dropped_from_a_question_before_it_is_kept(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / FILE)
    conversation, _ = store.add(None, "¿Dónde\x00 se reunirán?\x1b[31m\u202e\nY cuándo", _answer(), "m", {})
    [kept] = store.exchanges(conversation)
    assert kept.question == "¿Dónde se reunirán?[31m\nY cuándo"
    assert "\x00" not in store.conversations()[0].title and "\x00" not in markdown("t", [kept])


def test_an_answer_just_kept_is_listed_and_can_be_exported_at_once(sessions) -> None:  # type: ignore[no-untyped-def]
    at = _ask(sessions(), "¿Dónde se reunirán nuevamente las delegaciones?")
    assert any(b.label == inert("¿Dónde se reunirán nuevamente las delegaciones?") for b in at.sidebar.button)
    assert at.sidebar.get("download_button"), "no Export as Markdown after the first answer"
