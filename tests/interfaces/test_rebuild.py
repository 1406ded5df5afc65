"""The page's rebuild runs in a child process: its progress reaches the page, and a child that dies
(a document that exhausts memory) is one line on the page while the previous index still answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import fake_models_in_this_process, killed_by_the_kernel
from test_app import _ask

from docqa.config import load_settings
from docqa.interfaces import rebuild
from docqa.interfaces.services import Services


def test_a_rebuild_in_a_child_process_builds_the_index_and_reports_progress(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(rebuild, "SETUP", fake_models_in_this_process)
    heard: list[tuple[str, int, int]] = []
    report = Services(settings).rebuild(progress=lambda *p: heard.append(p))
    assert report.documents == 3 and set(report.added) == {"seed.txt", "notas.md", "english.txt"}
    assert heard and heard[-1][1] == heard[-1][2]
    assert Services(settings).reader().store.counts()["documents"] == 3


def test_a_rebuild_that_is_killed_is_one_line_and_the_old_index_still_serves(settings, corpus: Path,  # type: ignore[no-untyped-def]
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild, "SETUP", fake_models_in_this_process)
    Services(settings).rebuild()
    version = Services(settings).reader().version
    (corpus / "nuevo.txt").write_text("Un documento nuevo. Con dos frases.\n", "utf-8")
    monkeypatch.setattr(rebuild, "SETUP", killed_by_the_kernel)
    with pytest.raises(rebuild.RebuildFailed) as err:
        Services(settings).rebuild()
    assert "SIGKILL" in str(err.value) and "previous index still answers" in str(err.value) and "\n" not in str(err.value)
    assert Services(settings).reader().version == version


def test_the_page_says_a_killed_rebuild_in_one_line_and_goes_on_answering(sessions, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    at = sessions()
    monkeypatch.setattr(rebuild, "SETUP", killed_by_the_kernel)
    next(b for b in at.sidebar.button if b.label == "Rebuild index").click().run()
    assert not at.exception and any("SIGKILL" in e.value for e in at.sidebar.error)
    at = _ask(at, "¿Dónde se reunirán nuevamente las delegaciones?")
    assert any("Washington" in m.value for m in at.chat_message[-1].markdown)
    assert Services(load_settings()).reader().store.counts()["documents"] == 3
