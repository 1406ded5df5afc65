"""Answers across languages: source-language words the model keeps are translated in a second turn."""

from __future__ import annotations

import pytest
from fakes import ScriptedLLM, source_number

from docqa.answer.asker import Asker
from docqa.answer.events import CHECKING, UNTRANSLATED, Final, Redraft, Status, Token
from docqa.answer.guards import DEFAULT_OFF, EVERY, Policy
from docqa.answer.translate import QUESTION_REQUEST_OPENING, accepted, as_question, untranslated
from docqa.interfaces.services import Services

QUESTION = "Where will the delegations meet again?"
SOURCE_ANSWER = Policy(DEFAULT_OFF - {"source_answer"})  # measured, and off by default


def test_untranslated_words_are_those_only_the_sources_language_has() -> None:
    assert untranslated("Stators are attached to the eje impulsor [1].", "en", "es") == ["eje", "impulsor"]
    # Names the Spanish dictionary lists are caught too; the answer's language calls them otherwise.
    assert untranslated("It was called Nueva Gales del Sur [2].", "en", "es") == ["Nueva", "Sur"]
    # Words both languages have, names neither knows, numbers and the [n] markers pass.
    assert untranslated("The Wojciech Bogusławski theatre opened in general use in 1922 [1].", "en", "es") == []
    # The question's own words are the user's, not the model's copy.
    assert untranslated("López Obrador thanked Joe Biden [1].", "en", "es", "Who did López Obrador thank?") == []
    # Within one language there is nothing to translate.
    assert untranslated("Se reunirán en Washington [1].", "es", "es") == []


def _asker(services: Services, script) -> tuple[Asker, ScriptedLLM]:  # type: ignore[no-untyped-def]
    """`script` gives the model's replies to the questions and translation turns; the question's
    translation for the checks (tested in test_topic.py) is a faithful one."""
    services.build()

    def reply(user: str) -> str:
        return "¿Dónde se reunirán de nuevo las delegaciones?" if user.startswith(QUESTION_REQUEST_OPENING) else script(user)

    llm = ScriptedLLM(reply)
    return Asker(services.reader, services.embedder(), lambda: llm, policy=EVERY), llm  # the translation guard is off by default


def test_an_answer_keeping_source_words_is_translated_in_the_same_conversation(services: Services) -> None:
    def script(user: str) -> str:
        if user.startswith("Your answer has Spanish words"):
            return "Washington, January 2024 [1]."
        return f"Washington, enero de 2024 [{source_number(user, 'Washington')}]."

    asker, llm = _asker(services, script)
    events = list(asker.stream(QUESTION))
    answer = events[-1].answer
    assert answer is not None and not answer.abstained
    assert "January" in answer.text and "enero" not in answer.text
    assert answer.citations and "Washington" in answer.citations[0].sentence
    # The second turn follows the draft in one conversation (so llama.cpp reuses its cache) and names the words.
    assert len(llm.prompts) == 3 and "“enero”" in llm.prompts[1]
    assert llm.earlier[1] == [(llm.prompts[0], f"Washington, enero de 2024 [{source_number(llm.prompts[0], 'Washington')}].")]
    assert Redraft(UNTRANSLATED) in events
    assert answer.draft.startswith("Washington, enero") and answer.signals["untranslated"] == 1


def test_an_answer_in_the_question_language_is_not_sent_back(services: Services) -> None:
    asker, llm = _asker(services, lambda u: f"Washington [{source_number(u, 'Washington')}].")
    assert not asker.ask(QUESTION).abstained
    assert len(llm.prompts) == 2 and llm.prompts[1].startswith(QUESTION_REQUEST_OPENING)


@pytest.mark.parametrize("reply", [
    "NOT_FOUND",
    "Your answer has Spanish words (“enero”). [1]",  # the request echoed
    "Washington, enero de 2024 [1].",  # nothing translated
    "Washington, in January [1].",  # a number of the draft dropped
])
def test_a_translation_that_does_not_stand_in_for_the_draft_keeps_the_draft(services: Services, reply: str) -> None:
    def script(user: str) -> str:
        return reply if user.startswith("Your answer") else f"Washington, enero de 2024 [{source_number(user, 'Washington')}]."

    asker, llm = _asker(services, script)
    answer = asker.ask(QUESTION)
    assert len(llm.prompts) == 3 and not answer.abstained and "enero de 2024" in answer.text


def test_accepted_translations() -> None:
    draft = "565 °C is the creep limit of the acero inoxidable [1]."
    assert accepted(draft, "565 °C is the creep limit of stainless steel [1].", "en", "es")
    assert accepted(draft, "565 °C is the creep limit of stainless steel.", "en", "es")  # its [1] is no word
    assert not accepted(draft, "The creep limit is that of stainless steel [1].", "en", "es")  # 565 dropped
    # A translation that drops a word of the draft is a guess, not a translation.
    assert not accepted("He is Secretary of Seguridad Nacional [1].", "He is Secretary of Security [1].", "en", "es")
    assert accepted("He is Secretary of Seguridad Nacional [1].", "He is Secretary of National Security [1].", "en", "es")
    # A long answer may come back with one stem in ten fewer: two Spanish stems are one English one.
    long_draft = ("The usual source of heat for boiling water in the steam engine is the quema de materiales combustibles "
                  "with a suministro adecuado de aire en un espacio cerrado (cámara de combustión, chimenea) [2].")
    long_translation = ("The usual source of heat for boiling water in the steam engine is the burning of combustible "
                        "materials with an adequate supply of air in a closed space (combustion chamber, chimney).")
    assert accepted(long_draft, long_translation, "en", "es")


def test_only_a_one_line_question_counts_as_the_translated_question() -> None:
    assert as_question(" ¿Dónde se reunirán las delegaciones? \n", "es") == "¿Dónde se reunirán las delegaciones?"
    assert as_question("Los Panthers perdieron 10 puntos en la defensa.", "es") == ""  # answered instead
    assert as_question("¿Dónde?\nEn Washington, creo?", "es") == ""
    assert as_question("Where will the delegations meet again?", "es") == ""  # echoed, not translated


def test_the_answer_is_checked_after_its_draft_has_streamed(services: Services) -> None:
    asker, _ = _asker(services, lambda u: f"Washington [{source_number(u, 'Washington')}].")
    kinds = [e for e in asker.stream(QUESTION) if not isinstance(e, Token)]
    # The app says so while the question is translated for the checks (~1 s across languages).
    assert kinds.index(Status(CHECKING)) == len(kinds) - 2 and isinstance(kinds[-1], Final)


def test_across_languages_the_answer_is_written_verified_and_cited_in_the_sources_language_then_translated(services: Services) -> None:
    from docqa.answer.crossing import SENTENCE_REQUEST_OPENING

    def script(user: str) -> str:
        if user.startswith(SENTENCE_REQUEST_OPENING):
            return "They will meet again in Washington in January 2024."
        return f"Se reunirán nuevamente en Washington en enero de 2024 [{source_number(user, 'Washington')}]."

    (services.settings.corpus / "english.txt").unlink()  # Spanish sources only: the best evidence is Spanish
    services.build()
    llm = ScriptedLLM(lambda u: "¿Dónde se reunirán de nuevo las delegaciones?" if u.startswith(QUESTION_REQUEST_OPENING) else script(u))
    asker = Asker(services.reader, services.embedder(), lambda: llm, policy=SOURCE_ANSWER)
    events = list(asker.stream(QUESTION))
    answer = events[-1].answer
    draft = next(p for p in llm.prompts if "Sources:" in p)
    assert "Answer in Spanish." in draft and "¿Dónde se reunirán de nuevo las delegaciones?" in draft
    assert not answer.abstained and answer.lang == "en" and answer.text.startswith("They will meet again in Washington")
    assert [("Washington" in c.sentence) for c in answer.citations] == [True] and "[1]" in answer.text
    assert answer.translated_question == "¿Dónde se reunirán de nuevo las delegaciones?"
    streamed = "".join(e.text for e in events if isinstance(e, Token))
    assert "enero" not in streamed and "Washington" in streamed  # the Spanish draft is not shown, its translation is
    from docqa.interfaces.present import crossing_note

    assert "¿Dónde se reunirán de nuevo las delegaciones?" in crossing_note(answer)  # the user is told where it was verified


def test_a_translation_that_drops_a_number_or_is_not_in_the_asked_language_keeps_the_verified_sentence(services: Services) -> None:
    from docqa.answer.crossing import SENTENCE_REQUEST_OPENING, translation_of

    assert translation_of("They will meet in January.", "Se reunirán en enero de 2024.", "en") == ""
    assert translation_of("Se reunirán en enero de 2024.", "Se reunirán en enero de 2024.", "en") == ""
    assert translation_of("They will meet in January 2024.", "Se reunirán en enero de 2024.", "en") == "They will meet in January 2024."
    assert translation_of("They will meet in January 2024 [1].", "Se reunirán en enero de 2024.", "en") == "They will meet in January 2024."

    (services.settings.corpus / "english.txt").unlink()
    services.build()
    llm = ScriptedLLM(lambda u: "¿Dónde se reunirán de nuevo las delegaciones?" if u.startswith(QUESTION_REQUEST_OPENING)
                      else "In Washington." if u.startswith(SENTENCE_REQUEST_OPENING)
                      else f"Se reunirán nuevamente en Washington en enero de 2024 [{source_number(u, 'Washington')}].")
    answer = Asker(services.reader, services.embedder(), lambda: llm, policy=SOURCE_ANSWER).ask(QUESTION)
    assert not answer.abstained and "enero de 2024" in answer.text and answer.citations


def test_across_languages_an_abstention_is_in_the_askers_language_with_its_reason(services: Services) -> None:

    services.build()
    llm = ScriptedLLM(lambda u: "¿Cuántos votos obtuvo el candidato?" if u.startswith(QUESTION_REQUEST_OPENING) else "NOT_FOUND")
    answer = Asker(services.reader, services.embedder(), lambda: llm, policy=SOURCE_ANSWER, gate=(0.0, 0.0)).ask(
        "How many votes did the candidate get in the migration talks?")
    assert answer.abstained and answer.lang == "en" and answer.reason and "couldn't find" in answer.text
