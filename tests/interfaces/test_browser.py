"""End to end in a real headless Chromium: `streamlit run app.py` with the real models."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import REPO, SEED

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WASHINGTON = "Las dos delegaciones acordaron reunirse nuevamente en Washington"
EVIL = "El código secreto del proyecto Albatros es 4471. <script>window.__docqa_pwned = true</script> <img src=x onerror=\"window.__docqa_pwned = true\">"
ARTIFACTS = REPO / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "DOCQA_CORPUS": str(root / "corpus"), "DOCQA_INDEX": str(root / "index"),
            "DOCQA_MODELS": str(REPO / "models"), "HF_HUB_OFFLINE": "1"}


@contextmanager
def streamlit_page(script: str, env: dict[str, str]) -> Iterator[str]:
    """`streamlit run script` on a free port of 127.0.0.1, its URL once healthy, stopped afterwards."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("streamlit did not start")
            time.sleep(0.5)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(root: Path):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (make test installs it with apt-get where it can)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "albatros.txt").write_text(EVIL + "\n", "utf-8")
    (corpus / "borrador.txt").write_text("Un borrador que nadie necesita ya.\n", "utf-8")  # deleted from the library
    env = _env(root)
    subprocess.run([sys.executable, "-m", "docqa.cli", "index"], env=env, check=True, cwd=REPO)
    with streamlit_page("app.py", env) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server)
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=180_000)  # models load first
        yield page
        browser.close()


def _submit(page, question: str) -> int:  # type: ignore[no-untyped-def]
    """Type a question and send it; returns how many messages there were before."""
    before = page.get_by_test_id("stChatMessage").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    return int(before)


def _answered(page, before: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=stChatMessage]').length >= n + 2", arg=before, timeout=30_000
    )
    # The answer is final when its status reads Done and the sources are drawn.
    page.get_by_test_id("stChatMessage").last.get_by_text("Done").wait_for(timeout=300_000)


def _ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    _answered(page, _submit(page, question))


def test_answer_with_an_opened_source(page) -> None:  # type: ignore[no-untyped-def]
    _ask(page, "¿Dónde se reunirán nuevamente las delegaciones?")
    last = page.get_by_test_id("stChatMessage").last
    assert "Washington" in last.inner_text()
    # The grade's badge, with its own icon font (an emoji needs a font the browser may lack).
    assert "Verified" in last.inner_text() and "Unverified" not in last.inner_text()
    # st.status is an expander too, so open the source by its label: named by what it says.
    label = last.locator("summary", has_text="[1] ").first
    assert "Las dos delegaciones acordaron" in label.inner_text() and "characters" not in label.inner_text()
    label.click()
    mark = last.locator("mark.docqa-cited").first
    mark.wait_for(timeout=10_000)
    assert mark.inner_text().startswith(WASHINGTON)
    assert "characters" in last.inner_text()  # the offsets, in the opened view
    mark.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-answer.png"), full_page=True)


def test_script_in_a_document_shows_as_text(page) -> None:  # type: ignore[no-untyped-def]
    _ask(page, "¿Cuál es el código secreto del proyecto Albatros?")
    last = page.get_by_test_id("stChatMessage").last
    assert "4471" in last.inner_text()
    last.locator("summary", has_text="[1] ").first.click()
    last.locator("mark.docqa-cited").first.wait_for(timeout=10_000)
    # The passage shows the cited sentence with its neighbour, which starts the <script> tag.
    assert "<script>" in last.inner_text()
    last.get_by_text("Read the whole document").first.click()
    # The toggle reruns the page, which may redraw the expander closed; reopen it until the
    # whole-document view shows.
    whole = None
    for _ in range(60):
        last = page.get_by_test_id("stChatMessage").last
        whole = last.locator("mark.docqa-in-document")
        if whole.count() and whole.first.is_visible():
            break
        details = last.locator("details", has=page.locator("summary", has_text="[1] "))
        if details.count() and details.first.get_attribute("open") is None:
            details.first.locator("summary").click()
        switch = last.locator("label", has_text="Read the whole document").locator("input")
        if switch.count() and switch.first.is_visible() and not switch.first.is_checked():
            last.get_by_text("Read the whole document").first.click()  # a click during a rerun can be lost
        page.wait_for_timeout(500)
    assert whole is not None and whole.count() and whole.first.is_visible()
    assert "4471" in last.locator("mark.docqa-in-document").first.inner_text()
    assert "<script>window.__docqa_pwned = true</script>" in last.inner_text()
    assert page.evaluate("window.__docqa_pwned === undefined")
    assert page.locator("img[src=x]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "browser-script-escaped.png"), full_page=True)


def test_two_sessions_keep_answering_while_a_rebuild_publishes_and_both_switch(server: str, page, root: Path) -> None:  # type: ignore[no-untyped-def]
    """Two browser sessions at once while `docqa index` adds a document and publishes: both answer,
    each its own question, and both then answer from the new version."""
    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(server)
    other.get_by_test_id("stChatInputTextArea").wait_for(timeout=180_000)
    (root / "corpus" / "gaviota.txt").write_text("El código secreto del proyecto Gaviota es 9182.\n", "utf-8")
    rebuild = subprocess.Popen([sys.executable, "-m", "docqa.cli", "index"], env=_env(root), cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = _submit(page, "¿Dónde se reunirán nuevamente las delegaciones?")
    second = _submit(other, "¿Cuál es el código secreto del proyecto Albatros?")
    _answered(page, first)
    _answered(other, second)
    assert "Washington" in page.get_by_test_id("stChatMessage").last.inner_text()
    assert "4471" in other.get_by_test_id("stChatMessage").last.inner_text()
    output, _ = rebuild.communicate(timeout=300)
    assert rebuild.returncode == 0 and "added 1" in output, output
    for session in (page, other):
        _ask(session, "¿Cuál es el código secreto del proyecto Gaviota?")
        assert "9182" in session.get_by_test_id("stChatMessage").last.inner_text()
    other.screenshot(path=str(ARTIFACTS / "browser-second-session.png"), full_page=True)
    other.context.close()


def test_uploads_in_the_browser_keep_safe_names_refuse_bad_files_and_never_overwrite(server: str, page, root: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = root / "corpus"
    before = {p.name: p.read_bytes() for p in corpus.iterdir()}
    files = [
        {"name": "../../fuera.txt", "mimeType": "text/plain", "buffer": b"Un documento subido con una frase."},
        {"name": SEED.name, "mimeType": "text/plain", "buffer": b"Otro texto con el mismo nombre que el articulo."},
        {"name": "vacio.md", "mimeType": "text/markdown", "buffer": b"   "},
    ]
    page.locator("[data-testid=stFileUploaderDropzone] input[type=file]").set_input_files(files)
    page.get_by_role("button", name="Save to corpus").click()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("vacio.md: rejected: the file is empty").wait_for(timeout=30_000)
    assert not (root / "fuera.txt").exists() and not (root.parent / "fuera.txt").exists()  # no path traversal
    assert (corpus / "fuera.txt").read_bytes().startswith(b"Un documento")
    assert (corpus / SEED.name).read_bytes() == before[SEED.name]  # not overwritten
    assert (corpus / f"{Path(SEED.name).stem} (1).txt").exists()
    assert not (corpus / "vacio.md").exists()
    # A type the uploader does not take never reaches the server.
    page.locator("[data-testid=stFileUploaderDropzone] input[type=file]").set_input_files(
        [{"name": "virus.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}])
    page.wait_for_timeout(1500)
    assert not any(p.suffix == ".exe" for p in corpus.iterdir())
    page.screenshot(path=str(ARTIFACTS / "browser-uploads.png"), full_page=True)
    for name in ("fuera.txt", f"{Path(SEED.name).stem} (1).txt"):  # leave the corpus as the other tests expect
        (corpus / name).unlink()


def test_a_conversation_is_there_after_a_reload_and_reopens_with_its_sources(page) -> None:  # type: ignore[no-untyped-def]
    question = "¿En qué mes se reunirán nuevamente las delegaciones?"
    page.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()  # this page is shared by the module's tests
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stChatMessage]').length == 0", timeout=30_000)
    _ask(page, question)
    assert "chat=" in page.url  # the open conversation is in the URL
    page.reload()
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    # The reload comes back to the conversation it was in, not to an empty chat.
    page.get_by_test_id("stChatMessage").nth(1).wait_for(timeout=30_000)
    assert question in page.get_by_test_id("stChatMessage").first.inner_text()
    page.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stChatMessage]').length == 0", timeout=30_000)
    page.wait_for_function("() => !location.search.includes('chat=')", timeout=10_000)
    page.reload()
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.get_by_test_id("stChatMessage").count() == 0  # a new chat stays new after a reload
    page.get_by_test_id("stSidebar").get_by_role("button", name=question).first.click()
    page.get_by_test_id("stChatMessage").nth(1).wait_for(timeout=30_000)
    last = page.get_by_test_id("stChatMessage").last
    assert "enero" in last.inner_text() or "Washington" in last.inner_text()
    last.locator("summary", has_text="[1] ").first.click()
    last.locator("mark.docqa-cited").first.wait_for(timeout=10_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-reopened.png"), full_page=True)


def test_a_thumbs_down_is_saved_with_the_conversation(page, root: Path) -> None:  # type: ignore[no-untyped-def]
    from docqa.interfaces.chats import FILE, ChatStore

    _ask(page, "¿Quién encabezó la delegación de Estados Unidos?")
    last = page.get_by_test_id("stChatMessage").last
    last.get_by_label("Thumbs down").click()
    why = last.get_by_label("What was wrong? (optional)")
    why.wait_for(timeout=10_000)
    why.fill("No cita a Blinken")
    why.press("Enter")
    for _ in range(40):
        wrong = ChatStore(root / "index" / FILE).marked_wrong()
        if wrong and wrong[-1].comment:
            break
        page.wait_for_timeout(250)
    assert wrong and wrong[-1].question == "¿Quién encabezó la delegación de Estados Unidos?" and wrong[-1].comment == "No cita a Blinken"


def test_a_document_is_deleted_from_the_library_after_confirming(page, root: Path) -> None:  # type: ignore[no-untyped-def]
    side = page.get_by_test_id("stSidebar")
    side.get_by_text("indexed documents").click()
    row = side.get_by_test_id("stExpanderDetails")
    row.get_by_text("borrador.txt").wait_for(timeout=10_000)
    # The buttons come in document order (albatros, borrador, seed): the second "Delete…" is borrador's.
    side.get_by_role("button", name="Delete…").nth(1).click()
    side.get_by_text("Delete borrador.txt from the corpus folder").wait_for(timeout=10_000)
    side.get_by_role("button", name="Delete it").click()
    side.get_by_text("Deleted borrador.txt").wait_for(timeout=120_000)
    assert not (root / "corpus" / "borrador.txt").exists() and (root / "corpus" / SEED.name).exists()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-library.png"), full_page=True)
