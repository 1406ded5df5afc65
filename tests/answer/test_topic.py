"""The topic checks: the cited passages, not only their documents, must hold what the question asks about."""

from __future__ import annotations

from fakes import ScriptedLLM, source_number
from test_answer import _services_over

from docqa.answer.asker import Asker
from docqa.answer.guards import EVERY
from docqa.answer.translate import QUESTION_REQUEST_OPENING
from docqa.index.lexical import terms_found
from docqa.types import UNVERIFIED, VERIFIED

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
        return Asker(services.reader, services.embedder(), lambda: llm, gate=(0.0, 0.0), policy=EVERY)

    question = "How do breeders produce seedless grapes?"
    # The document covers the question (the documents check passes); the cited sentence does not.
    answer = asker("steel", "Grapes are poured into large steel tanks").ask(question)
    assert answer.grade == UNVERIFIED and answer.reason.startswith("the cited passages say little")
    # Cited from the sentence that is about it, the answer stands.
    assert not asker("Breeders", "Breeders cross plants that carry the trait").ask(question).abstained


def test_across_languages_the_checks_read_the_question_translated_into_the_sources_language(services) -> None:  # type: ignore[no-untyped-def]
    services.build()
    question = "Which delegations did not agree to meet in Washington in 2024?"

    def asker(translation: str) -> tuple[Asker, ScriptedLLM]:
        def script(user: str) -> str:
            if user.startswith(QUESTION_REQUEST_OPENING):
                return translation
            return f"Both, in Washington in January 2024 [{source_number(user, 'Washington')}]."

        llm = ScriptedLLM(script)
        # The draft across languages, as the checks saw it before answers were written in the sources' language.
        return Asker(services.reader, services.embedder(), lambda: llm, gate=(0.0, 0.0), policy=EVERY.without("source_answer")), llm

    # Translated, the question asks what is not so, and the cited Spanish sentence denies nothing.
    withdrawn, llm = asker("¿Qué delegaciones no acordaron reunirse en Washington en 2024?")
    answer = withdrawn.ask(question)
    assert answer.grade == UNVERIFIED and answer.reason.startswith("the question asks what is not so")
    assert answer.translated_question == "¿Qué delegaciones no acordaron reunirse en Washington en 2024?"  # for --details
    assert sum(p.startswith(QUESTION_REQUEST_OPENING) for p in llm.prompts) == 1
    # A reply that is no question (the model answered instead) leaves the checks across languages as they were.
    kept, _ = asker("Las delegaciones acordaron reunirse en Washington.")
    assert kept.ask(question).grade == VERIFIED


def test_the_question_is_translated_only_when_the_cited_sources_are_in_another_language(services) -> None:  # type: ignore[no-untyped-def]
    services.build()
    llm = ScriptedLLM(lambda u: f"The committee met in Geneva [{source_number(u, 'Geneva')}].")
    answer = Asker(services.reader, services.embedder(), lambda: llm, gate=(0.0, 0.0), policy=EVERY).ask("Where did the committee meet?")
    assert not answer.abstained and "Geneva" in answer.citations[0].sentence
    assert not any(p.startswith(QUESTION_REQUEST_OPENING) for p in llm.prompts)
