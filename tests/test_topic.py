"""The topic checks: the cited passages, not only their documents, must hold what the question asks about."""

from __future__ import annotations

from fakes import ScriptedLLM, source_number
from test_answer import _services_over

from docqa.answer import Asker
from docqa.lexical import terms_found

# One document on grapes: breeding at its start, winemaking far below it (beyond the ±250 characters
# the checks read around a cited sentence), with unrelated sentences between.
FILLER = " ".join(f"The {w} harvest of {1990 + i} was recorded in the valley ledger." for i, w in enumerate(
    ["early", "late", "wet", "dry", "cold", "warm", "short", "long", "poor", "rich"]))
GRAPES = (
    "Breeders produce seedless grapes by crossing plants that carry the trait.\n\n"
    f"{FILLER}\n\n"
    "Whole grapes are poured into large steel tanks, where the must ferments with yeasts.\n"
)


def test_terms_found_matches_longer_stems_as_prefixes() -> None:
    assert terms_found(["campeon", "rey"], "Ganaron el campeonato", "es") == {"campeon": 1, "rey": 0}


def test_an_answer_from_a_sentence_far_from_what_the_question_asks_abstains(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    services = _services_over(tmp_path, fake, "grapes", {"grapes.txt": GRAPES})
    services.build()

    def asker(needle: str, reply: str) -> Asker:
        llm = ScriptedLLM(lambda u: f"{reply} [{source_number(u, needle)}].")
        return Asker(services.reader, services.embedder(), lambda: llm, gate=(0.0, 0.0))

    question = "How do breeders produce seedless grapes?"
    # The document covers the question (the documents check passes); the cited sentence does not.
    answer = asker("steel", "Grapes are poured into large steel tanks").ask(question)
    assert answer.abstained and answer.reason.startswith("the cited passages say little")
    # Cited from the sentence that is about it, the answer stands.
    assert not asker("Breeders", "Breeders cross plants that carry the trait").ask(question).abstained
