"""`docqa docs`: the indexed documents, listed, and deleted from the corpus and the index."""

from __future__ import annotations

import time

import click

from docqa.interfaces.cligroup import as_json_line, echo, fail, main, settings_with

_INDEX = click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX]")
_CORPUS = click.option("--corpus", type=click.Path(file_okay=False), help="Documents folder [env DOCQA_CORPUS]")


@main.group()
def docs() -> None:
    """The documents the index holds."""


@docs.command("list")
@_CORPUS
@_INDEX
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a document.")
def list_docs(corpus: str | None, index_dir: str | None, as_json: bool) -> None:
    """Every indexed document: type, size, sentences, when its file was modified, and whether it changed since."""
    from docqa.config import UserError
    from docqa.interfaces.services import Services

    try:
        rows = Services(settings_with(corpus=corpus, index=index_dir)).library()
    except UserError as err:
        fail(str(err))
        return
    for d in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(d["modified"])))
        stale = f"  ({d['stale']} since the build)" if d["stale"] else ""
        echo(as_json_line(d) if as_json else f"{d['path']}  {d['type']}  {int(d['size']):,} B  {d['sentences']} sentences  {when}{stale}")


@docs.command("delete")
@click.argument("path")
@_CORPUS
@_INDEX
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_doc(path: str, corpus: str | None, index_dir: str | None, yes: bool) -> None:
    """Delete a document's file from the corpus and update the index (the old one answers until done)."""
    from docqa.config import UserError
    from docqa.interfaces.services import Services

    if not yes and not click.confirm(f"Delete {path} from the corpus folder and the index?"):
        echo("nothing deleted")
        return
    try:
        report = Services(settings_with(corpus=corpus, index=index_dir)).delete_document(path)
    except UserError as err:
        fail(str(err))
        return
    echo(f"deleted {path}; index updated: {len(report.removed)} removed, {len(report.added)} added, {len(report.updated)} updated")
