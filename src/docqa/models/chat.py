"""Chat templates: render a GGUF's own `tokenizer.chat_template` with jinja2, as llama.cpp does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

# Used only for a GGUF that stores no template; the user is told (`docqa models`, status, sidebar).
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CHATML_STOPS = ("<|im_end|>", "<|im_start|>", "<|endoftext|>")
FROM_GGUF, FALLBACK = "gguf", "chatml fallback"
# Marks where the user's message goes, to split off the fixed prefix that the KV cache keeps.
_SLOT = "\x00docqa-user\x00"


class TemplateError(RuntimeError):
    pass


@dataclass(frozen=True)
class ChatFormat:
    """How one model wants its conversation written, and the strings that end its reply."""

    template: str
    source: str  # FROM_GGUF or FALLBACK
    bos: str = ""
    eos: str = ""
    stops: tuple[str, ...] = ()

    @cached_property
    def _compiled(self):  # type: ignore[no-untyped-def]
        import jinja2.ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        def raise_exception(message: str) -> None:
            raise TemplateError(message)

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
        env.globals.update(raise_exception=raise_exception, strftime_now=lambda fmt: datetime.now().strftime(fmt))
        return env.from_string(self.template)

    def render(self, system: str, user: str, earlier: Sequence[tuple[str, str]] = ()) -> str:
        """The whole prompt, ending where the assistant's reply starts. `earlier` holds (user,
        assistant) turns. A template that refuses a system role (Gemma, Mistral) gets the system
        message at the head of the first user turn, which is what those models were tuned on."""
        turns = [m for u, a in earlier for m in ({"role": "user", "content": u}, {"role": "assistant", "content": a})]
        turns.append({"role": "user", "content": user})
        try:
            return self._render([{"role": "system", "content": system}, *turns])
        except TemplateError:
            first = {"role": "user", "content": f"{system}\n\n{turns[0]['content']}"}
            return self._render([first, *turns[1:]])

    def prefix(self, system: str) -> str:
        """The text every prompt with this system message starts with: evaluated once, then reused."""
        whole = self.render(system, _SLOT)
        return whole[: whole.index(_SLOT)] if _SLOT in whole else ""

    def _render(self, messages: list[dict[str, str]]) -> str:
        try:
            return str(self._compiled.render(messages=messages, bos_token=self.bos, eos_token=self.eos, add_generation_prompt=True))
        except TemplateError:
            raise
        except Exception as err:
            raise TemplateError(f"the model's chat template cannot be rendered: {err}") from err


def chat_format(metadata: Mapping[str, str], token_text: Mapping[str, str]) -> ChatFormat:
    """The format a GGUF asks for. `token_text` gives the text of its special tokens (bos, eos, eot)
    by name; the reply ends at the model's end-of-turn and end-of-text tokens."""
    stops = tuple(dict.fromkeys(t for t in (token_text.get("eot", ""), token_text.get("eos", "")) if t))
    template = metadata.get("tokenizer.chat_template", "")
    if template:
        return ChatFormat(template, FROM_GGUF, token_text.get("bos", ""), token_text.get("eos", ""), stops)
    return ChatFormat(CHATML, FALLBACK, token_text.get("bos", ""), token_text.get("eos", ""), tuple(dict.fromkeys(stops + CHATML_STOPS)))
