"""Each question shape with the packaged model on the seed article: the route answers it, in the
asked language, with every sentence cited to a real sentence of the article."""

from __future__ import annotations

import pytest
from conftest import SEED, real_services

from docqa.interfaces.services import Services
from docqa.measure.evaluate import item_in, polarity
from docqa.types import Answer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Services:
    return real_services(tmp_path_factory.mktemp("shapes"), {SEED.name: SEED.read_text("utf-8")})


def _cited_from_the_article(answer: Answer, real: Services) -> None:
    assert not answer.abstained, answer.reason
    assert answer.citations and all(s.citations for s in answer.sentences if s.text not in ("Sí.", "No.", "Yes."))
    for c in answer.citations:
        doc = real.reader().store.document(c.doc_path)
        assert doc is not None and doc.text[c.start : c.end] == c.sentence


@pytest.mark.parametrize(("question", "lang"), [("¿De qué trata el artículo?", "es"), ("What is this article about?", "en")])
def test_an_overview_says_what_the_article_is_about(real: Services, question: str, lang: str) -> None:
    answer = real.asker().ask(question)
    _cited_from_the_article(answer, real)
    assert answer.shape == "overview" and answer.lang == lang
    assert any(item_in(w, answer.text) for w in ("migra", "México", "Mexico"))


def test_a_summary_is_several_cited_sentences_in_the_asked_language(real: Services) -> None:
    answer = real.asker().ask("Hazme un resumen breve.")
    _cited_from_the_article(answer, real)
    assert answer.shape == "summary" and answer.lang == "es" and len(answer.sentences) >= 2


@pytest.mark.parametrize(("question", "settles"), [
    ("¿Fue Antony Blinken quien encabezó la delegación de Estados Unidos?", "Blinken"),
    ("¿Acordaron las delegaciones reunirse nuevamente en Madrid?", "Washington"),
])
def test_a_yes_no_question_quotes_the_sentence_that_settles_it_without_a_verdict(real: Services, question: str, settles: str) -> None:
    answer = real.asker().ask(question)
    _cited_from_the_article(answer, real)
    assert polarity(answer.text) == "" and answer.shape == "yes_no"
    [citation] = answer.citations
    assert settles in citation.sentence and f"«{citation.sentence}»" in answer.text


def test_a_list_gives_each_item(real: Services) -> None:
    answer = real.asker().ask("¿Con qué adjetivos describen la migración que quieren fomentar?")
    _cited_from_the_article(answer, real)
    assert answer.shape == "list" and all(item_in(w, answer.text) for w in ("ordenada", "humana", "regular"))


def test_a_who_is_question_names_the_role(real: Services) -> None:
    answer = real.asker().ask("¿Quién es Elizabeth Sherwood-Randall?")
    _cited_from_the_article(answer, real)
    assert item_in("asesora", answer.text) or item_in("Seguridad Nacional", answer.text)


def test_a_why_question_gives_the_reason(real: Services) -> None:
    answer = real.asker().ask("¿Por qué le dio las gracias López Obrador a Biden?")
    _cited_from_the_article(answer, real)
    assert item_in("delegación", answer.text)


def test_a_digest_worded_as_no_rule_knows_is_answered_as_one(real: Services) -> None:
    answer = real.asker().ask("Give me the short version")  # in no example and no rule: the nearest examples
    _cited_from_the_article(answer, real)
    assert answer.shape in ("overview", "summary") and not answer.abstained
