"""The document library: the indexed documents listed with their state, opened in the viewer, and
deleted from the corpus and the index after a confirmation, on the page and from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import _fakes_for_the_page
from streamlit.testing.v1 import AppTest

from docqa import cli
from docqa.config import load_settings
from docqa.interfaces.services import DocumentError, Services


def test_the_library_lists_each_document_with_its_state_and_opens_one(app: AppTest, corpus: Path) -> None:
    (corpus / "notas.md").write_text("# Notas\n\nOtra cosa.\n", "utf-8")  # changed since the build
    app.run()
    shown = " ".join(m.value for m in app.sidebar.markdown)
    for name in ("seed.txt", "notas.md", "english.txt"):
        assert name in shown.replace("\\", "")
    assert "sentences" in shown and "modified since the build" in shown
    app.sidebar.button(key="open-doc-english.txt").click().run()
    assert any("The committee met in Geneva" in h.proto.body for h in app.get("html"))


def test_a_document_is_deleted_only_after_confirming_and_the_index_follows(app: AppTest, corpus: Path) -> None:
    app.sidebar.button(key="delete-doc-notas.md").click().run()
    assert (corpus / "notas.md").is_file() and any("Delete notas.md" in w.value.replace("\\", "") for w in app.sidebar.warning)
    app.sidebar.button(key="cancel-doc-notas.md").click().run()
    assert (corpus / "notas.md").is_file()
    app.sidebar.button(key="delete-doc-notas.md").click().run()
    app.sidebar.button(key="confirm-doc-notas.md").click().run()
    assert not app.exception and not (corpus / "notas.md").exists()
    assert "notas.md" not in Services(load_settings()).reader().store.documents()


def test_only_an_indexed_document_inside_the_corpus_can_be_deleted(services: Services, corpus: Path, tmp_path: Path) -> None:
    services.build()
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("keep me", "utf-8")
    for path in ("../elsewhere.txt", "nothing.txt"):
        with pytest.raises(DocumentError) as err:
            services.delete_document(path)
        assert "docqa docs list" in str(err.value)
    assert outside.is_file()


def test_docqa_docs_lists_and_deletes(monkeypatch: pytest.MonkeyPatch, corpus: Path, tmp_path: Path) -> None:
    _fakes_for_the_page(monkeypatch, corpus, tmp_path / "index")
    Services(load_settings()).build()
    run = CliRunner()
    listed = run.invoke(cli.main, ["docs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert {r["path"] for r in rows} == {"seed.txt", "notas.md", "english.txt"} and all(r["sentences"] > 0 for r in rows)
    assert run.invoke(cli.main, ["docs", "delete", "english.txt"], input="n\n").output.strip().endswith("nothing deleted")
    deleted = run.invoke(cli.main, ["docs", "delete", "english.txt", "--yes"])
    assert deleted.exit_code == 0 and "1 removed" in deleted.output and not (corpus / "english.txt").exists()
    missing = run.invoke(cli.main, ["docs", "delete", "english.txt", "--yes"])
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_deleting_a_link_removes_the_link_and_never_what_it_points_at(services: Services, corpus: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside-target.txt"
    outside.write_text("El archivo de fuera no se toca. Sigue aquí.\n", "utf-8")
    (corpus / "link.txt").symlink_to(corpus / "english.txt")  # a link to a document inside the corpus
    services.build()
    assert "link.txt" in services.reader().store.documents()
    services.delete_document("link.txt")
    assert not (corpus / "link.txt").is_symlink() and not (corpus / "link.txt").exists()
    assert (corpus / "english.txt").read_text("utf-8").startswith("The committee")
    docs = services.reader().store.documents()
    assert "link.txt" not in docs and "english.txt" in docs
    assert outside.is_file()
