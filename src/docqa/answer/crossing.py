"""Across languages: the verified answer, written in the sources' language, translated for the asker
sentence by sentence, each keeping the citations it was verified with."""

from __future__ import annotations

import re
import time
from collections.abc import Generator
from dataclasses import replace
from typing import TypeVar

from docqa.answer.compose import abstain, cited_text, markers
from docqa.answer.events import Event, Token
from docqa.answer.prompt import LANGUAGE_NAMES
from docqa.answer.verify import MARKER
from docqa.index import detect_language
from docqa.models import LLM
from docqa.types import Answer

T = TypeVar("T")
SENTENCE_REQUEST_OPENING = "Translate this sentence into"
_NUMBER = re.compile(r"\d+")


def quiet(events: Generator[Event, None, T]) -> Generator[Event, None, T]:
    """The events without their tokens (a draft the asker will not read), and the generator's result."""
    while True:
        try:
            event = next(events)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if not isinstance(event, Token):
            yield event


def sentence_request(sentence: str, lang: str) -> str:
    target = LANGUAGE_NAMES.get(lang, "English")
    return (f"{SENTENCE_REQUEST_OPENING} {target}, keeping every name and number. Reply with the {target} "
            f"sentence only.\n\nSentence: {sentence}")


def translation_of(reply: str, sentence: str, lang: str) -> str:
    """The reply if it reads as the sentence in `lang` (one line, its numbers kept, not an echo of
    the request), else "": the sentence is then shown as verified, in the sources' language."""
    text = MARKER.sub("", reply).strip().strip('"“”')  # its citations are the verified sentence's
    if not text or "\n" in text or SENTENCE_REQUEST_OPENING.lower() in text.lower():
        return ""
    if not set(_NUMBER.findall(sentence)) <= set(_NUMBER.findall(text)):
        return ""
    return text if detect_language(text, default=lang) == lang else ""


def in_language(
    llm: LLM, system: str, answer: Answer, lang: str, source: str, t0: float, timings: dict[str, float],
) -> Generator[Event, None, Answer]:
    """`answer` (verified in `source`) in `lang`, streamed as it is translated. An abstention keeps its
    reason; a sentence the model does not translate cleanly stays as it was verified."""
    if answer.abstained:
        return replace(abstain(lang, answer.reason), suggestion=answer.suggestion)
    started, sentences, first = time.perf_counter(), [], None
    for i, sentence in enumerate(answer.sentences):
        pieces: list[str] = []
        if i:
            yield Token(" ")
        with llm.complete(system, sentence_request(sentence.text, lang), 2 * len(sentence.text.split()) + 24) as reply:
            for piece in reply:
                first = first if first is not None else time.perf_counter() - t0
                pieces.append(piece)
                yield Token(piece)  # the verified answer replaces it if the translation is not kept
        sentences.append(replace(sentence, text=translation_of("".join(pieces), sentence.text, lang) or sentence.text))
        yield Token(markers(sentence))
    timings["ttft_s"] = round(first if first is not None else time.perf_counter() - t0, 3)
    timings["translate_s"] = round(time.perf_counter() - started, 3)
    return replace(answer, text=cited_text(sentences), lang=lang, sentences=tuple(sentences))
