"""Prompts for grounded answers: a fixed system message and the evidence, numbered sentences or prose."""

from __future__ import annotations

from collections.abc import Sequence

from docqa.answer.events import Case
from docqa.types import Hit

NOT_FOUND = "NOT_FOUND"
ABSTAIN = {
    "es": "No encuentro esa información en los documentos.",
    "en": "I couldn't find that in the documents.",
}
LANGUAGE_NAMES = {"es": "Spanish", "en": "English", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese", "ca": "Catalan", "nl": "Dutch"}

# Fixed, so llama.cpp keeps it in the KV cache across questions: the worked examples cost prompt
# time once, at start-up, not per question. The example shows a small model the behaviours it gets
# wrong without it: answering the question asked, briefly, in the asked language, with a source number.
SYSTEM = f"""You answer questions using only the numbered sources the user gives you.
Rules:
- Use only facts stated in the sources. Never use outside knowledge.
- Answer the exact question with one short sentence that reuses the words of the source, and end it with the number of that source in brackets.
- Answer in the language the user asks for, even when the sources are in another language.
- If no source states the answer, reply with exactly {NOT_FOUND}.

A source may start with the title of its document in parentheses; it tells you what the sentence is about.

Example:
Sources:
[1] (Museo de Bellas Artes de Lyon) La colección incluye más de 3.000 pinturas.
[2] (Museo de Bellas Artes de Lyon) El museo abrió sus puertas en 1901 en el centro de la ciudad, dirigido por Ana Ruiz.
Question: When did the museum open and who ran it?
Answer in English.
Reply: The museum opened in 1901, run by Ana Ruiz [2].
"""


# For reading passages or a whole document as prose, in the plain RAG's shape. There are no numbers to
# cite; each answer sentence is aligned to the sentence that states it after the draft. On dev it gave
# this model fewer right drafts than the numbered sentences, so it is not the default
# (docs/experiments.md, "Passages and whole documents read as prose").
READING_SYSTEM = f"""You answer questions using only the passages the user gives you.
Rules:
- Use only facts stated in the passages. Never use outside knowledge.
- Answer the exact question briefly, in one or two sentences, reusing the words of the passages.
- Answer in the language the user asks for, even when the passages are in another language.
- If the passages do not state the answer, reply with exactly {NOT_FOUND}.

A passage may start with the title of its document in parentheses; it tells you what the passage is about.

Example:
Passages:
(Museo de Bellas Artes de Lyon) La colección incluye más de 3.000 pinturas. El museo abrió sus puertas en 1901 en el centro de la ciudad, dirigido por Ana Ruiz.

Question: When did the museum open and who ran it?
Answer in English.
Reply: The museum opened in 1901, run by Ana Ruiz.
"""


def abstention(lang: str) -> str:
    return ABSTAIN.get(lang, ABSTAIN["en"])


# What each shape of question asks of the reply, after the question and before its language. A fact
# adds nothing, so its prompt is what it always was (docs/experiments.md, "Question shapes").
_YES = {"es": "Sí", "en": "Yes", "fr": "Oui", "de": "Ja", "it": "Sì", "pt": "Sim", "ca": "Sí", "nl": "Ja"}
_NO = {"es": "No", "en": "No", "fr": "Non", "de": "Nein", "it": "No", "pt": "Não", "ca": "No", "nl": "Nee"}


def len_words(n: int) -> str:
    return {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}.get(n, str(n))


def shape_request(shape: str, lang: str, sentences: int = 3, numbered: bool = True) -> str:
    """The line that asks for the reply a question's shape needs ("" for a plain fact)."""
    cite = ", with the number of its source" if numbered else ""
    if shape == "yes_no":
        yes, no = _YES.get(lang, "Yes"), _NO.get(lang, "No")
        return f"Start the reply with {yes} or {no}, then the sentence of the sources that settles it{cite}."
    if shape == "list":
        line = "- item [source number]" if numbered else "- item"
        return f"Reply with a list of every item the sources give that answers the question, one item per line, each line written as \"{line}\"."
    if shape == "summary":
        if numbered:  # one key sentence of each part of the document (digest.key_sentences)
            return (f"Reply with a summary in {len_words(sentences)} sentences: restate each source in one short sentence, "
                    "keeping its names and numbers, with its number.")
        return f"Reply with a summary of the passages in {sentences} sentences: their main points, each stated as the passages state it."
    if shape == "overview":
        return "Reply in one or two sentences saying what the passages are about, naming their subject as they name it."
    return ""


def user_message(
    question: str, evidence: Sequence[Hit], lang: str, history: str = "", titles: Sequence[str] = (),
    running: Sequence[bool] = (), request: str = "",
) -> str:
    """`titles[i]` is the title of evidence i's document ("" for none): a lone sentence often lacks
    its subject ("the game", "the team"), which the title supplies for a few tokens. `running[i]`
    says that evidence i continues the paragraph of evidence i - 1: it follows on the same line, so
    a whole document reads as its paragraphs, each sentence still numbered."""
    return "\n".join(["Sources:", *_evidence_lines(evidence, titles, running, numbered=True), *_asking(question, lang, history, request)])


def reading_message(
    question: str, evidence: Sequence[Hit], lang: str, history: str = "", titles: Sequence[str] = (),
    running: Sequence[bool] = (), request: str = "",
) -> str:
    """The evidence as prose, then the question (`reading_context` is where the question starts)."""
    return reading_context(evidence, titles, running) + "\n".join(_asking(question, lang, history, request))


def reading_context(evidence: Sequence[Hit], titles: Sequence[str] = (), running: Sequence[bool] = ()) -> str:
    """The evidence unnumbered: each paragraph on its own line after a blank one, led by its title
    where `titles[i]` gives one. It depends only on the evidence, so the KV cache keeps it for the
    next question on the same document."""
    lines = ["Passages:"]
    for k, paragraph in enumerate(_evidence_lines(evidence, titles, running, numbered=False)):
        lines += ["", paragraph] if k else [paragraph]
    return "\n".join(lines) + "\n"


def _asking(question: str, lang: str, history: str, request: str = "") -> list[str]:
    """The lines after the evidence: a blank one, the earlier turn if any, the question, what its
    shape asks of the reply, its language."""
    earlier = [f"Earlier in this conversation: {history}"] if history else []
    asked = [request] if request else []
    return ["", *earlier, f"Question: {question}", *asked, f"Answer in {LANGUAGE_NAMES.get(lang, 'English')}."]


def _evidence_lines(evidence: Sequence[Hit], titles: Sequence[str], running: Sequence[bool], numbered: bool) -> list[str]:
    """One line per paragraph: each sentence after its title where `titles[i]` gives one, with its
    [n] when `numbered`, joining the line before it where `running[i]` says it continues it."""
    lines: list[str] = []
    for i, hit in enumerate(evidence):
        head = f"({titles[i]}) " if i < len(titles) and titles[i] else ""
        text = f"[{i + 1}] {head}{hit.text}" if numbered else f"{head}{hit.text}"
        if i < len(running) and running[i] and lines:
            lines[-1] += f" {text}"
        else:
            lines.append(text)
    return lines


def paragraph_runs(case: Case) -> list[bool]:
    """When read as prose, which sentences continue the paragraph before them (the next sentence of
    the same document, with no line break between them)."""
    if not case.reading:
        return []
    ev = case.evidence
    return [i > 0 and ev[i - 1].doc_path == h.doc_path and ev[i - 1].end <= h.start
            and "\n" not in case.docs[h.doc_path].text[ev[i - 1].end : h.start] for i, h in enumerate(ev)]


def line_titles(case: Case, running: Sequence[bool], once: bool) -> list[str]:
    """Each evidence line's document title: read as prose, a passage gives it on its first sentence
    (`running` is `paragraph_runs(case)`), a whole document (`once`) on its first line only, and a
    title line never gets its own title again."""
    titles = [case.titles[h.doc_path] for h in case.evidence]
    if not case.reading:
        return titles
    ev = case.evidence
    return [t if not running[i] and not (once and i and ev[i - 1].doc_path == h.doc_path)
            and h.text.strip() != t else "" for i, (t, h) in enumerate(zip(titles, ev))]
