"""`docqa eval` end to end with the fake embedder and a scripted LLM: the report's metrics are computed
from what the pipeline did, including multi-turn questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import FakeEmbedder, ScriptedLLM, source_number

from docqa import cli
from docqa.interfaces import services
from docqa.models.profile import Profile

WASHINGTON = "Las dos delegaciones acordaron reunirse nuevamente en Washington en enero de 2024"


def _script(user: str) -> str:
    question = user.rsplit("Question:", 1)[1]
    n = source_number(user, "Washington")
    if "reunir" in question and n:
        return f"Se reunirán en Washington [{n}]."
    if "cuándo" in question and n:
        return f"En enero de 2024 [{n}]."
    return "NOT_FOUND"


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "load_embedder", lambda spec, threads: FakeEmbedder(id=f"sentence-transformers:{spec}"))
    llm = ScriptedLLM(_script)
    monkeypatch.setattr(services.Services, "llm", lambda self: llm)
    monkeypatch.setattr(services.Services, "profile", lambda self: Profile("fake", 0.02, "test"))
    monkeypatch.setenv("DOCQA_EMBEDDER", "fake")
    return lambda *args: CliRunner().invoke(cli.main, list(args))


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    return path


def test_eval_reports_the_readme_metrics(run, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = _write(tmp_path / "q.jsonl", [
        {"id": "a1", "lang": "es", "type": "answerable", "question": "¿Dónde se reunirán nuevamente las delegaciones?",
         "answers": ["Washington"], "gold_sentences": [WASHINGTON]},
        {"id": "a2", "lang": "es", "type": "answerable", "question": "¿Y cuándo?", "answers": ["enero de 2024"],
         "gold_sentences": [WASHINGTON], "turns": ["¿Dónde se reunirán nuevamente las delegaciones?", "¿Y cuándo?"]},
        {"id": "a3", "lang": "es", "type": "answerable", "question": "¿Quién encabezó la delegación?",
         "answers": ["Blinken"], "gold_sentences": ["encabezada por el secretario de Estado, Antony Blinken"]},
        {"id": "u1", "lang": "es", "type": "unanswerable_squad2", "question": "¿Cuántos migrantes cruzaron la frontera?",
         "answers": [], "gold_sentences": []},
    ])
    details = tmp_path / "details.jsonl"
    result = run("eval", str(questions), "--corpus", str(corpus), "--index", str(tmp_path / "ix"),
                 "--details", str(details), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 4 and report["answerable"] == 3 and report["unanswerable"] == 1
    # a1 and the follow-up a2 are answered right with the gold sentence; a3 gets NOT_FOUND from the script
    assert report["answer_accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert report["false_abstention_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert report["abstention_rate"] == 1.0 and report["citation_precision"] == 1.0 and report["citation_recall"] == 1.0
    assert report["answers_in_question_language"] == 1.0
    for key in ("recall_at_5", "ttft_s_mean", "ttft_s_p95", "total_s_mean", "total_s_p95"):
        assert key in report
    rows = [json.loads(line) for line in details.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a1", "a2", "a3", "u1"] and rows[2]["abstained"]


def test_retrieval_only_needs_no_llm(run, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = _write(tmp_path / "q.jsonl", [
        {"id": "a1", "lang": "es", "type": "answerable", "question": "¿Dónde se reunirán nuevamente las delegaciones?",
         "answers": ["Washington"], "gold_sentences": [WASHINGTON]},
    ])
    result = run("eval", str(questions), "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--retrieval-only", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["recall_at_5"] == 1.0 and "answer_accuracy" not in report


@pytest.mark.parametrize(("rows", "expected"), [
    ('{"id": "a", "question": "¿Dónde?"}\n{"id": "b", "type": "answerable"}', ":2: field 'question' is missing"),
    ('{"id": "a", "question": "¿Dónde?"}\n{not json', ":2: not valid JSON"),
    ('{"id": "a", "question": "¿Dónde?", "type": "maybe"}', ":1: field 'type' is 'maybe'"),
    ('{"question": "¿Dónde?"}', ":1: field 'id' is missing"),
    ('{"id": "a", "question": "¿Dónde?", "answers": "Washington"}', ":1: field 'answers' must be a list of strings"),
    ('["a", "b"]', ":1: a JSON object is expected"),
])
def test_a_malformed_question_file_is_one_line_naming_file_line_and_field(run, corpus: Path, tmp_path: Path, rows: str,
                                                                          expected: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(rows, "utf-8")
    result = run("eval", str(path), "--corpus", str(corpus), "--index", str(tmp_path / "index"))
    assert result.exit_code == 1 and f"{path}{expected}" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "index").exists()  # reported before any indexing


def test_a_conversation_row_without_question_asks_its_last_turn(run, corpus: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "q.jsonl", [{"id": "t", "type": "answerable", "answers": ["Washington"],
                                          "turns": ["Hablemos de las delegaciones.", "¿Dónde se van a reunir?"]}])
    result = run("eval", str(path), "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["n"] == 1


def test_eval_reports_how_often_an_abstention_shows_a_passage_holding_the_answer(run, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = _write(tmp_path / "q.jsonl", [
        {"id": "a3", "lang": "es", "type": "answerable", "question": "¿Quién encabezó la delegación de altos funcionarios de Estados Unidos?",
         "answers": ["Blinken"], "gold_sentences": ["encabezada por el secretario de Estado, Antony Blinken"]},
    ])
    details = tmp_path / "details.jsonl"
    result = run("eval", str(questions), "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--details", str(details), "--json")
    report = json.loads(result.stdout)
    # Still an abstention in every figure, and the passage shown beside it held the answer.
    assert report["false_abstention_rate"] == 1.0 and report["answer_accuracy"] == 0.0
    assert report["closest_passage_holds_gold"] == 1.0, json.loads(details.read_text("utf-8"))["closest"]
    assert json.loads(details.read_text("utf-8"))["closest_holds_gold"] is True


def test_gold_from_adds_the_other_languages_answers_and_sentences(tmp_path: Path) -> None:
    from docqa.measure.evaluate import load_questions

    en = _write(tmp_path / "en.jsonl", [{"id": "x", "lang": "en", "question": "Where?", "answers": ["Mexico City"],
                                         "gold_sentences": ["They met in Mexico City."]}])
    es = _write(tmp_path / "es.jsonl", [{"id": "x", "lang": "es", "question": "¿Dónde?", "answers": ["Ciudad de México"],
                                         "gold_sentences": ["Se reunieron en la Ciudad de México."]}])
    (q,) = load_questions(en, es)
    assert q.answers == ("Mexico City", "Ciudad de México") and q.gold_sentences == ("Se reunieron en la Ciudad de México.",)
    assert load_questions(en)[0].answers == ("Mexico City",)


def test_baseline_only_runs_the_plain_pipeline_alone_and_its_replies_replay_from_the_memo(run, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = _write(tmp_path / "q.jsonl", [
        {"id": "a1", "lang": "es", "question": "¿Dónde se reunirán nuevamente las delegaciones?", "answers": ["Washington"],
         "gold_sentences": [WASHINGTON]},
        {"id": "u1", "lang": "es", "type": "unanswerable_squad2", "question": "¿Cuántos migrantes cruzaron la frontera?"},
    ])
    memo = tmp_path / "memo.jsonl"
    args = ("eval", str(questions), "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--baseline-only", "--memo", str(memo), "--json")
    first = run(*args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert set(report) == {"n", "baseline"} and report["baseline"]["n"] == 2  # docqa itself did not run
    llm = services.Services.llm(None)  # type: ignore[arg-type]
    asked = len(llm.prompts)
    assert asked == 2 and all("Helpful Answer:" in p for p in llm.prompts) and memo.is_file()
    again = run(*args)
    assert json.loads(again.stdout)["baseline"] == {**report["baseline"], **{k: json.loads(again.stdout)["baseline"][k] for k in ("ttft_s_median", "ttft_s_mean")}}
    assert len(llm.prompts) == asked  # replayed, not asked again


def test_the_session_summary_parts_questions_that_reused_their_document_from_those_that_read_it_first() -> None:
    from docqa.measure.benchanswer import session_summary

    rows = [{"ttft_s": 20.0, "document_reused": 0.0}, {"ttft_s": 1.0, "document_reused": 1.0},
            {"ttft_s": 2.0, "document_reused": 1.0}, {"ttft_s": 4.0, "document_reused": None},
            {"ttft_s": 0.0, "document_reused": None}]  # stopped before the model
    out = session_summary(rows)
    assert out["all"]["n"] == 4 and out["document_reused"] == {"n": 2, "median": 1.5, "p95": 2.0}
    assert out["document_first"] == {"n": 1, "median": 20.0, "p95": 20.0}


def test_shapes_are_scored_by_their_readme_rules() -> None:
    from docqa.measure.evaluate import Question, polarity, right

    def q(shape: str, answers: tuple[str, ...] = (), answers_all: tuple[str, ...] = (), yes_no: str = "") -> Question:
        return Question("x", "es", "answerable", "?", answers, (), shape=shape, answers_all=answers_all, yes_no=yes_no)

    listed = q("list", answers_all=("Laborista", "Liberal", "Verdes", "PP"))
    assert right(listed, "- Laboristas [1]\n- Liberal [1]\n- Verdes [2]\n- el PP [2]")  # stems match inside words
    assert not right(listed, "Laboristas, Liberal, Verdes y PPK")  # a short item only as a whole word
    summary = q("summary", ("migración",), ("Washington", "2024", "delegación"))
    assert right(summary, "Hablan de migración. Se reunirán en Washington en 2024.")
    assert not right(summary, "Hablan de migración en Washington.")  # 1 of 3 key points
    yes_no = q("yes_no", ("Blinken",), yes_no="no")
    assert right(yes_no, "No, la encabezó Blinken [1].") and not right(yes_no, "Sí, con Blinken [1].")
    assert not right(yes_no, "La encabezó Blinken [1].")  # no verdict
    assert polarity("Sí.") == "yes" and polarity("Yes, it did") == "yes" and polarity("Nota: …") == ""
    assert right(q("overview", ("hugonote",)), "Trata de los hugonotes franceses.")


def test_eval_reports_each_shape_and_the_plain_prompt_reads_a_small_corpus_whole(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from conftest import SEED

    corpus = tmp_path / "one"
    corpus.mkdir()
    (corpus / "seed.txt").write_text(SEED.read_text("utf-8"), "utf-8")
    questions = _write(tmp_path / "q.jsonl", [
        {"id": "s1", "lang": "es", "type": "answerable", "shape": "yes_no", "yes_no": "no",
         "question": "¿Acordaron las dos delegaciones reunirse nuevamente en Madrid?", "answers": ["Washington"], "answers_all": [],
         "gold_sentences": [WASHINGTON]},
        {"id": "s2", "lang": "es", "type": "unanswerable_shapes", "shape": "unanswerable",
         "question": "¿Cuántos migrantes cruzaron la frontera?", "answers": [], "answers_all": [], "gold_sentences": []},
    ])
    result = run("eval", str(questions), "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--baseline", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # The sentence that settles it is quoted without a verdict: not right by the sets' rule; the other abstains.
    assert report["shapes"]["yes_no"] == {"right": 0, "n": 1, "accuracy": 0.0}
    assert report["shapes"]["unanswerable"]["right"] == 1 and report["shapes"]["overall"]["n"] == 2
    assert report["shape_recognised"] == 1.0
    # The sentence that settles it (the Washington one) is quoted, with no verdict.
    assert report["yes_no_settled"] == 1.0 and report["yes_no_verdicts"] == {"given": 0, "right": 0}
    assert report["baseline"]["passages"] == "the whole corpus" and "shapes" in report["baseline"]


def test_eval_reports_how_often_an_answer_marked_wrong_comes_back(run, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = _write(tmp_path / "wrong.jsonl", [
        {"id": "feedback-1", "lang": "es", "type": "answerable", "question": "¿Dónde se reunirán nuevamente las delegaciones?",
         "answers": [], "gold_sentences": [], "rejected_answers": ["Se reunirán en Washington. [2]"]},
        {"id": "feedback-2", "lang": "es", "type": "answerable", "question": "¿Quién encabezó la delegación?",
         "answers": [], "gold_sentences": [], "rejected_answers": ["Joe Biden [1]"]},
    ])
    result = run("eval", str(questions), "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # The first is answered as before (whatever its citation number); the second now abstains.
    assert report["rejected_questions"] == 2 and report["rejected_answer_again"] == 0.5


def test_eval_on_a_phrasings_file_scores_the_recogniser_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCQA_EMBEDDER", "fake")  # no margin measured for it: the word rules alone
    monkeypatch.setattr(services, "load_embedder", lambda spec, threads: FakeEmbedder())
    rows = [{"id": "p1", "lang": "es", "question": "¿De qué trata este documento?", "shape": "overview"},
            {"id": "p2", "lang": "en", "question": "Did the delegation visit Mexico?", "shape": "yes_no"},
            {"id": "p3", "lang": "es", "question": "¿Cuándo se reunieron?", "shape": "summary"}]  # labelled wrong on purpose
    path = tmp_path / "phrasings.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    result = CliRunner().invoke(cli.main, ["eval", str(path), "--json", "--index", str(tmp_path / "never-built")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n"] == 3 and report["shape_recognised"] == round(2 / 3, 3) and report["digest_margin"] is None
    assert report["per_shape"]["summary"]["recognised"] == 0.0 and report["confused"][0]["label"] == "summary"
    assert not (tmp_path / "never-built").exists()  # no corpus, no index
    path.write_text(json.dumps({"question": "x", "shape": "poem", "lang": "es"}) + "\n", "utf-8")
    bad = CliRunner().invoke(cli.main, ["eval", str(path)])
    assert bad.exit_code == 1 and "unknown shape 'poem'" in bad.output and "Traceback" not in bad.output
