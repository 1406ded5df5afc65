"""Test doubles for the embedder and LLM seams: bag-of-words vectors and scripted replies, no model files."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence

import numpy as np

from docqa.answer.entail import OPENING as CHECK_OPENING
from docqa.index.lexical import fold
from docqa.models.llm import Completion


class FakeEmbedder:
    """Hashes folded words into a fixed-size vector, so shared words mean similar vectors."""

    def __init__(self, id: str = "sentence-transformers:fake", dim: int = 64, delay: float = 0.0) -> None:
        self.id, self.dim, self.delay = id, dim, delay
        self.passages_embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        for word in fold(text).split():
            word = "".join(c for c in word if c.isalnum())
            if word:
                v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v + 1.0 / np.sqrt(self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.delay:
            time.sleep(self.delay)
        self.passages_embedded += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


class ScriptedLLM:
    """Replies with `script(user_message)`, streamed a few characters at a time; records prompts. An
    entailment check is answered by `check` ("Yes" unless given) and recorded apart, in `checks`.
    `watch_prob` is the NOT_FOUND probability each completion reports (else 1 for a NOT_FOUND reply)."""

    id = "fake-llm"

    def __init__(self, script, watch_prob: float | None = None, delay: float = 0.0, check=None) -> None:  # type: ignore[no-untyped-def]
        self.script = script
        self.check = check or (lambda user: "Yes")  # the reply to an entailment check
        self.watch_prob = watch_prob
        self.delay = delay  # seconds per piece, for tests of concurrent answers
        self.prompts: list[str] = []
        self.earlier: list[list[tuple[str, str]]] = []  # the earlier turns of each call
        self.checks: list[str] = []  # the entailment checks' prompts, kept apart from the drafts

    def complete(self, system: str, user: str, max_tokens: int, watch: str = "", earlier=()) -> Completion:  # type: ignore[no-untyped-def]
        if user.startswith(CHECK_OPENING):
            self.checks.append(user)
        else:
            self.prompts.append(user)
            self.earlier.append(list(earlier))
        return Completion(lambda c: self._pieces(c, system, user, watch))

    def _pieces(self, c: Completion, system: str, user: str, watch: str):  # type: ignore[no-untyped-def]
        c.prompt_tokens = len((system + user).split())
        reply = self.check(user) if user.startswith(CHECK_OPENING) else self.script(user)
        c.watch_prob = 1.0 if watch and reply.startswith(watch) else 0.0
        if self.watch_prob is not None and watch and not user.startswith(CHECK_OPENING):
            c.watch_prob = self.watch_prob(user) if callable(self.watch_prob) else self.watch_prob
        for i in range(0, len(reply), 4):
            if self.delay:
                time.sleep(self.delay)
            yield reply[i : i + 4]


def source_number(user: str, needle: str) -> int:
    """The [n] of the first evidence line containing `needle`, or 0."""
    for line in user.splitlines():
        if line.startswith("[") and needle in line:
            return int(line[1 : line.index("]")])
    return 0


def seen(markdown: str) -> str:
    """What a reader sees of docqa's inert Markdown (docqa.interfaces.render.inert): escapes and joiners gone."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def fake_models_in_this_process() -> None:
    """The fake embedder for every Services of this process: the first step of a page's rebuild
    child (docqa.interfaces.rebuild.SETUP), which starts from a clean import."""
    from docqa.interfaces import rebuild, services

    services.load_embedder = rebuild.load_embedder = lambda spec, threads: FakeEmbedder()  # type: ignore[assignment]


def killed_by_the_kernel() -> None:
    """A rebuild child that ends as the kernel's out-of-memory killer ends it."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
