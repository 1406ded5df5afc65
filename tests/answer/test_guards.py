"""Every guard in guards.GUARDS acts on a case made for it, and stops acting when switched off alone:
each scenario below fails with its guard off, so none of them can pass by accident."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import FakeEmbedder, ScriptedLLM, source_number

from docqa.answer.asker import Asker
from docqa.answer.crossing import SENTENCE_REQUEST_OPENING
from docqa.answer.grade import DOUBT_WHY
from docqa.answer.guards import DEFAULT_OFF, GUARDS, NAMES, Policy
from docqa.answer.translate import QUESTION_REQUEST_OPENING
from docqa.answer.verify import verify
from docqa.config import load_settings
from docqa.interfaces.services import Services
from docqa.types import NOT_FOUND, UNVERIFIED, Answer

CALIBRATED = Policy(frozenset(), not_found_prob=0.02)  # every guard on, even those off by default
SEED = Path(__file__).resolve().parents[2] / "corpus" / "mexico-eu-migracion-2024.txt"


class World:
    """Small corpora built on demand in tmp_path, each with the fake embedder."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def services(self, name: str, files: dict[str, str]) -> Services:
        root = self.tmp_path / name
        if not root.exists():
            root.mkdir()
            for file, text in files.items():
                (root / file).write_text(text, "utf-8")
        s = Services(load_settings({}).with_overrides(corpus=root, index=self.tmp_path / f"{name}-ix", embedder="fake"), FakeEmbedder())
        s.build()
        return s

    def seed(self) -> Services:
        return self.services("seed", {"seed.txt": SEED.read_text("utf-8"), "notas.md": NOTAS})

    def ask(self, services: Services, policy: Policy, script: Callable[[str], str], question: str,
            gate: tuple[float, float] | None = None, watch_prob: float | None = None,
            check: Callable[[str], str] | None = None) -> tuple[Answer, ScriptedLLM]:
        llm = ScriptedLLM(script, watch_prob=watch_prob, check=check)
        return Asker(services.reader, services.embedder(), lambda: llm, gate=gate, policy=policy).ask(question), llm


NOTAS = "# Notas\n\nEl Sr. García visitó Madrid el 3 de mayo.\n\n## Viaje\n\nDespués viajó a Lisboa con la doctora Pérez.\n"
WASHINGTON = lambda u: f"Se reunirán en Washington [{source_number(u, 'Washington')}]."
MEET = "¿Dónde se reunirán nuevamente las delegaciones?"


def never_mentioned(w: World, p: Policy) -> bool:
    kitchen = w.services("kitchen", {"pollo.txt": "Pollo a la piccata\n\nLa pechuga de pollo se corta a lo largo.\n"})
    answer, _ = w.ask(kitchen, p, lambda u: f"La picanha se corta a lo largo [{source_number(u, 'largo')}].", "¿Cómo se corta la picanha?")
    return "never mention" in answer.reason and answer.grade == NOT_FOUND


def gate(w: World, p: Policy) -> bool:
    answer, _ = w.ask(w.seed(), p, WASHINGTON, MEET, gate=(0.99, 0.99))
    return answer.reason.startswith("weak evidence") and answer.grade == NOT_FOUND


def name_bypass(w: World, p: Policy) -> bool:
    reply = lambda u: f"Alejandro Mayorkas es el secretario de Seguridad Nacional [{source_number(u, 'Mayorkas')}]."
    answer, _ = w.ask(w.seed(), p, reply, "¿Quién es Alejandro Mayorkas?", gate=(0.99, 0.99))
    return not answer.abstained


def not_found(w: World, p: Policy) -> bool:
    answer, _ = w.ask(w.seed(), p, WASHINGTON, MEET, watch_prob=0.3)
    return answer.grade == UNVERIFIED and answer.reason == DOUBT_WHY


def support(w: World, p: Policy) -> bool:
    [claim] = verify([("El banquete fue delicioso.", (1,))], "es", ["Acordaron reunirse en Washington."], None, None, policy=p)
    return not claim.supported


def entailed(w: World, p: Policy) -> bool:
    reply = lambda u: f"Joe Biden envió la delegación de Estados Unidos a México [{source_number(u, 'Biden')}]."
    # The check: the model says the cited sentence does not state the claim.
    answer, _ = w.ask(w.seed(), p, reply, "¿Quién envió la delegación de Estados Unidos a México?", check=lambda u: "No")
    return answer.grade == UNVERIFIED and "supported" in answer.reason


def unsourced(w: World, p: Policy) -> bool:
    source = "Acordaron reunirse nuevamente en Washington en enero de 2024."
    [claim] = verify([("Se reunirán nuevamente en Washington en 2031.", (1,))], "es", [source], None, None, [source], policy=p)
    return not claim.supported


def aside(w: World, p: Policy) -> bool:
    source = "Los Angeles Rams y Los Angeles Chargers son equipos de la NFL."
    glossed = "Los Angeles Rams son equipos de la NFL (National Football League)."
    [claim] = verify([(glossed, (1,))], "es", [source], None, None, [source], "¿De qué liga son los Rams?", policy=p)
    return claim.supported and "(" not in claim.text


def novelty(w: World, p: Policy) -> bool:
    source = "Las dos delegaciones acordaron reunirse nuevamente en Washington en enero."
    [claim] = verify([("Las delegaciones se reunirán nuevamente.", (1,))], "es", [source], None, None, [source], MEET, policy=p)
    return not claim.supported


def names(w: World, p: Policy) -> bool:
    answer, _ = w.ask(w.seed(), p, WASHINGTON, "¿Dónde se reunirán nuevamente las delegaciones de Canadá?")
    return answer.reason.startswith("the cited passages do not mention")


def ordinal(w: World, p: Policy) -> bool:
    seasons = w.services("seasons", {"drag.txt": "La ganadora de la segunda temporada del concurso fue Tyra Sanchez.\n"})
    answer, _ = w.ask(seasons, p, lambda u: f"La ganadora fue Tyra Sanchez [{source_number(u, 'Tyra')}].",
                      "¿Quién ganó la séptima temporada del concurso?")
    return "nth" in answer.reason


def negation(w: World, p: Policy) -> bool:
    problems = w.services("problems", {"teoria.txt": "Los problemas de función pueden reconvertirse en problemas de decisión.\n"})
    answer, _ = w.ask(problems, p, lambda u: f"Un problema de función no se puede replantear así [{source_number(u, 'reconvertirse')}].",
                      "¿Qué no se puede replantear como problema de decisión?")
    return "not so" in answer.reason


def retry(w: World, p: Policy) -> bool:
    visit = w.services("visit", {"visita.txt": "La delegación llegó el martes a la capital. La encabezaba Antony Blinken, "
                                 "secretario de Estado. El presidente agradeció la visita de la delegación. La reunión duró tres horas.\n"})

    def reply(u: str) -> str:
        sources = [line.split("] ", 1) for line in u.splitlines() if line.startswith("[")]
        named = [int(n[1:]) for n, text in sources if "Blinken" in text]
        later = [(int(n[1:]), text) for n, text in sources if named and int(n[1:]) > named[0]]
        return f"{later[-1][1]} [{later[-1][0]}]" if later else f"Antony Blinken es el secretario de Estado [{named[0]}]."

    answer, llm = w.ask(visit, p, reply, "¿Qué cargo tiene Blinken?")
    return len(llm.prompts) == 2 and not answer.abstained


def topic_docs(w: World, p: Policy) -> bool:
    grapes = w.services("grapes", {
        "wine.txt": "Whole grapes are poured into large steel tanks, where the must ferments with yeasts.\n",
        "breeding.txt": "Breeders produce seedless varieties by crossing plants that carry the trait.\n",
    })
    reply = lambda u: f"The grapes are poured into large steel tanks where the must ferments [{source_number(u, 'steel')}]."
    answer, _ = w.ask(grapes, p, reply, "How are seedless grapes produced?")
    return answer.reason.startswith("the cited documents do not mention")


FILLER = " ".join(["La sala tenía ventanas altas y paredes blancas."] * 8)


def topic_near(w: World, p: Policy) -> bool:
    writings = w.services("writings", {"escritos.txt": f"Escritos\n\nEl reformador compuso un himno para la congregación. {FILLER} "
                                       "El tratado sobre la libertad se publicó en 1520.\n"})
    reply = lambda u: f"El tratado sobre la libertad se publicó en 1520 [{source_number(u, 'tratado')}]."
    answer, _ = w.ask(writings, p, reply, "¿Qué himno compuso el reformador?")
    return answer.reason.startswith("the cited passages say little")


def question_translation(w: World, p: Policy) -> bool:
    def reply(u: str) -> str:
        return "¿Adónde viajó la doctora después de Madrid?" if u.startswith(QUESTION_REQUEST_OPENING) else WASHINGTON(u)

    # Answered in the sources' language, the checks read the translated question anyway.
    answer, _ = w.ask(w.seed(), p.without("source_answer"), reply, "Where did the doctor travel after Madrid?")
    return answer.grade == UNVERIFIED and "mention" in answer.reason


def source_answer(w: World, p: Policy) -> bool:
    def reply(u: str) -> str:
        if u.startswith(QUESTION_REQUEST_OPENING):
            return "¿Dónde se reunirán de nuevo las delegaciones?"
        if u.startswith(SENTENCE_REQUEST_OPENING):
            return "They will meet in Washington."
        return WASHINGTON(u) if "Answer in Spanish" in u else f"In Washington [{source_number(u, 'Washington')}]."

    answer, llm = w.ask(w.seed(), p, reply, "Where will the delegations meet again?")
    return not answer.abstained and answer.text.startswith("They will meet") and "Answer in Spanish" in llm.prompts[1]


def translation(w: World, p: Policy) -> bool:
    def reply(u: str) -> str:
        if u.startswith("Your answer has Spanish words"):
            return "Washington, January 2024 [1]."
        if u.startswith(QUESTION_REQUEST_OPENING):
            return "¿Dónde se reunirán de nuevo las delegaciones?"
        return f"Washington, enero de 2024 [{source_number(u, 'Washington')}]."

    answer, _ = w.ask(w.seed(), p.without("source_answer"), reply, "Where will the delegations meet again?")
    return "January" in answer.text


def numbers(w: World, p: Policy) -> bool:
    singer = w.services("singer", {"gaga.txt": "Lady Gaga, la seis veces ganadora del Grammy, cantó el himno nacional.\n"})
    answer, _ = w.ask(singer, p, lambda u: f"Lady Gaga ha ganado 6 premios Grammy [{source_number(u, 'Gaga')}].",
                      "¿Cuántos premios Grammy ha ganado Lady Gaga?")
    return "seis premios" in answer.text


SCENARIOS: dict[str, Callable[[World, Policy], bool]] = {name: globals()[name] for name in NAMES}


def test_every_guard_is_named_once_with_its_kind_bar_and_reason() -> None:
    assert len(set(NAMES)) == len(NAMES) == len(GUARDS)
    assert all(g.kind and g.bar and g.why for g in GUARDS)
    # Only a guard before the model may find an answer not in the documents; after it, it grades.
    assert {g.name for g in GUARDS if g.grade == NOT_FOUND} == {"never_mentioned", "gate"}
    assert DEFAULT_OFF < set(NAMES) and all(not Policy().on(name) for name in DEFAULT_OFF)
    with pytest.raises(ValueError, match="unknown guard"):
        Policy(frozenset({"no-such-guard"}))


@pytest.mark.parametrize("name", NAMES)
def test_the_guard_acts_and_stops_when_switched_off(name: str, tmp_path: Path) -> None:
    world = World(tmp_path)
    assert SCENARIOS[name](world, CALIBRATED), f"{name} did not act on its own case"
    assert not SCENARIOS[name](world, CALIBRATED.without(name)), f"{name} switched off still decided its case"
