"""The LLM seam: a Protocol that starts a completion, the per-call Completion, and llama.cpp's implementation."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

from docqa.models.chat import ChatFormat, chat_format

# Documents' evaluated states kept on disk (~28 KB a token for the packaged model, so ~45 MB for a
# 1,600-token document); the least recently used go first.
KEPT_DOCUMENTS = 8
GREEDY = {"temperature": 0.0, "top_k": 1, "repeat_penalty": 1.0}  # repeatable answers, and the raw bench call's


class Completion:
    """One call's reply: iterate it for text pieces. Its figures belong to this call alone, so two
    sessions answering at once never read each other's. Closing it (or leaving its `with` block)
    stops generation and frees the model at once."""

    def __init__(self, pieces: Callable[[Completion], Iterator[str]]) -> None:
        self.prompt_tokens = 0
        # Probability the model gave to opening its reply with the watched text; 0 if not watched.
        self.watch_prob = 0.0
        self._pieces = pieces(self)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._pieces)

    def text(self) -> str:
        return "".join(self)

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@runtime_checkable
class LLM(Protocol):
    """Answers a system + user message; greedy, so answers are repeatable."""

    id: str

    def complete(
        self, system: str, user: str, max_tokens: int, watch: str = "", earlier: Sequence[tuple[str, str]] = ()
    ) -> Completion: ...


@runtime_checkable
class PrefixKeeper(Protocol):
    """Keeps an evaluated prompt prefix (a document read whole) for the next questions on it."""

    def keep(self, system: str, user: str, upto: int) -> str: ...


class LlamaCppLLM:
    """Any GGUF chat model through llama-cpp-python on the CPU, prompted with its own chat template.
    One Llama object is not thread-safe, so a completion holds a lock while it generates."""

    def __init__(self, model_path: Path, threads: int, n_ctx: int = 2048) -> None:
        from llama_cpp import Llama

        self._llama = Llama(
            model_path=str(model_path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
            n_batch=512, verbose=False,
        )
        self._lock = threading.Lock()
        self._path = model_path
        self.id = f"llama.cpp:{model_path.name}"
        self.format: ChatFormat = chat_format(self._llama.metadata, self._special_tokens())
        self._add_bos = self._llama.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
        self._cache: Path | None = None  # where evaluated states are saved, once `warm` is given one

    def _special_tokens(self) -> dict[str, str]:
        meta = self._llama.metadata
        ids = {"bos": self._llama.token_bos(), "eos": self._llama.token_eos()}
        if "tokenizer.ggml.eot_token_id" in meta:
            ids["eot"] = int(meta["tokenizer.ggml.eot_token_id"])
        out = {}
        for name, token in ids.items():
            if token is not None and token >= 0:
                out[name] = self._llama.detokenize([token], special=True).decode("utf-8", "ignore")
        return out

    def _tokens(self, text: str) -> list[int]:
        tokens = self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        bos = self._llama.token_bos()
        # Templates that write no BOS themselves rely on the tokenizer's flag to get one.
        if self._add_bos and bos >= 0 and (not tokens or tokens[0] != bos):
            tokens = [bos, *tokens]
        return tokens

    def warm(self, system: str, cache: Path | None = None) -> str:
        """Evaluate the fixed system prefix once; llama.cpp then reuses it from the KV cache,
        because every prompt starts with the same tokens. With `cache`, a folder, the evaluated
        state is saved there and loaded by the next process (a cold CLI start), and `keep` saves
        documents' states there too. Returns what it did: "", "evaluated", "loaded" or "saved"."""
        self._cache = cache if cache is not None else self._cache
        prefix = self.format.prefix(system)
        if not prefix:
            return ""
        tokens = self._tokens(prefix)
        with self._lock:
            return self._restore(tokens, cache / f"prefix-{self._state_key(tokens)}.state" if cache is not None else None)

    def keep(self, system: str, user: str, upto: int) -> str:
        """Make the prompt up to `user[:upto]` (a document read whole, before the question) the
        model's evaluated state: already there ("kept"), loaded from the cache folder ("loaded"), or
        evaluated and saved there ("saved"; "evaluated" without a folder). A later question on the
        same document then pays only for its own tokens, in this process and the next."""
        whole = self.format.render(system, user)
        # The tokens the prompt itself starts with: cut on its own, the prefix may end in a token that
        # merges with the text after it ("\n" + "\nQuestion" is one "\n\n"), which the prompt never has.
        full, head = self._tokens(whole), self._tokens(whole[: whole.index(user) + upto])
        tokens = head[: next((i for i, (a, b) in enumerate(zip(head, full)) if a != b), min(len(head), len(full)))]
        with self._lock:
            if self._llama.n_tokens >= len(tokens) and list(self._llama.input_ids[: len(tokens)]) == tokens:
                return "kept"
            path = self._cache / f"doc-{self._state_key(tokens)}.state" if self._cache is not None else None
            done = self._restore(tokens, path)
        if path is not None and done == "saved":
            _evict(path.parent, "doc-*.state", KEPT_DOCUMENTS)
        return done

    def _restore(self, tokens: list[int], path: Path | None) -> str:
        """The state after `tokens`: loaded from `path` if saved there, else evaluated (and saved)."""
        self._llama.reset()
        if path is not None and path.is_file() and self._load_state(path, tokens):
            os.utime(path)  # recently used: the last to be evicted
            return "loaded"
        self._llama.eval(tokens)
        return "saved" if path is not None and self._save_state(path, tokens) else "evaluated"

    def _state_key(self, tokens: list[int]) -> str:
        import hashlib
        from importlib import metadata

        st = self._path.stat()
        # A state only fits the same model file, context size and llama.cpp build.
        seed = f"{self._path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{self._llama.n_ctx()}|{metadata.version('llama-cpp-python')}"
        return hashlib.sha256((seed + "|" + ",".join(map(str, tokens))).encode()).hexdigest()[:20]

    def _load_state(self, path: Path, tokens: list[int]) -> bool:
        import ctypes

        import llama_cpp

        out = (llama_cpp.llama_token * len(tokens))()
        count = ctypes.c_size_t(0)
        ok = llama_cpp.llama_state_load_file(self._llama._ctx.ctx, str(path).encode(), out, len(tokens), ctypes.byref(count))
        if not ok or list(out[: count.value]) != tokens:
            self._llama.reset()
            return False
        self._llama.input_ids[: len(tokens)] = tokens
        self._llama.n_tokens = len(tokens)
        return True

    def _save_state(self, path: Path, tokens: list[int]) -> bool:
        import llama_cpp

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            arr = (llama_cpp.llama_token * len(tokens))(*tokens)
            ok = llama_cpp.llama_state_save_file(self._llama._ctx.ctx, str(tmp).encode(), arr, len(tokens))
            if ok:
                os.replace(tmp, path)  # readers never see half a file
            return bool(ok)
        except OSError:
            return False  # a read-only models folder: the next start evaluates the prefix again

    def complete(
        self, system: str, user: str, max_tokens: int, watch: str = "", earlier: Sequence[tuple[str, str]] = ()
    ) -> Completion:
        """The reply, streamed; with `watch`, the completion also records the probability of the
        reply's first token being the first token of `watch` (a calibrated signal, unlike the greedy
        choice alone). A reply to an `earlier` exchange reuses its tokens from the KV cache."""
        prompt = self.format.render(system, user, earlier)
        return Completion(lambda c: self._generate(c, prompt, max_tokens, watch))

    def _generate(self, completion: Completion, prompt: str, max_tokens: int, watch: str) -> Iterator[str]:
        import numpy as np
        from llama_cpp import LogitsProcessorList

        with self._lock:  # released when the generator finishes or is closed
            target = self._llama.tokenize(watch.encode("utf-8"), add_bos=False, special=False)[0] if watch else None
            seen = {"first": True}

            def observe(_ids: object, scores: np.ndarray) -> np.ndarray:
                if seen["first"] and target is not None:
                    z = scores.astype(np.float64) - float(scores.max())
                    completion.watch_prob = float(np.exp(z[target]) / np.exp(z).sum())
                seen["first"] = False
                return scores

            tokens = self._tokens(prompt)
            completion.prompt_tokens = len(tokens)
            parts = self._llama.create_completion(
                tokens, max_tokens=max_tokens, stop=list(self.format.stops), stream=True,
                logits_processor=LogitsProcessorList([observe]), **GREEDY,
            )
            try:
                for part in parts:
                    text = part["choices"][0]["text"]  # type: ignore[index]
                    if text:
                        yield text
            finally:
                parts.close()  # type: ignore[union-attr]


def _evict(folder: Path, pattern: str, keep: int) -> None:
    def used(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:  # removed meanwhile by another process
            return 0.0

    for old in sorted(folder.glob(pattern), key=used, reverse=True)[keep:]:
        old.unlink(missing_ok=True)


def raw_stream(llm: LlamaCppLLM, system: str, user: str, max_tokens: int) -> Iterator[str]:
    """The bare llama-cpp-python call on the same rendered prompt, model and threads: what
    `docqa bench answer` measures docqa against."""
    with llm._lock:
        parts = llm._llama.create_completion(
            llm._tokens(llm.format.render(system, user, ())), max_tokens=max_tokens,
            stop=list(llm.format.stops), stream=True, **GREEDY,
        )
        for part in parts:
            text = part["choices"][0]["text"]  # type: ignore[index]
            if text:
                yield text
