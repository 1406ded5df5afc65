"""The `docqa` command group and how the CLI prints: one line per failure a user can fix, no control
characters from documents or file names, progress bars on a terminal only."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from docqa.config import Settings, load_settings
from docqa.interfaces.render import terminal


def echo(text: str = "", **kw: Any) -> None:
    """Every line the CLI prints goes through here: text from a document, a file name or the model
    cannot move the cursor, retitle the window or hide a link (control characters are dropped)."""
    click.echo(terminal(text), **kw)


def secho(text: str = "", **kw: Any) -> None:
    click.secho(terminal(text), **kw)


def as_json_line(obj: Any, **kw: Any) -> str:
    """JSON with every control character escaped (json leaves C1 and bidirectional ones raw)."""
    kw.setdefault("ensure_ascii", False)
    return terminal(json.dumps(obj, **kw), escape=True)


def llm_url_option(command: Any) -> Any:
    """--llm-url: answer with a model behind an OpenAI-compatible server instead of the in-process GGUF."""
    return click.option("--llm-url", "llm_url", metavar="URL",
                        help="An OpenAI-compatible server's /v1 address to answer with [env DOCQA_LLM_URL]")(command)


def settings_with(**overrides: Any) -> Settings:
    return load_settings().with_overrides(**overrides)


def fail(message: str, code: int = 1) -> None:
    secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


class ProgressBars:
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
        if bar.total != total:  # embedding counts the texts of each group of files anew
            bar.reset(total=total)
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class _Commands(click.Group):
    """Turns the errors a user can fix, raised from any command, into one line without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

        from docqa.config import UserError
        from docqa.index import damage_message

        try:
            return super().invoke(ctx)
        except UserError as err:  # a setting, an embedder, a question file
            fail(str(err))
        except sqlite3.DatabaseError as err:  # damage found past the checks at open
            fail(damage_message(err, "the index's store"))


@click.group(cls=_Commands)
@click.version_option(package_name="docqa")
def main() -> None:
    """docqa: private, offline Q&A over your own documents."""
