"""The LLM seam: chat templates read from the model, per-call completions, and a model freed at once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import pytest
from fakes import ScriptedLLM, source_number

from docqa.answer.asker import Asker
from docqa.answer.events import Token
from docqa.answer.guards import Policy
from docqa.interfaces.services import Services
from docqa.models.chat import CHATML, FALLBACK, FROM_GGUF, ChatFormat, chat_format
from docqa.models.llm import LlamaCppLLM

TEMPLATES = Path(__file__).parent / "templates"
SPECIAL = {
    "chatml": {"eos": "<|im_end|>"},
    "qwen2": {"eos": "<|im_end|>"},
    "llama3": {"bos": "<|begin_of_text|>", "eos": "<|end_of_text|>", "eot": "<|eot_id|>"},
    "gemma": {"bos": "<bos>", "eos": "<eos>", "eot": "<end_of_turn>"},
    "mistral": {"bos": "<s>", "eos": "</s>"},
}


def _format(family: str) -> ChatFormat:
    template = CHATML if family == "chatml" else (TEMPLATES / f"{family}.jinja").read_text("utf-8")
    return chat_format({"tokenizer.chat_template": template}, SPECIAL[family])


@pytest.mark.parametrize("family", list(SPECIAL))
def test_every_family_renders_system_history_and_question_in_order(family: str) -> None:
    fmt = _format(family)
    prompt = fmt.render("RULES", "QUESTION", earlier=[("FIRST", "REPLY")])
    positions = [prompt.index(x) for x in ("RULES", "FIRST", "REPLY", "QUESTION")]
    assert positions == sorted(positions) and fmt.source == FROM_GGUF
    # The fixed prefix comes first in every prompt, so llama.cpp keeps it in its KV cache.
    assert prompt.startswith(fmt.prefix("RULES")) and "RULES" in fmt.prefix("RULES")
    assert not prompt.rstrip().endswith("QUESTION") or family == "mistral"  # the reply's opening follows


def test_the_renderings_are_each_familys_own() -> None:
    assert _format("llama3").render("S", "Q").endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert _format("llama3").render("S", "Q").startswith("<|begin_of_text|><|start_header_id|>system")
    # Gemma and Mistral refuse a system role: it opens the first user turn instead.
    assert _format("gemma").render("S", "Q") == "<bos><start_of_turn>user\nS\n\nQ<end_of_turn>\n<start_of_turn>model\n"
    assert _format("mistral").render("S", "Q") == "<s>[INST] S\n\nQ [/INST]"
    assert _format("llama3").stops == ("<|eot_id|>", "<|end_of_text|>")


def test_qwens_own_template_gives_the_prompt_chatml_gave() -> None:
    expected = "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"
    assert _format("qwen2").render("S", "Q") == expected == _format("chatml").render("S", "Q")


def test_a_gguf_without_a_template_falls_back_to_chatml_and_says_so() -> None:
    fmt = chat_format({}, {"bos": "<bos>", "eos": "<eos>"})
    assert fmt.source == FALLBACK and "<|im_end|>" in fmt.stops and "<eos>" in fmt.stops
    assert fmt.render("S", "Q").endswith("<|im_start|>assistant\n")


def _two_at_once(services: Services) -> tuple[object, object]:
    """Two questions answered in two threads through one model; only the first one's model hesitates."""
    services.build()
    reply = lambda u: f"Se reunirán en Washington [{source_number(u, 'Washington')}]." if "reunir" in u.split("Question:")[-1] else (
        f"Es secretario de Estado [{source_number(u, 'Blinken')}]." )
    llm = ScriptedLLM(reply, watch_prob=lambda u: 0.3 if "reunir" in u.split("Question:")[-1] else 0.0001, delay=0.01)
    asker = Asker(services.reader, services.embedder(), lambda: llm, policy=Policy(not_found_prob=0.02))
    out: dict[str, object] = {}
    questions = {"hesitant": "¿Dónde se reunirán nuevamente las delegaciones?", "sure": "¿Qué cargo tiene Antony Blinken?"}
    threads = [threading.Thread(target=lambda k=k, q=q: out.__setitem__(k, asker.ask(q))) for k, q in questions.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out["hesitant"], out["sure"]


def test_two_answers_at_once_see_only_their_own_figures(services: Services) -> None:
    hesitant, sure = _two_at_once(services)
    assert hesitant.grade == "unverified" and hesitant.signals["not_found"] == 0.3  # type: ignore[attr-defined]
    assert sure.grade == "verified" and sure.signals["not_found"] == 0.0001  # type: ignore[attr-defined]


class _FakeLlama:
    """Just enough of llama_cpp.Llama to drive LlamaCppLLM without model weights."""

    metadata: ClassVar[dict[str, str]] = {"tokenizer.chat_template": CHATML}

    def token_bos(self) -> int:
        return -1

    def token_eos(self) -> int:
        return 0

    def detokenize(self, tokens: list[int], special: bool = False) -> bytes:
        return b"<|im_end|>"

    def tokenize(self, text: bytes, add_bos: bool = False, special: bool = False) -> list[int]:
        return list(range(1, len(text.split()) + 1))

    def create_completion(self, tokens, **kw):  # type: ignore[no-untyped-def]
        for word in ["Se", "reunirán", "en", "Washington", "[1]", "."]:
            yield {"choices": [{"text": word + " "}]}


def _llama_cpp_llm() -> LlamaCppLLM:
    llm = LlamaCppLLM.__new__(LlamaCppLLM)
    llm._llama, llm._lock, llm.id, llm._add_bos = _FakeLlama(), threading.Lock(), "llama.cpp:fake", False
    llm.format = chat_format(_FakeLlama.metadata, {"eos": "<|im_end|>"})
    return llm


def test_an_abandoned_completion_frees_the_model_at_once() -> None:
    llm = _llama_cpp_llm()
    first = llm.complete("S", "Q", 10)
    assert next(first) and first.prompt_tokens > 0
    assert not llm._lock.acquire(blocking=False)  # generating: the model is held
    first.close()
    assert llm._lock.acquire(blocking=False)  # the user asked again: free at once
    llm._lock.release()
    assert llm.complete("S", "Q", 10).text().startswith("Se reunirán")


def test_an_answer_stream_left_midway_frees_the_model(services: Services) -> None:
    services.build()
    llm = _llama_cpp_llm()
    stream = Asker(services.reader, services.embedder(), lambda: llm).stream("¿Dónde se reunirán nuevamente las delegaciones?")
    assert any(isinstance(e, Token) for e in stream)  # stops at the first token
    assert not llm._lock.acquire(blocking=False)
    stream.close()  # the user left, or asked again, while the answer streamed
    assert llm._lock.acquire(blocking=False)
