"""Shared fixtures: a tiny corpus in tmp_path, settings pointing at it, and the fake embedder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # model hubs are unreachable; never try them

from fakes import FakeEmbedder

from docqa.config import load_settings
from docqa.interfaces.services import Services

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
