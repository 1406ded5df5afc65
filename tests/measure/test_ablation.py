"""`docqa eval --ablate/--baseline` and `docqa calibrate` with the fake embedder and a scripted LLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import FakeEmbedder, ScriptedLLM, source_number

from docqa import cli
from docqa.answer.guards import NAMES
from docqa.interfaces import services
from docqa.measure.ablation import MemoLLM, Outcome, fit_not_found_bar, guard_effect
from docqa.models.choice import ModelInfo
from docqa.models.profile import Profile, load_profile

WASHINGTON = "Las dos delegaciones acordaron reunirse nuevamente en Washington en enero de 2024"
QUESTIONS = [
    {"id": "a1", "lang": "es", "type": "answerable", "question": "¿Dónde se reunirán nuevamente las delegaciones?",
     "answers": ["Washington"], "gold_sentences": [WASHINGTON]},
    {"id": "a2", "lang": "es", "type": "answerable", "question": "¿Dónde se reunirán nuevamente las delegaciones de Canadá?",
     "answers": ["Washington"], "gold_sentences": [WASHINGTON]},
    {"id": "u1", "lang": "es", "type": "unanswerable_squad2", "question": "¿Cuántos migrantes cruzaron la frontera?",
     "answers": [], "gold_sentences": []},
    # Looks answerable to every check; only the model's doubt (0.5) can stop it.
    {"id": "u2", "lang": "es", "type": "unanswerable_squad2", "question": "¿Dónde se reunirán nuevamente las delegaciones en 2030?",
     "answers": [], "gold_sentences": []},
]


def _script(user: str) -> str:
    if user.startswith("Use the following pieces of context") or "Helpful Answer:" in user:
        return "Washington." if "reunir" in user.rsplit("Question:", 1)[1] else "I don't know."
    n = source_number(user, "Washington")
    return f"Se reunirán en Washington [{n}]." if n else "Hubo 300 migrantes [1]."


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "load_embedder", lambda spec, threads: FakeEmbedder(id=f"sentence-transformers:{spec}"))
    llm = ScriptedLLM(_script, watch_prob=lambda u: 0.5 if "2030" in u.rsplit("Question:", 1)[-1] else 0.001)
    monkeypatch.setattr(services.Services, "llm", lambda self: llm)
    monkeypatch.setattr(services.Services, "model", lambda self: ModelInfo(
        "fake", "", 0, "f" * 64, "fake", "gguf", False, None, "", False, True))
    monkeypatch.setenv("DOCQA_EMBEDDER", "fake")
    monkeypatch.setenv("DOCQA_MODELS", str(tmp_path / "models"))
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS), "utf-8")
    return lambda *args: CliRunner().invoke(cli.main, [args[0], str(questions), *args[1:]]), llm


def test_ablation_reports_each_guard_the_ceiling_and_the_filter(run, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    invoke, llm = run
    load_profile("f" * 64, tmp_path / "models")  # uncalibrated: NOT_FOUND is left out of the table
    result = invoke("eval", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--ablate", "--baseline", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["guards"]) == set(NAMES) - {"not_found"}
    # Without the names check the answer about Canada's delegations stands, wrongly: the check withdrew it.
    assert report["guards"]["names"]["wrong_withdrawn"] == 0 and report["guards"]["names"]["false_abstention_change"] > 0
    # The replays reuse the recorded drafts: the model saw each distinct prompt once.
    assert report["model_calls"] == len({p for p in [*llm.prompts, *llm.checks] if "Helpful Answer:" not in p})
    assert report["filter"]["draft_ceiling"] == 1.0 and report["no_guards"]["abstention_rate"] == 0.0
    assert report["baseline"]["answer_accuracy"] == 1.0 and report["baseline"]["abstention_rate"] == 0.5


def test_calibrate_fits_the_bar_and_saves_the_models_profile(run, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    invoke, _ = run
    result = invoke("calibrate", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--json")
    assert result.exit_code == 0, result.output
    fitted = json.loads(result.stdout)
    # The disguised unanswerable question's probability is 0.5, the answerable ones' 0.001: a bar between stops only it.
    assert 0.001 < fitted["not_found_prob"] <= 0.5
    profile = load_profile("f" * 64, tmp_path / "models")
    assert profile.calibrated and profile.not_found_prob == fitted["not_found_prob"]


def test_a_memoised_call_reaches_the_model_once_and_a_broken_off_one_is_not_kept() -> None:
    inner = ScriptedLLM(lambda u: "una respuesta larga")
    memo = MemoLLM(inner)
    assert memo.complete("S", "U", 10).text() == memo.complete("S", "U", 10).text() == "una respuesta larga"
    assert len(inner.prompts) == 1
    partial = memo.complete("S", "other", 10)
    next(partial)
    partial.close()
    assert memo.complete("S", "other", 10).text() == "una respuesta larga" and len(inner.prompts) == 3


def test_guard_effect_counts_what_the_guard_changed() -> None:
    on = {"r": Outcome(True, False, True), "w": Outcome(False, True, True), "u": Outcome(False, True, False)}
    off = {"r": Outcome(True, False, True), "w": Outcome(False, False, True), "u": Outcome(False, False, False)}
    effect = guard_effect(on, off)
    assert effect["wrong_withdrawn"] == 1 and effect["unanswerables_caught"] == 1 and effect["right_lost"] == 0
    assert effect["utility_change"] == 2 - (-1)  # right + right abstention, against right − two wrong


def test_the_fitted_bar_keeps_right_answers_and_stops_the_doubtful_wrong_ones() -> None:
    rows = [
        {"id": "right", "answerable": True, "abstained": False, "correct": True, "signals": {"not_found": 0.04}},
        {"id": "wrong", "answerable": True, "abstained": False, "correct": False, "signals": {"not_found": 0.3}},
        {"id": "unans", "answerable": False, "abstained": False, "signals": {"not_found": 0.2}},
    ]
    bar, table = fit_not_found_bar(rows, (0.01, 0.05, 0.5))
    assert bar == 0.05 and [r["utility"] for r in table] == [1, 2, -1]


def test_a_profile_without_a_bar_after_fitting_is_calibrated_with_the_guard_off() -> None:
    assert Profile("x", None, "fitted").calibrated and not Profile("x").calibrated


def test_a_saved_memo_replays_in_a_later_run_without_the_model(tmp_path: Path) -> None:
    first = MemoLLM(ScriptedLLM(lambda u: "respuesta", watch_prob=0.25), tmp_path / "memo.jsonl")
    with first.complete("S", "U", 10, watch="NOT_FOUND", earlier=[("a", "b")]) as reply:
        assert reply.text() == "respuesta"
    first.save()
    inner = ScriptedLLM(lambda u: "otra")
    later = MemoLLM(inner, tmp_path / "memo.jsonl")
    with later.complete("S", "U", 10, watch="NOT_FOUND", earlier=[("a", "b")]) as reply:
        assert reply.text() == "respuesta" and reply.watch_prob == 0.25
    assert inner.prompts == [] and later.calls == 0


def test_without_json_the_ablation_prints_its_tables(run, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    invoke, _ = run
    result = invoke("eval", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--ablate")
    assert result.exit_code == 0, result.output
    assert "| docqa |" in result.stdout and "| no guards |" in result.stdout and "| names |" in result.stdout
    assert "drafts' ceiling" in result.stdout
