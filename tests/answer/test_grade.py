"""Every answer is graded: verified, unverified (shown, marked) or not found, by the checks' signals."""

from __future__ import annotations

from fakes import ScriptedLLM, source_number

from docqa.answer.asker import Asker
from docqa.answer.grade import DOUBT_WHY, graded
from docqa.answer.guards import Policy
from docqa.answer.settle import Verdict, settled
from docqa.interfaces.services import Services
from docqa.types import NOT_FOUND, UNVERIFIED, VERIFIED, Answer, AnswerSentence, Hit

MEET = "¿Dónde se reunirán nuevamente las delegaciones?"


def _script(user: str) -> str:
    asked = user.split("Question:")[-1]
    if "reunir" in asked:
        return f"Se reunirán en Washington [{source_number(user, 'Washington')}]."
    if "presupuesto" in asked:  # a figure no document states
        return "El presupuesto del acuerdo fue de 40 millones de pesos [1]."
    return "NOT_FOUND"


def _half(user: str) -> str:
    """One sentence the sources state, one they do not."""
    return f"Se reunirán en Washington [{source_number(user, 'Washington')}]. Cerrarán la frontera en marzo de 2031 [1]."


def _asker(services: Services, watch_prob: float = 0.001, script=_script) -> Asker:  # type: ignore[no-untyped-def]
    services.build()
    llm = ScriptedLLM(script, watch_prob=watch_prob)
    return Asker(services.reader, services.embedder(), lambda: llm, policy=Policy(not_found_prob=0.02))


def test_each_grade_from_the_same_pipeline(services: Services) -> None:
    asker = _asker(services)
    verified = asker.ask(MEET)
    assert verified.grade == VERIFIED and not verified.abstained and verified.citations and verified.reason == ""
    invented = asker.ask("¿Cuál fue el presupuesto del acuerdo migratorio?")
    # Shown, not withdrawn: marked sentence by sentence, with nothing cited for what no source states.
    assert invented.grade == UNVERIFIED and not invented.abstained and "40 millones" in invented.text
    assert [s.supported for s in invented.sentences] == [False] and invented.citations == () and invented.closest()
    declined = asker.ask("¿Cuántos migrantes llegaron el lunes?")
    assert declined.grade == NOT_FOUND and declined.abstained and declined.reason.startswith("the model")


def test_only_the_sentence_no_source_states_is_marked(services: Services) -> None:
    answer = _asker(services, script=_half).ask(MEET)
    assert answer.grade == UNVERIFIED and [s.supported for s in answer.sentences] == [True, False]
    assert [c.n for c in answer.citations] == [1] and "Washington" in answer.citations[0].sentence


def test_the_models_doubt_grades_but_never_withdraws(services: Services) -> None:
    doubtful = _asker(services, watch_prob=0.3).ask(MEET)
    assert doubtful.grade == UNVERIFIED and doubtful.reason == DOUBT_WHY and "Washington" in doubtful.text
    assert doubtful.signals["checked"] == 1.0 and doubtful.signals["not_found"] == 0.3


def test_graded_needs_every_sentence_supported_no_fault_and_little_doubt() -> None:
    good = Answer("A [1].", False, "es", sentences=(AnswerSentence("A", (1,), True),))
    assert graded(good, "", 0.001, 0.02).grade == VERIFIED
    assert graded(good, "", None, 0.02).grade == VERIFIED  # doubt not measured: the checks decide
    assert graded(good, "", 0.02, 0.02).grade == UNVERIFIED
    faulted = graded(good, "the cited passages do not mention “Canadá”", 0.0, 0.02)
    assert faulted.grade == UNVERIFIED and "Canadá" in faulted.reason and faulted.signals["checked"] == 0.0
    half = Answer("A [1]. B.", False, "es", sentences=(AnswerSentence("A", (1,), True), AnswerSentence("B", (), False)))
    assert graded(half, "", 0.0, 0.02).grade == UNVERIFIED


def test_an_answer_kept_before_grades_is_read_with_one() -> None:
    assert Answer("No encuentro.", True).grade == NOT_FOUND
    assert Answer("A [1].", False, sentences=(AnswerSentence("A", (1,), True),)).grade == VERIFIED
    assert Answer("A.", False, sentences=(AnswerSentence("A", (), False),)).grade == UNVERIFIED


def test_a_yes_no_quote_is_verified_only_when_its_sentence_holds_every_detail() -> None:
    hit = Hit(1, 1, "seed.txt", "Las delegaciones se reunirán en Washington en enero.", 0, 52, None, 0.9)
    holds = settled(Verdict("yes", hit, (), 1.0), "es")
    assert holds.grade == VERIFIED and "«Las delegaciones se reunirán en Washington en enero.»" in holds.text
    lacks = settled(Verdict("no", hit, ("name:paris",), 0.6), "es")
    assert lacks.grade == UNVERIFIED and "“paris”" in lacks.reason and lacks.citations[0].sentence == hit.text
    assert settled(Verdict("", hit, (), 0.2), "es").grade == NOT_FOUND
