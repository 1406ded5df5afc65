"""Shared fixtures: a tiny corpus in tmp_path, settings pointing at it, the fake embedder, and the page under AppTest."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # model hubs are unreachable; never try them

from fakes import FakeEmbedder, ScriptedLLM, fake_models_in_this_process, source_number

from docqa.config import load_settings
from docqa.interfaces import rebuild as rebuild_module
from docqa.interfaces import services as services_module
from docqa.interfaces.services import Services

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"
SEED = REPO / "corpus" / "mexico-eu-migracion-2024.txt"

FAKE_SPEC = "fake"  # embedder_id("fake") == "sentence-transformers:fake" == FakeEmbedder().id


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "seed.txt").write_text(SEED.read_text("utf-8"), "utf-8")
    (root / "notas.md").write_text(
        "# Notas\n\nEl Sr. García visitó Madrid el 3 de mayo. Pagó 2,5 millones de euros.\n\n"
        "## Viaje\n\nDespués viajó a Lisboa con la Dra. Pérez.\n",
        "utf-8",
    )
    (root / "english.txt").write_text(
        "The committee met in Geneva on Tuesday. It approved the budget of 3.5 million dollars.\n", "utf-8"
    )
    return root


@pytest.fixture
def settings(tmp_path: Path, corpus: Path):  # type: ignore[no-untyped-def]
    return load_settings({}).with_overrides(corpus=corpus, index=tmp_path / "index", embedder=FAKE_SPEC)


@pytest.fixture
def fake() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def services(settings, fake):  # type: ignore[no-untyped-def]
    return Services(settings, fake)


def real_services(root: Path, files: dict[str, str]) -> Services:
    """Services with the packaged models over a corpus of `files` (name: text), built."""
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, "utf-8")
    services = Services(load_settings({}).with_overrides(corpus=corpus, index=root / "index", models_dir=REPO / "models"))
    services.build()
    return services


APP = str(REPO / "app.py")


def _script(user: str) -> str:
    if "Washington" in user and ("reunir" in user.split("Question:")[-1] or "meet" in user.split("Question:")[-1]):
        return f"Se reunirán en Washington [{source_number(user, 'Washington')}]."
    if "cargo" in user.split("Question:")[-1]:
        return f"Es secretario de Estado [{source_number(user, 'Blinken')}]."
    if "encabez" in user.split("Question:")[-1]:
        return f"La encabezó Antony Blinken [{source_number(user, 'Blinken')}]."
    if "presupuesto" in user.split("Question:")[-1]:  # a figure no document states: shown unverified
        return "El presupuesto fue de 40 millones de pesos [1]."
    return "NOT_FOUND"


def _fakes_for_the_page(monkeypatch: pytest.MonkeyPatch, corpus: Path, index: Path) -> None:
    """The page's settings pointed at `corpus` and `index`, with the fake embedder and scripted LLM."""
    monkeypatch.setenv("DOCQA_CORPUS", str(corpus))
    monkeypatch.setenv("DOCQA_INDEX", str(index))
    monkeypatch.setenv("DOCQA_EMBEDDER", "fake")
    monkeypatch.setattr(services_module, "load_embedder", lambda spec, threads: FakeEmbedder())
    monkeypatch.setattr(rebuild_module, "SETUP", fake_models_in_this_process)  # the page's rebuild child
    llm = ScriptedLLM(_script)
    monkeypatch.setattr(Services, "llm", lambda self: llm)


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch, corpus: Path, tmp_path: Path) -> Callable[..., AppTest]:
    """Builds the index of `corpus` in tmp_path/index; each call opens the page in a new session (a reload)."""
    _fakes_for_the_page(monkeypatch, corpus, tmp_path / "index")
    Services(load_settings()).build()
    import streamlit as st

    st.cache_resource.clear()

    def new_session(query: dict[str, str] | None = None) -> AppTest:
        from streamlit.testing.v1 import AppTest  # only the page tests pay for importing it

        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update(query or {})  # the page's URL
        at.run()
        assert not at.exception
        return at
    return new_session


@pytest.fixture
def app(sessions: Callable[[], AppTest]) -> AppTest:
    return sessions()
