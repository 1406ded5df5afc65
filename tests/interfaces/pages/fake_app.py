"""The real page (app.py) over the fake embedder and an LLM that quotes the evidence line naming the
question's last word: browser tests that need a known reply, without loading models."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS))

from fakes import FakeEmbedder, ScriptedLLM, fake_models_in_this_process

from docqa.interfaces import rebuild as rebuild_module
from docqa.interfaces import services as services_module


def _quote(user: str) -> str:
    """The evidence line that holds the question's last word, verbatim, with its marker."""
    asked = re.findall(r"\w+", user.split("Question:")[-1].split("\n")[0])
    for line in user.splitlines():
        match = re.match(r"\[(\d+)\] (?:\(.*?\) )?(.*)", line)
        if match and asked and asked[-1].lower() in line.lower():
            return f"{match.group(2)} [{match.group(1)}]"
    return "NOT_FOUND"


if not getattr(services_module, "_faked", False):
    services_module._faked = True  # type: ignore[attr-defined]
    llm = ScriptedLLM(_quote, delay=0.01)  # streamed slowly: every partial text is drawn
    services_module.load_embedder = lambda spec, threads: FakeEmbedder()  # type: ignore[assignment]
    services_module.Services.llm = lambda self: llm  # type: ignore[method-assign]
    rebuild_module.SETUP = fake_models_in_this_process  # the page's rebuild runs in a child process

runpy.run_path(str(TESTS.parent / "app.py"), run_name="__main__")
