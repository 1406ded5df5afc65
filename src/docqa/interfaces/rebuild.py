"""The page's rebuild in a child process: a document that exhausts memory, or a reader that crashes,
ends the child, never the server, and the previous index keeps answering."""

from __future__ import annotations

import multiprocessing
import queue
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from docqa.config import Settings, UserError
from docqa.index import BuildReport, IndexError_, NothingIndexed, Progress, build_index
from docqa.models import load_embedder

# Runs first in the child, for tests that swap the models (a spawned child starts from a clean import).
SETUP: Callable[[], None] | None = None
_POLL_S = 0.25


class RebuildFailed(UserError):
    """The rebuild did not finish; the message says why and that the previous index still serves."""


def build_in_child(settings: Settings, progress: Progress | None = None, rebuild: bool = False) -> BuildReport:
    """An index build (as `Services.build`) in a spawned child, its progress relayed here; the report, or
    RebuildFailed with the child's one-line reason (or how it ended, when it could not say)."""
    context = multiprocessing.get_context("spawn")  # not fork: the server's threads and models stay out of it
    messages: Any = context.Queue()
    child = context.Process(target=_child, args=(settings, rebuild, messages, SETUP), name="docqa-rebuild", daemon=True)
    with _START, _without_main_script():
        child.start()
    try:
        result = _relay(child, messages, progress or (lambda stage, done, total: None))
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
    if result is None:
        raise RebuildFailed(f"the rebuild stopped ({_ended(child.exitcode)}); the previous index still answers. "
                            "Run `docqa index` in a terminal to see which file it was reading, and move that file aside")
    kind, value = result
    if kind == "failed":
        raise RebuildFailed(value)
    return value  # type: ignore[no-any-return]


_START = threading.Lock()


@contextmanager
def _without_main_script() -> Iterator[None]:
    """A spawned child runs the parent's main script again before its target; under Streamlit that
    is the page itself (its models, its widgets). The child starts from a bare `__main__` instead."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _relay(child: Any, messages: Any, progress: Progress) -> tuple[str, Any] | None:
    while True:
        try:
            kind, *payload = messages.get(timeout=_POLL_S)
        except queue.Empty:
            if not child.is_alive():
                try:  # its last words may have arrived just before it ended
                    kind, *payload = messages.get(timeout=_POLL_S)
                except queue.Empty:
                    return None
            else:
                continue
        if kind == "progress":
            progress(*payload)
        else:
            return kind, payload[0]


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return f"killed by {name}" + (": out of memory, most likely" if name == "SIGKILL" else "")
    return f"exit code {code}"


def _child(settings: Settings, rebuild: bool, messages: Any, setup: Callable[[], None] | None) -> None:
    if setup is not None:
        setup()
    try:
        report = build_index(settings, lambda: load_embedder(settings.embedder, settings.threads), rebuild=rebuild,
                             progress=lambda *p: messages.put(("progress", *p)))
        messages.put(("done", report))
    except (UserError, NothingIndexed, IndexError_) as err:  # each says what to do already
        messages.put(("failed", str(err)))
    except MemoryError:
        messages.put(("failed", ("the rebuild ran out of memory; the previous index still answers. Lower "
                                 "DOCQA_MAX_FILE_CHARS and DOCQA_MAX_FILE_SENTENCES, or move the largest file aside")))
    except Exception as err:  # noqa: BLE001 - said in one line on the page, not a traceback
        messages.put(("failed", f"the rebuild failed ({type(err).__name__}: {err}); the previous index still answers"))
    messages.close()
    messages.join_thread()
