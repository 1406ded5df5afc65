"""Words an answer kept in its sources' language, and the turn that asks the model to translate them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from docqa.answer.prompt import LANGUAGE_NAMES
from docqa.answer.verify import MARKER, content_terms
from docqa.index import detect_language, in_dictionary
from docqa.models import LLM

_WORD = re.compile(r"[^\W\d_]{2,}")
_NUMBER = re.compile(r"\d+")
# How the translation request opens; a small model sometimes echoes it instead of answering.
REQUEST_OPENING = "Your answer has"
# Enough to name the problem; a long list costs prompt time and the model translates the rest anyway.
MAX_LISTED = 6


def source_language(lang: str, evidence_langs: Sequence[str]) -> str:
    """The evidence's most common language other than the question's ("" when all share it)."""
    others = [x for x in evidence_langs if x and x != lang]
    return max(others, key=others.count) if others else ""


def untranslated(answer: str, lang: str, source_lang: str, question: str = "") -> list[str]:
    """The answer's words that the sources' language has and the answer's language lacks, in order:
    what a small model copies from a Spanish source into an English answer ("the eje impulsor").
    Words both languages have ("general", "vapor"), names neither knows ("Wojciech") and the
    question's own words ("López Obrador", as the user wrote it) pass."""
    if lang == source_lang:
        return []
    asked = {w.lower() for w in _WORD.findall(question)}
    words = _WORD.findall(MARKER.sub(" ", answer))
    return list(dict.fromkeys(w for w in words if w.lower() not in asked and _has(w, source_lang) and not _has(w, lang)))


def _has(word: str, lang: str) -> bool:
    # Names are listed capitalised ("Varsovia"), other words in lower case ("Eje" opening a sentence).
    return in_dictionary(word, lang) or in_dictionary(word.lower(), lang)


def translation_request(words: Sequence[str], lang: str, source_lang: str) -> str:
    """The next user turn, after the model's draft: translate what it left in the sources' language.
    Asked to translate only those words, the model keeps the rest; asked to rewrite the answer, it
    changed facts ("Partido Liberal" became "Labor Party"; docs/experiments.md, "Translation turn")."""
    target = LANGUAGE_NAMES.get(lang, "English")
    source = LANGUAGE_NAMES.get(source_lang, "foreign")
    listed = ", ".join(f"“{w}”" for w in words[:MAX_LISTED])
    return f"{REQUEST_OPENING} {source} words ({listed}). Translate them into {target} and change nothing else. Reply with the answer only."


# Distinct stems differ a little between languages ("combustibles" and "combustión" are two Spanish
# stems, "combustible combustion" one English), so a long answer's translation may have one in ten
# fewer; in a short one, one fewer is a dropped word (docs/experiments.md, "Translation turn").
CONTENT_KEPT = 0.9


def accepted(draft: str, translation: str, lang: str, source_lang: str, question: str = "") -> bool:
    """Whether the translation can stand in for the draft: it is not an echo of the request, it has
    fewer words of the sources' language, and it keeps every number and about as many content words
    as the draft. A shorter one has dropped something ("Secretary of Seguridad Nacional" came back as
    "Secretary of Security") or guessed ("the eje impulsor" as "the engine's crankshaft")."""
    if not translation.strip() or REQUEST_OPENING.lower() in translation.lower():
        return False
    bare_draft, bare_translation = MARKER.sub(" ", draft), MARKER.sub(" ", translation)
    if len(content_terms(bare_translation, lang)) < CONTENT_KEPT * len(content_terms(bare_draft, lang)):
        return False
    if len(untranslated(translation, lang, source_lang, question)) >= len(untranslated(draft, lang, source_lang, question)):
        return False
    return set(_NUMBER.findall(bare_draft)) <= set(_NUMBER.findall(bare_translation))


# A question is short; a reply that runs on is an answer, not a translation.
QUESTION_TOKENS = 60
QUESTION_REQUEST_OPENING = "This is not a question for you to answer."


def question_request(question: str, source_lang: str) -> str:
    """Ask for the question in the sources' language. Under the answering system message the model
    answered a plain "Translate this question" ("Los Panthers perdieron 10 puntos"), so it is told
    not to (docs/experiments.md, "Guards")."""
    source = LANGUAGE_NAMES.get(source_lang, "English")
    return (
        f"{QUESTION_REQUEST_OPENING} Translate it into {source}, word for word, "
        f"and reply with the {source} question only.\n\nQuestion to translate: {question}"
    )


def as_question(reply: str, lang: str) -> str:
    """The reply if it is one question on one line in `lang`, else "": the model answered, explained or
    echoed the question instead (none of 209 XQuAD questions was echoed, but the checks would then
    compare English words with Spanish documents)."""
    text = reply.strip()
    if not text.endswith("?") or "\n" in text:
        return ""
    return text if detect_language(text, default=lang) == lang else ""


class AskedIn:
    """The question in the sources' language, translated by the model on first use (~1.5 s). The
    same system message keeps the KV cache's prefix; the reply is not shown."""

    def __init__(self, llm: LLM, system: str, question: str, source_lang: str) -> None:
        self._llm, self._system, self._question, self._source_lang = llm, system, question, source_lang
        self.text: str | None = None  # None until asked for; "" when the reply was no translation

    def __call__(self) -> str:
        if self.text is None:
            with self._llm.complete(self._system, question_request(self._question, self._source_lang), QUESTION_TOKENS) as reply:
                self.text = as_question(reply.text(), self._source_lang)
        return self.text
