"""A model behind an OpenAI-compatible server (llama.cpp's, llama-cpp-python's, Ollama, vLLM, LM
Studio): streamed chat completions, the first token's probabilities where the server gives them,
and every failure said in one line that names the server and what to do."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from docqa.config import UserError
from docqa.models.llm import Completion

# Greedy, like the in-process model, in the names llama.cpp's servers read (others ignore them);
# `cache_prompt` asks llama.cpp to reuse the prompt's evaluated prefix from the slot's cache; the
# usage chunk gives the prompt's length for the timings.
EXTRAS = {"top_k": 1, "repeat_penalty": 1.0, "cache_prompt": True, "stream_options": {"include_usage": True}}
TOP_LOGPROBS = 20  # the most the API allows: where the watched token is looked for


class ModelServerError(UserError):
    """The model server failed; the message says which, and how to get it back."""


def served_key(url: str, model: str) -> str:
    """What a served model's calibration profile is keyed by, as a GGUF's is by its sha256."""
    return hashlib.sha256(f"{url}|{model}".encode()).hexdigest()


class ServedLLM:
    """The LLM seam over HTTP. Thread-safe: several sessions stream from it at once; nothing of one
    call is kept on the object."""

    def __init__(self, url: str, model: str = "", timeout: float = 120.0, key: str = "") -> None:
        from openai import OpenAI

        self.url = url
        self.timeout = timeout
        # No retries of its own: a failure is said at once, and the next question tries again.
        self._client = OpenAI(base_url=url, api_key=key or "not-needed", timeout=timeout, max_retries=0)
        self._model = model
        self._checked = False
        self._extras: dict[str, object] = dict(EXTRAS)
        self._tokens: dict[str, str] = {}  # a watched text's first token, as this server's model cuts it
        self.id = f"server:{model or '?'}@{url}"

    def model_name(self) -> str:
        """The model asked for, checked against what the server lists (the first listed if none was named)."""
        if self._checked:
            return self._model
        with self._errors():
            names = [m.id for m in self._client.models.list()]
        if not self._model and not names:
            raise ModelServerError(f"the model server at {self.url} lists no model; load one there, or name it with DOCQA_LLM_MODEL")
        if self._model and names and self._model not in names:
            raise ModelServerError(f"the model server at {self.url} has no model '{self._model}' (it serves: {', '.join(names[:8])}); "
                                   "set DOCQA_LLM_MODEL to one of them")
        self._model = self._model or names[0]
        self.id = f"server:{self._model}@{self.url}"
        self._checked = True
        return self._model

    def warm(self, system: str) -> str:
        """Have the server evaluate the system message once, before any question, as the in-process
        model does: a server that keeps its prompt cache then starts each question's prompt from it.
        Returns "evaluated", or why not (a server that is down is said at the first question)."""
        try:
            self.complete(system, "", 1).text()
        except ModelServerError as err:
            return str(err)
        return "evaluated"

    def complete(
        self, system: str, user: str, max_tokens: int, watch: str = "", earlier: Sequence[tuple[str, str]] = ()
    ) -> Completion:
        messages = [{"role": "system", "content": system}]
        for question, answer in earlier:
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        messages.append({"role": "user", "content": user})
        return Completion(lambda c: self._generate(c, messages, max_tokens, watch))

    def first_token(self, text: str) -> str:
        """The first token of `text` as the served model cuts it (the API has no tokenizer): the
        token it opens its reply with when asked to repeat `text`; where that is not how `text`
        starts, the text's first letter. Asked once per text."""
        if text not in self._tokens:
            messages = [{"role": "system", "content": "Repeat the user's message exactly, nothing else."},
                        {"role": "user", "content": text}]
            with self._errors():
                stream = self._open(self.model_name(), messages, 1, True)
                try:
                    got = [c.choices[0].logprobs.content[0].token for c in stream
                           if getattr(c, "choices", None) and getattr(c.choices[0], "logprobs", None) and c.choices[0].logprobs.content]
                finally:
                    stream.close()
            token = got[0] if got else ""
            self._tokens[text] = token if token.strip() and text.startswith(token) else text[:1]
        return self._tokens[text]

    def _generate(self, completion: Completion, messages: list[dict[str, str]], max_tokens: int, watch: str) -> Iterator[str]:
        model = self.model_name()
        watched_token = self.first_token(watch) if watch else ""
        with self._errors():
            stream = self._open(model, messages, max_tokens, bool(watch))
            try:
                answered = watched = finished = False
                for chunk in stream:
                    usage = getattr(chunk, "usage", None)
                    if usage is not None and getattr(usage, "prompt_tokens", None):
                        completion.prompt_tokens = int(usage.prompt_tokens)
                    if not getattr(chunk, "choices", None):
                        continue
                    answered = True
                    choice = chunk.choices[0]
                    content = getattr(choice.logprobs, "content", None) if getattr(choice, "logprobs", None) else None
                    if watch and not watched and content:
                        completion.watch_prob = first_prob(content[0].top_logprobs or [], watched_token)
                        watched = True
                    finished = finished or bool(getattr(choice, "finish_reason", None))
                    text = choice.delta.content if choice.delta is not None else None
                    if text:
                        yield text
                if not answered:
                    raise ModelServerError(self._not_api("its reply held no completion"))
                if not finished:
                    # llama-cpp-python's server, by default, ends one reply when another request comes.
                    raise ModelServerError(f"the model server at {self.url} ended the reply unfinished; if it is llama-cpp-python's "
                                           "server, start it with --interrupt_requests False, then ask again")
            finally:
                stream.close()

    def _open(self, model: str, messages: list[dict[str, str]], max_tokens: int, logprobs: bool) -> Any:
        import openai

        asked: dict[str, Any] = {"logprobs": True, "top_logprobs": TOP_LOGPROBS} if logprobs else {}
        try:
            return self._client.chat.completions.create(
                model=model, messages=messages, max_tokens=max_tokens, temperature=0.0, stream=True,  # type: ignore[arg-type]
                extra_body=self._extras or None, **asked,
            )
        except (openai.BadRequestError, openai.UnprocessableEntityError):
            if not self._extras:
                raise
            # A server that refuses llama.cpp's names for greedy sampling and prompt caching: ask
            # without them from now on (temperature 0 is greedy everywhere).
            self._extras = {}
            return self._open(model, messages, max_tokens, logprobs)

    def _not_api(self, what: str) -> str:
        return (f"the server at {self.url} did not answer as an OpenAI-compatible API ({what}); "
                "check that DOCQA_LLM_URL is the API's root, ending in /v1")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """The client's exceptions as one line each; a failure makes the next call check the server again."""
        import openai

        try:
            yield
        except ModelServerError:
            raise
        except openai.APITimeoutError:
            self._checked = False
            raise ModelServerError(f"the model server at {self.url} sent nothing for {self.timeout:g} s; it may be busy or "
                                   "still loading: try again, or raise DOCQA_LLM_TIMEOUT") from None
        except openai.APIConnectionError as err:
            self._checked = False
            cause = err.__cause__ or err
            raise ModelServerError(f"the model server at {self.url} is not reachable ({_short(cause)}); start it, or fix "
                                   "DOCQA_LLM_URL / --llm-url") from None
        except openai.NotFoundError:
            self._checked = False
            raise ModelServerError(self._not_api("it answered 404 Not Found")) from None
        except openai.APIStatusError as err:
            self._checked = False
            raise ModelServerError(f"the model server at {self.url} answered {err.status_code} ({_short(_detail(err))}); "
                                   "see its log, then ask again") from None
        except (openai.APIResponseValidationError, json.JSONDecodeError, AttributeError, TypeError) as err:
            self._checked = False
            raise ModelServerError(self._not_api(_short(err))) from None


def first_prob(top: Sequence[Any], token: str) -> float:
    """The probability of `token` among the first token's most likely alternatives; 0 when it is not
    one of them (below the 20 likeliest)."""
    return next((math.exp(t.logprob) for t in top if t.token == token), 0.0)


def _detail(err: Any) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        return str(inner.get("message", inner) if isinstance(inner, dict) else inner)
    return str(getattr(err, "message", err))


def _short(err: object) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 160 else text[:157] + "..."
