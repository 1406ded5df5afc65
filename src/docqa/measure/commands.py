"""`docqa eval`, `docqa calibrate` and `docqa bench`: the measuring commands, on the same `main` group."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from docqa.interfaces import ProgressBars, as_json_line, echo, fail, main, settings_with


def _questions_and_services(file: str, corpus: str | None, index_dir: str | None, gold_from: str | None,
                            stride: int, limit: int | None, llm_path: str | None = None,
                            context: str | None = None, llm_url: str | None = None) -> tuple[list[Any], Any]:
    """The sampled questions, and services over an index of `corpus` built (or updated) first."""
    from docqa.interfaces import Services
    from docqa.measure.evalrun import eval_index_dir
    from docqa.measure.evaluate import load_questions

    # Read first: a malformed file is reported before minutes of indexing.
    questions = load_questions(Path(file), Path(gold_from) if gold_from else None)[:: max(1, stride)][:limit]
    settings = settings_with(corpus=corpus, llm_path=llm_path, context=context, llm_url=llm_url)
    index_path = Path(index_dir) if index_dir else (eval_index_dir(settings.corpus) if corpus else settings.index)
    services = Services(settings.with_overrides(index=index_path))
    bars = ProgressBars(sys.stderr.isatty())
    report = services.build(progress=bars)
    bars.close()
    echo(f"index {index_path}: {report.documents} documents, {report.chunks} chunks", err=True)
    return questions, services


def _bar(label: str) -> Any:
    """A progress bar on a terminal; elsewhere (a log file) a line every 25 questions."""
    if sys.stderr.isatty():
        bars = ProgressBars(True)
        return lambda done, total: bars(label, done, total)
    return lambda done, total: (done % 25 == 0 or done == total) and echo(f"{label}: {done}/{total}", err=True)


_QUESTION_OPTIONS = [
    click.argument("file", type=click.Path(exists=True, dir_okay=False)),
    click.option("--corpus", type=click.Path(exists=True, file_okay=False), help="Corpus the questions are about."),
    click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index to build or reuse (default: index-eval/<corpus>)."),
    click.option("--gold-from", type=click.Path(exists=True, dir_okay=False), help="Take gold sentences of the same ids from this file (cross-lingual runs)."),
    click.option("--limit", type=int, help="Only the first N questions (after --stride)."),
    click.option("--stride", type=int, default=1, show_default=True, help="Take every K-th question: a spread-out sample."),
    click.option("--llm", "llm_path", type=click.Path(dir_okay=False), help="A GGUF chat model [env DOCQA_LLM]"),
    click.option("--llm-url", "llm_url", metavar="URL", help="An OpenAI-compatible server's /v1 address [env DOCQA_LLM_URL]"),
    click.option("--context", type=click.Choice(["sentence", "before", "neighbours", "chunk", "passages", "document"]),
                 help="What the model reads around each evidence sentence [env DOCQA_CONTEXT; default sentence]"),
]


def _question_options(f: Any) -> Any:
    for option in reversed(_QUESTION_OPTIONS):
        f = option(f)
    return f


@main.command("eval")
@_question_options
@click.option("--retrieval-only", is_flag=True, help="Only measure recall@5; no LLM.")
@click.option("--ablate", is_flag=True, help="Replay with each guard switched off in turn; report what each is worth.")
@click.option("--baseline", is_flag=True, help="Also run the plain pipeline (top passages, simple prompt, no guards).")
@click.option("--baseline-only", is_flag=True, help="Run only the plain pipeline, not docqa.")
@click.option("--off", multiple=True, help="Switch this guard off (repeatable; see `docqa guards`).")
@click.option("--on", multiple=True, help="Switch on a guard that is off by default (repeatable).")
@click.option("--memo", type=click.Path(dir_okay=False), help="Record the model's replies here and replay those recorded before (same model).")
@click.option("--details", type=click.Path(dir_okay=False), help="Write per-question results as JSONL here.")
@click.option("--json", "as_json", is_flag=True)
def eval_cmd(file: str, corpus: str | None, index_dir: str | None, gold_from: str | None, limit: int | None,
             stride: int, llm_path: str | None, llm_url: str | None, context: str | None, retrieval_only: bool, ablate: bool, baseline: bool,
             baseline_only: bool,
             off: tuple[str, ...], on: tuple[str, ...], memo: str | None, details: str | None, as_json: bool) -> None:
    """Run a question file (../shared/eval schema) and report the project's metrics; a phrasings file
    (rows with `shape`, no `type`) measures the shape recogniser alone, with no corpus."""
    from docqa.measure.phrasings import is_phrasings

    if is_phrasings(Path(file)):
        _eval_phrasings(Path(file), as_json)
        return
    from docqa.answer import DEFAULT_OFF
    from docqa.measure.ablation import MemoLLM
    from docqa.measure.ablation import ablate as run_ablation
    from docqa.measure.baseline import run_baseline
    from docqa.measure.evalrun import run_eval

    questions, services = _questions_and_services(file, corpus, index_dir, gold_from, stride, limit, llm_path, context, llm_url)
    rows: list[dict[str, Any]] = []
    memo_path = Path(memo) if memo else None
    try:
        policy = None if retrieval_only else services.policy((DEFAULT_OFF | frozenset(off)) - frozenset(on))
    except ValueError as err:
        fail(str(err))
        return
    replayed = MemoLLM(services.llm(), memo_path) if memo_path and not (ablate or retrieval_only) else None
    if baseline_only:
        result: dict[str, Any] = {"n": len(questions)}
    elif ablate and not retrieval_only:
        result = run_ablation(services, questions, _bar, rows, memo_path=memo_path, policy=policy)
    elif retrieval_only:
        result = run_eval(services, questions, True, _bar("questions"), rows)
    else:
        result = run_eval(services, questions, False, _bar("questions"), rows, services.asker(policy, llm=replayed))
    if (baseline or baseline_only) and not retrieval_only:
        result = {**result, "baseline": run_baseline(services, questions, _bar("plain pipeline"), replayed)}
    if replayed is not None:
        replayed.save()
    if details:
        Path(details).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    if as_json:
        echo(as_json_line(result))
    else:
        from docqa.measure.report import render

        echo(render(result) if not retrieval_only else json.dumps(result, indent=2))


def _eval_phrasings(path: Path, as_json: bool) -> None:
    from docqa.config import UserError
    from docqa.interfaces import Services
    from docqa.measure.phrasings import load_phrasings, recognition, render

    try:
        rows = load_phrasings(path)
        report = recognition(rows, Services(settings_with()).shapes())
    except UserError as err:  # a malformed file, an embedder that cannot load
        fail(str(err))
        return
    echo(as_json_line(report) if as_json else render(report))


@main.command()
@_question_options
@click.option("--memo", type=click.Path(dir_okay=False), help="Replay the model's replies recorded by `eval --memo` (same model).")
@click.option("--dry-run", is_flag=True, help="Fit and report, but do not save the profile.")
@click.option("--json", "as_json", is_flag=True)
def calibrate(file: str, corpus: str | None, index_dir: str | None, gold_from: str | None, limit: int | None,
              stride: int, llm_path: str | None, llm_url: str | None, context: str | None, memo: str | None, dry_run: bool,
              as_json: bool) -> None:
    """Fit the doubt (NOT_FOUND) bar under which the chosen model's checked answers are graded verified; save it in its profile."""
    from docqa.measure.calibrate import calibrate as fit
    from docqa.models import ModelChoiceError

    questions, services = _questions_and_services(file, corpus, index_dir, gold_from, stride, limit, llm_path, context, llm_url)
    if not any(not q.answerable for q in questions) or all(not q.answerable for q in questions):
        fail("calibration needs both answerable and unanswerable questions; use a file of the ../shared/eval schema")
        return
    try:
        label = f"{Path(file).name} ({len(questions)} questions)"
        result = fit(services, questions, _bar("questions"), label, Path(memo) if memo else None, save=not dry_run)
    except ModelChoiceError as err:
        fail(str(err))
        return
    if as_json:
        echo(as_json_line(result))
        return
    for row in result["table"]:
        mark = "*" if row["bar"] == result["not_found_prob"] else " "
        echo(f"{mark} bar {row['bar']:<6} utility {row['utility']:>4}  accuracy {row['accuracy']:.3f}  "
                   f"abstention {row['abstention']:.3f}  false abstention {row['false_abstention']:.3f}")
    saved = f"saved {result['profile']}" if result["profile"] else "not saved (--dry-run)"
    echo(f"{saved}: NOT_FOUND bar {result['not_found_prob']} for {result['model']}")
