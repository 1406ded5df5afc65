"""The `docqa` CLI as a user runs it: JSON reports, status, skipped files and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import FakeEmbedder

from docqa import cli
from docqa.config import load_settings
from docqa.interfaces import services
from docqa.interfaces.services import Services
from docqa.models.profile import Profile


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "load_embedder", lambda spec, threads: FakeEmbedder(id=f"sentence-transformers:{spec}"))
    monkeypatch.setattr(services.Services, "profile", lambda self: Profile("fake", 0.02, "test"))
    monkeypatch.setenv("DOCQA_EMBEDDER", "fake")
    monkeypatch.setenv("DOCQA_INDEX", str(tmp_path / "index"))

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli.main, list(args))

    return invoke


def test_index_json_is_one_object_with_the_report(run, corpus: Path) -> None:  # type: ignore[no-untyped-def]
    (corpus / "vacío.txt").write_text("   ")
    result = run("index", "--corpus", str(corpus), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for key in ("documents", "chunks", "sentences", "added", "updated", "removed", "unchanged", "skipped", "seconds"):
        assert key in report
    assert report["documents"] == 3 and report["added"] == 3
    assert report["skipped"] == [{"path": "vacío.txt", "reason": "empty: no text to index"}]
    assert "skipped vacío.txt: empty" in result.stderr


def test_status_reports_stale_files(run, corpus: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("index", "--corpus", str(corpus)).exit_code == 0
    status = json.loads(run("status", "--corpus", str(corpus), "--json").stdout)
    assert status["documents"] == 3 and status["stale"] == [] and status["embedder"] == "sentence-transformers:fake"
    assert status["built_at"] and status["chunks"] > 0 and status["sentences"] > status["chunks"]
    assert status["vectors"]["sentences"]["kind"] == "flat"  # a small index is searched exactly
    assert "vectors   chunks exact, sentences exact" in run("status", "--corpus", str(corpus)).stdout
    (corpus / "nuevo.txt").write_text("Texto nuevo.")
    (corpus / "english.txt").unlink()
    stale = json.loads(run("status", "--corpus", str(corpus), "--json").stdout)["stale"]
    assert stale == [{"path": "nuevo.txt", "change": "added"}, {"path": "english.txt", "change": "deleted"}]


def test_errors_are_messages_with_a_fix_and_nonzero_exit(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("status")
    assert result.exit_code == 1 and "run `docqa index`" in result.stderr and "Traceback" not in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.txt").write_text("")
    (empty / "b.docx").write_bytes(b"not a zip")
    result = run("index", "--corpus", str(empty))
    assert result.exit_code == 1 and "nothing usable" in result.stderr
    # Each refused file is named with its reason, in the one line.
    assert "a.txt: empty" in result.stderr and "b.docx: corrupt" in result.stderr and "above" not in result.stderr
    (empty / "a.txt").unlink()
    (empty / "b.docx").unlink()
    result = run("index", "--corpus", str(empty))
    assert result.exit_code == 1 and "holds no documents" in result.stderr


def test_flags_override_environment(run, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOCQA_CORPUS", str(corpus))
    assert run("index").exit_code == 0
    other = tmp_path / "other-index"
    assert run("index", "--index", str(other), "--json").exit_code == 0
    assert (other / "CURRENT").is_file()


def test_ask_says_why_it_abstained(run, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def no_model(self):  # type: ignore[no-untyped-def]
        raise AssertionError("the model is not needed to see that the documents never name the thing asked about")

    monkeypatch.setattr(services.Services, "llm", no_model)
    assert run("index", "--corpus", str(corpus)).exit_code == 0
    result = run("ask", "¿Qué dijo AMLO sobre la migración?")
    assert result.exit_code == 0, result.output
    assert "No encuentro esa información" in result.stdout and "Why: the documents never mention “AMLO”" in result.stdout
    answer = json.loads(run("ask", "¿Qué dijo AMLO sobre la migración?", "--json").stdout)
    assert answer["abstained"] and answer["citations"] == [] and "AMLO" in answer["reason"]
    # A misspelt name gets the question back with the documents' spelling, ready to run.
    result = run("ask", "¿Qué cargo tiene Blinkin?", "--json")
    assert json.loads(result.stdout)["suggestion"] == "¿Qué cargo tiene Blinken?"
    assert "Did you mean: docqa ask '¿Qué cargo tiene Blinken?'" in run("ask", "¿Qué cargo tiene Blinkin?").stdout


@pytest.mark.parametrize(("env", "named"), [
    ({"DOCQA_THREADS": "abc"}, "DOCQA_THREADS='abc'"), ({"DOCQA_MAX_FILE_MB": "-3"}, "DOCQA_MAX_FILE_MB='-3'"),
    ({"DOCQA_CHUNK_TOKENS": "0"}, "DOCQA_CHUNK_TOKENS='0'"), ({"DOCQA_CONTEXT": "para"}, "DOCQA_CONTEXT='para'"),
    ({"DOCQA_CHUNK_VECTORS": "x"}, "DOCQA_CHUNK_VECTORS='x'"), ({"DOCQA_LLM": "/nowhere/model.gguf"}, "model file '/nowhere/model.gguf' does not exist"),
    ({"DOCQA_EMBEDDER": "/nowhere/embedder"}, "cannot load embedder '/nowhere/embedder'"),
])
def test_an_unusable_setting_is_one_line_naming_it(tmp_path: Path, corpus: Path, env: dict[str, str], named: str) -> None:
    args = ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    if "DOCQA_LLM" in env:
        args = ["ask", "¿Dónde?", "--index", str(tmp_path / "index")]
        Services(load_settings({}).with_overrides(corpus=corpus, index=tmp_path / "index", embedder="fake"), FakeEmbedder()).build()
        env = {**env, "DOCQA_EMBEDDER": "fake"}
    result = CliRunner().invoke(cli.main, args, env=env)
    assert result.exit_code == 1 and named in result.output and "Traceback" not in result.output


def test_a_corpus_that_is_a_file_says_so(tmp_path: Path, corpus: Path) -> None:
    result = CliRunner().invoke(cli.main, ["index", "--index", str(tmp_path / "index")], env={"DOCQA_CORPUS": str(corpus / "seed.txt")})
    assert result.exit_code == 1 and "is a file, not a folder" in result.output


def test_an_abstention_prints_the_closest_passages_as_not_an_answer(run, corpus: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("index", "--corpus", str(corpus)).exit_code == 0
    result = run("ask", "¿Cuántos migrantes cruzaron la frontera?")
    assert "No encuentro esa información" in result.stdout and "Closest passages (not an answer):" in result.stdout
    answer = json.loads(run("ask", "¿Cuántos migrantes cruzaron la frontera?", "--json").stdout)
    assert answer["abstained"] and answer["citations"] == []
    assert 1 <= len(answer["closest"]) <= 2 and all(c["document"] and c["sentence"] for c in answer["closest"])


def test_ask_prints_and_reports_the_answers_grade(run, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from fakes import ScriptedLLM, source_number

    def reply(user: str) -> str:
        if "reunir" in user.split("Question:")[-1]:
            return f"Se reunirán en Washington [{source_number(user, 'Washington')}]."
        return "El presupuesto fue de 40 millones de pesos [1]."

    llm = ScriptedLLM(reply, watch_prob=0.001)
    monkeypatch.setattr(services.Services, "llm", lambda self: llm)
    assert run("index", "--corpus", str(corpus)).exit_code == 0
    shown = run("ask", "¿Dónde se reunirán nuevamente las delegaciones?")
    assert shown.exit_code == 0 and "✅ Verified: each sentence is stated by the source it cites." in shown.stdout
    assert json.loads(run("ask", "¿Dónde se reunirán nuevamente las delegaciones?", "--json").stdout)["grade"] == "verified"
    doubtful = run("ask", "¿Cuál fue el presupuesto del acuerdo?")
    assert "⚠️ Unverified: not confirmed by your documents (1 of 1 sentences" in doubtful.stdout
    assert "Closest passages, to check it against:" in doubtful.stdout and "40 millones" in doubtful.stdout
    report = json.loads(run("ask", "¿Cuál fue el presupuesto del acuerdo?", "--json").stdout)
    assert report["grade"] == "unverified" and not report["abstained"] and report["closest"]
