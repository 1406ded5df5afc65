"""`docqa chats` and `docqa feedback`: the kept conversations (listed, exported, deleted) and the answers marked wrong."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from docqa.interfaces.chats import FILE, ChatStore, ChatStoreError, as_questions, markdown
from docqa.interfaces.cligroup import as_json_line, echo, fail, main, settings_with


def _store(index_dir: str | None) -> ChatStore:
    try:
        return ChatStore(settings_with(index=index_dir).index / FILE)
    except ChatStoreError as err:
        fail(str(err))
        raise  # fail exits; this keeps the type checker sure


_INDEX = click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [env DOCQA_INDEX]")


@main.group()
def chats() -> None:
    """The conversations of the chat page, kept beside the index."""


@chats.command("list")
@_INDEX
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a conversation.")
def list_cmd(index_dir: str | None, as_json: bool) -> None:
    """Every conversation, newest first: its id, when, how many questions, its first question."""
    import time

    for c in _store(index_dir).conversations():
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated))
        echo(as_json_line(asdict(c)) if as_json else f"{c.id:>5}  {when}  {c.turns:>3} q  {c.title}")


@chats.command("export")
@click.argument("conversation", type=int)
@_INDEX
@click.option("--out", type=click.Path(dir_okay=False), help="Write the Markdown here instead of printing it.")
def export_cmd(conversation: int, index_dir: str | None, out: str | None) -> None:
    """A conversation as Markdown, with each citation quoted."""
    store = _store(index_dir)
    found = next((c for c in store.conversations() if c.id == conversation), None)
    if found is None:
        fail(f"no conversation {conversation}; `docqa chats list` shows their ids")
        return
    text = markdown(found.title, store.exchanges(conversation))
    if out:
        Path(out).write_text(text, "utf-8")
        echo(f"wrote {out}")
    else:
        echo(text)


@chats.command("delete")
@click.argument("conversation", type=int)
@_INDEX
def delete_cmd(conversation: int, index_dir: str | None) -> None:
    """Delete a conversation and its answers."""
    if not _store(index_dir).delete(conversation):
        fail(f"no conversation {conversation}; `docqa chats list` shows their ids")
    echo(f"deleted conversation {conversation}")


@main.group()
def feedback() -> None:
    """The thumbs given to answers on the chat page."""


@feedback.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@_INDEX
def feedback_export(file: str, index_dir: str | None) -> None:
    """Write the answers marked wrong as a question file (../shared/eval/'s schema), for `docqa eval`."""
    rows = as_questions(_store(index_dir).marked_wrong())
    Path(file).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    echo(f"wrote {len(rows)} question{'s' * (len(rows) != 1)} marked wrong to {file}; "
         f"`docqa eval {file}` asks them again and reports how often a rejected answer comes back")
