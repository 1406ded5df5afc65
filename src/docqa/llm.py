"""The LLM seam: a Protocol that streams a completion, and the llama.cpp implementation."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

STOP = ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]


@runtime_checkable
class LLM(Protocol):
    """Streams the assistant's reply to a system + user message; greedy, so answers are repeatable."""

    id: str
    last_prompt_tokens: int
    # Probability the model gave to starting its reply with `watch` (see stream); 0 if unknown.
    last_watch_prob: float

    def stream(
        self, system: str, user: str, max_tokens: int, watch: str = "", earlier: Sequence[tuple[str, str]] = ()
    ) -> Iterator[str]: ...


def chatml(system: str, user: str, earlier: Sequence[tuple[str, str]] = ()) -> tuple[str, str]:
    """The Qwen chat template, split into the fixed system prefix and the per-question rest.
    `earlier` holds (user, assistant) turns before `user`."""
    prefix = f"<|im_start|>system\n{system}<|im_end|>\n"
    turns = "".join(f"<|im_start|>user\n{u}<|im_end|>\n<|im_start|>assistant\n{a}<|im_end|>\n" for u, a in earlier)
    return prefix, f"{turns}<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


class LlamaCppLLM:
    """llama-cpp-python on the CPU. One Llama object is not thread-safe, so every call holds a lock."""

    def __init__(self, model_path: Path, threads: int, n_ctx: int = 2048) -> None:
        from llama_cpp import Llama

        self._llama = Llama(
            model_path=str(model_path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
            n_batch=512, verbose=False,
        )
        self._lock = threading.Lock()
        self.id = f"llama.cpp:{model_path.name}"
        self.last_prompt_tokens = 0
        self.last_watch_prob = 0.0

    def _tokens(self, text: str) -> list[int]:
        return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def warm(self, system: str) -> None:
        """Evaluate the fixed system prefix once; llama.cpp then reuses it from the KV cache,
        because every prompt starts with the same tokens."""
        prefix, _ = chatml(system, "")
        with self._lock:
            self._llama.reset()
            self._llama.eval(self._tokens(prefix))

    def stream(
        self, system: str, user: str, max_tokens: int, watch: str = "", earlier: Sequence[tuple[str, str]] = ()
    ) -> Iterator[str]:
        """Stream the reply; with `watch`, also record the probability of the reply's first token
        being the first token of `watch` (a calibrated signal, unlike the greedy choice alone).
        A reply to an `earlier` exchange reuses its tokens from the KV cache, as they come first."""
        import numpy as np
        from llama_cpp import LogitsProcessorList

        prefix, rest = chatml(system, user, earlier)
        target = self._tokens(watch)[0] if watch else None
        seen = {"first": True}

        def observe(_ids: object, scores: np.ndarray) -> np.ndarray:
            if seen["first"] and target is not None:
                z = scores.astype(np.float64) - float(scores.max())
                self.last_watch_prob = float(np.exp(z[target]) / np.exp(z).sum())
            seen["first"] = False
            return scores

        with self._lock:
            tokens = self._tokens(prefix + rest)
            self.last_prompt_tokens = len(tokens)
            self.last_watch_prob = 0.0
            for part in self._llama.create_completion(
                tokens, max_tokens=max_tokens, temperature=0.0, top_k=1, repeat_penalty=1.0,
                stop=STOP, stream=True, logits_processor=LogitsProcessorList([observe]),
            ):
                text = part["choices"][0]["text"]  # type: ignore[index]
                if text:
                    yield text
