"""Issue 27 in a real headless Chromium, over the fake models (tests/interfaces/pages/fake_app.py): nothing a
document, a file name or the model's reply holds reaches a listener on 127.0.0.1, text reads back as
typed, and four sessions asking at once all answer."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from conftest import SEED
from fakes import FakeEmbedder
from test_browser import ARTIFACTS, CHROMIUM, _answered, _submit, streamlit_page

from docqa.config import load_settings
from docqa.interfaces.services import Services

pytestmark = pytest.mark.slow


class Listener:
    """Counts every connection to 127.0.0.1:port: a page that fetched or pre-connected to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.hits.append(conn.recv(200) or b"(connected)")
            except OSError:
                self.hits.append(b"(connected)")
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        self.sock.close()


def _hostile(port: int) -> dict[str, str]:
    url = f"127.0.0.1:{port}"
    return {
        "albatros.txt": (
            f"El logotipo de Albatros es ![logo](http://{url}/img.png) con [enlace](http://{url}/link), "
            f"<http://{url}/auto>, http://{url}/bare.png, www.ejemplo.com, correo@ejemplo.com y "
            f"<img src='http://{url}/h.png'> en la portada.\n"),
        "lema.txt": "El lema del equipo Condor es 'rápido' y \"seguro\" <siempre> & unido.\n",
        f"![x](http:{url}).md": "El proyecto Gaviota guarda el código 9182 en su archivo.\n",
    }


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (make test installs it with apt-get where it can)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    root = tmp_path_factory.mktemp("hostile")
    listener = Listener()
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / SEED.name).write_text(SEED.read_text("utf-8"), "utf-8")
    for name, text in _hostile(listener.port).items():
        (corpus / name).write_text(text, "utf-8")
    settings = load_settings({}).with_overrides(corpus=corpus, index=root / "index", embedder="fake")
    Services(settings, FakeEmbedder()).build()
    # After the build: one changed since (the sidebar's list), one the next build skips for its content.
    (corpus / f"x`![y](http:127.0.0.1:{listener.port})`.txt").write_text("Nuevo.\n", "utf-8")
    (corpus / f"<img src=http:127.0.0.1:{listener.port}>.txt").write_bytes(b"\x00binario" * 20)
    env = {**os.environ, "DOCQA_CORPUS": str(corpus), "DOCQA_INDEX": str(root / "index"), "DOCQA_EMBEDDER": "fake",
           "DOCQA_MODELS": str(root / "models"), "HF_HUB_OFFLINE": "1"}
    with streamlit_page("tests/interfaces/pages/fake_app.py", env) as url:
        yield url, listener, corpus
    listener.close()


@pytest.fixture(scope="module")
def browser(hostile):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
        )


def _page(browser, url: str):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    return page


def _live(page, port: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Every link, image, frame or source on the page that points at the listener."""
    return page.evaluate(
        """port => [...document.querySelectorAll('a[href], img, iframe, source, link[href], object, embed')]
             .map(e => e.href || e.src || e.data || '').filter(u => u.includes('127.0.0.1:' + port))""", port)


def test_nothing_from_documents_file_names_or_the_model_reaches_a_listener(browser, hostile) -> None:  # type: ignore[no-untyped-def]
    url, listener, _ = hostile
    page = _page(browser, url)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Changed since the build").wait_for(timeout=30_000)
    assert f"x`![y](http:127.0.0.1:{listener.port})`.txt" in sidebar.inner_text()
    seen_while_streaming: list[str] = []
    before = _submit(page, "¿Cuál es el logotipo de Albatros?")
    for _ in range(40):  # the reply streams for a few seconds: look at it while it does
        seen_while_streaming += _live(page, listener.port)
        page.wait_for_timeout(100)
    _answered(page, before)
    last = page.get_by_test_id("stChatMessage").last
    text = last.inner_text().replace("\u2060", "")
    assert f"![logo](http://127.0.0.1:{listener.port}/img.png)" in text and "<img src=" in text
    last.locator("summary", has_text="albatros.txt").first.click()
    last.locator("mark.docqa-cited").first.wait_for(timeout=10_000)
    _ask_and_open(page, "¿Qué código guarda el proyecto Gaviota?", f"![x](http:127.0.0.1:{listener.port}).md")
    # The upload's message names the file as it was given.
    page.locator("[data-testid=stFileUploaderDropzone] input[type=file]").set_input_files(
        [{"name": f"![u](http:127.0.0.1:{listener.port}).txt", "mimeType": "text/plain", "buffer": b"Subido."}])
    page.get_by_role("button", name="Save to corpus").click()
    sidebar.get_by_text("saved as").wait_for(timeout=30_000)
    page.get_by_role("button", name="Rebuild index").click()
    sidebar.get_by_text("Skipped").first.wait_for(timeout=60_000)
    assert f"<img src=http:127.0.0.1:{listener.port}>.txt" in sidebar.inner_text().replace("\u2060", "")
    page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-hostile.png"), full_page=True)
    assert not seen_while_streaming and not _live(page, listener.port)
    page.reload()
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    assert not listener.hits, listener.hits
    page.context.close()


def _ask_and_open(page, question: str, label: str) -> None:  # type: ignore[no-untyped-def]
    before = _submit(page, question)
    _answered(page, before)
    last = page.get_by_test_id("stChatMessage").last
    assert "9182" in last.inner_text(), last.inner_text()
    last.locator("summary").filter(has_text="[1]").first.click()
    last.locator("mark.docqa-cited").first.wait_for(timeout=10_000)
    assert label in last.inner_text().replace("\u2060", "")


def test_an_answer_reads_back_quotes_apostrophes_and_ampersands_as_typed(browser, hostile) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = hostile
    page = _page(browser, url)
    _answered(page, _submit(page, "¿Cuál es el lema del equipo Condor?"))
    text = page.get_by_test_id("stChatMessage").last.inner_text()
    assert "El lema del equipo Condor es 'rápido' y \"seguro\" <siempre> & unido." in text
    assert "&#x27;" not in text and "\\" not in text
    page.context.close()


def test_four_sessions_asking_at_once_all_answer(browser, hostile) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = hostile
    pages = [_page(browser, url) for _ in range(4)]
    questions = ["¿Cuál es el lema del equipo Condor?", "¿Qué código guarda el proyecto Gaviota?"] * 2
    starts = [_submit(p, q) for p, q in zip(pages, questions)]  # within half a second
    for page, before, question in zip(pages, starts, questions):
        _answered(page, before)
        last = page.get_by_test_id("stChatMessage").last.inner_text()
        assert "Failed" not in last and ("unido" in last or "9182" in last), last
    pages[-1].screenshot(path=str(ARTIFACTS / "browser-four-sessions.png"), full_page=True)
    for page in pages:
        page.context.close()


def test_an_exported_conversation_opened_in_markdown_viewers_fetches_nothing(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The export of a conversation whose question, document and model reply each hold images, a
    refresh, an unclosed comment, rendered by two viewers with raw HTML on and opened in Chromium:
    no connection, no redirect, every line shown. The same text unescaped is the control: it connects."""
    from test_chats import hostile_export, rendered

    listener = Listener()
    url = f"http://127.0.0.1:{listener.port}"
    control = f'<img src="{url}/control.png"> ![x]({url}/control2.png)\n\n<meta http-equiv="refresh" content="0;url={url}/go">'
    pages = {**rendered(hostile_export(listener.port)), "control": rendered(control)["gfm"]}
    context = browser.new_context()
    try:
        for viewer, html in pages.items():
            path = tmp_path / f"{viewer}.html"
            path.write_text(f"<!doctype html><meta charset='utf-8'><body>{html}<p id='end'>END</p></body>", "utf-8")
            page = context.new_page()
            page.goto(path.as_uri())
            page.wait_for_timeout(1500)
            if viewer == "control":
                assert listener.hits, "the control page should have connected"
                continue
            assert not listener.hits and page.url == path.as_uri(), (viewer, listener.hits, page.url)
            shown = page.inner_text("body").replace("\u2060", "")
            assert "END" in shown and "<!-- sin cerrar" in shown and "not supported by the documents" in shown
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"export-{viewer}.png"), full_page=True)
            page.close()
    finally:
        context.close()
        listener.close()
