"""Prompts for grounded answers: a fixed system message and numbered evidence sentences."""

from __future__ import annotations

from collections.abc import Sequence

from docqa.types import Hit

NOT_FOUND = "NOT_FOUND"
ABSTAIN = {
    "es": "No encuentro esa información en los documentos.",
    "en": "I couldn't find that in the documents.",
}
LANGUAGE_NAMES = {"es": "Spanish", "en": "English", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese", "ca": "Catalan", "nl": "Dutch"}

# Fixed, so llama.cpp can keep it in the KV cache across questions.
SYSTEM = (
    "You answer questions using only the numbered sources the user gives you.\n"
    "Rules:\n"
    "- Use only facts stated in the sources. Never use outside knowledge.\n"
    "- Answer in one or two short sentences and end each sentence with the number of its source in "
    "brackets, like [2].\n"
    f"- If the sources do not state the answer, reply with exactly {NOT_FOUND} and nothing else."
)


def abstention(lang: str) -> str:
    return ABSTAIN.get(lang, ABSTAIN["en"])


def user_message(question: str, evidence: Sequence[Hit], lang: str, history: str = "") -> str:
    lines = ["Sources:"]
    lines += [f"[{i}] {hit.text}" for i, hit in enumerate(evidence, 1)]
    lines.append("")
    if history:
        lines.append(f"Earlier in this conversation: {history}")
    lines.append(f"Question: {question}")
    lines.append(f"Answer in {LANGUAGE_NAMES.get(lang, 'English')}.")
    return "\n".join(lines)
