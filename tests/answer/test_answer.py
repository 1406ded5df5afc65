"""The answer pipeline with a scripted fake LLM: citations, verification, abstention, follow-ups."""

from __future__ import annotations

import pytest
from fakes import ScriptedLLM, source_number

from docqa.answer.asker import Asker
from docqa.answer.events import Token
from docqa.answer.followup import Turn, is_followup, standalone
from docqa.answer.grade import DOUBT_WHY
from docqa.answer.guards import EVERY, Policy
from docqa.answer.prompt import ABSTAIN
from docqa.answer.verify import names_absent, novel_support, parse
from docqa.interfaces.services import Services
from docqa.types import UNVERIFIED, VERIFIED

WASHINGTON = "Las dos delegaciones acordaron reunirse nuevamente en Washington"
BLINKEN = "encabezada por el secretario de Estado, Antony Blinken"


def _asker(services: Services, script, gate=None) -> tuple[Asker, ScriptedLLM]:  # type: ignore[no-untyped-def]
    services.build()
    llm = ScriptedLLM(script)
    # Every guard on, those off by default too: these tests are each guard's own.
    return Asker(services.reader, services.embedder(), lambda: llm, gate=gate, policy=EVERY), llm


def test_answer_cites_the_sentence_it_used(services: Services) -> None:
    asker, llm = _asker(services, lambda u: f"Se reunirán en Washington [{source_number(u, 'Washington')}].")
    answer = asker.ask("¿Dónde se reunirán nuevamente las delegaciones?")
    assert not answer.abstained and "Washington" in answer.text
    assert len(answer.citations) == 1
    cite = answer.citations[0]
    assert cite.doc_path == "seed.txt" and cite.sentence.startswith(WASHINGTON)
    doc = services.reader().store.document("seed.txt")
    assert doc is not None and doc.text[cite.start : cite.end] == cite.sentence
    assert "[1]" in answer.text and answer.timings["prompt_tokens"] > 0 and "Answer in Spanish." in llm.prompts[0]


def test_wrong_citation_is_replaced_by_the_supporting_sentence(services: Services) -> None:
    def script(user: str) -> str:
        right = source_number(user, "Washington")
        wrong = 1 if right != 1 else 2
        return f"Las delegaciones se reunirán en Washington [{wrong}]."

    asker, _ = _asker(services, script)
    answer = asker.ask("¿Dónde se reunirán nuevamente las delegaciones?")
    assert [c.sentence.startswith(WASHINGTON) for c in answer.citations] == [True]


def test_citation_outside_the_evidence_is_never_shown(services: Services) -> None:
    asker, llm = _asker(services, lambda u: "Se reunirán en Washington [42].")
    answer = asker.ask("¿Dónde se reunirán nuevamente las delegaciones?")
    evidence = [line for line in llm.prompts[0].splitlines() if line.startswith("[")]
    assert answer.citations and all(any(c.sentence in line for line in evidence) for c in answer.citations)


def test_unsupported_sentence_is_marked(services: Services) -> None:
    asker, _ = _asker(services, lambda u: f"Se reunirán en Washington [{source_number(u, 'Washington')}]. El presidente de Francia celebró el acuerdo con un banquete.")
    answer = asker.ask("¿Dónde se reunirán nuevamente las delegaciones?")
    assert [s.supported for s in answer.sentences] == [True, False]
    assert answer.sentences[1].citations == ()


def test_invented_answer_is_shown_unverified_and_uncited(services: Services) -> None:
    asker, _ = _asker(services, lambda u: "El primer ministro de Canadá felicitó a Ottawa por el pacto comercial [1].")
    answer = asker.ask("¿Qué dijo el primer ministro de Canadá?")
    assert answer.grade == UNVERIFIED and not answer.abstained and answer.citations == ()
    assert "Ottawa" in answer.text and not any(s.supported for s in answer.sentences)
    assert answer.closest()  # shown beside it: what the documents do say


@pytest.mark.parametrize("question,lang", [("¿Cuántos migrantes cruzaron la frontera?", "es"), ("How many migrants crossed the border?", "en")])
def test_model_not_found_gives_the_fixed_sentence_in_the_question_language(services: Services, question: str, lang: str) -> None:
    asker, _ = _asker(services, lambda u: "NOT_FOUND")
    answer = asker.ask(question)
    assert answer.abstained and answer.text == ABSTAIN[lang] and answer.citations == ()
    assert answer.retrieved  # the UI can still point at the closest documents


def test_a_hesitant_model_s_answer_is_shown_unverified(services: Services) -> None:
    services.build()
    hesitant = ScriptedLLM(lambda u: f"Se reunirán en Washington [{source_number(u, 'Washington')}].", watch_prob=0.3)
    calibrated = Policy(not_found_prob=0.02)
    asker = Asker(services.reader, services.embedder(), lambda: hesitant, policy=calibrated)
    events = list(asker.stream("¿Dónde se reunirán nuevamente las delegaciones?"))
    answer = events[-1].answer  # type: ignore[union-attr]
    # Its doubt grades the answer, which passed every check: shown, streamed, marked unverified.
    assert answer is not None and answer.grade == UNVERIFIED and answer.reason == DOUBT_WHY and "Washington" in answer.text
    assert answer.signals["checked"] == 1.0 and [e for e in events if isinstance(e, Token)]
    confident = ScriptedLLM(hesitant.script, watch_prob=0.0001)
    events = list(Asker(services.reader, services.embedder(), lambda: confident, policy=calibrated).stream("¿Dónde se reunirán nuevamente las delegaciones?"))
    assert events[-1].answer.grade == VERIFIED and [e for e in events if isinstance(e, Token)]  # type: ignore[union-attr]
    # An uncalibrated model has no bar: its doubt grades nothing.
    assert Asker(services.reader, services.embedder(), lambda: hesitant).ask("¿Dónde se reunirán nuevamente las delegaciones?").grade == VERIFIED


def test_weak_evidence_abstains_without_calling_the_model(services: Services) -> None:
    asker, llm = _asker(services, lambda u: "Washington [1].", gate=(0.99, 0.99))
    answer = asker.ask("¿Dónde se reunirán nuevamente las delegaciones?")
    assert answer.abstained and answer.reason.startswith("weak evidence") and llm.prompts == []


def test_not_found_is_never_streamed(services: Services) -> None:
    asker, _ = _asker(services, lambda u: "NOT_FOUND")
    tokens = [e.text for e in asker.stream("¿Cuántos migrantes cruzaron la frontera?") if isinstance(e, Token)]
    assert tokens == []


def test_follow_up_retrieves_with_the_previous_turn(services: Services) -> None:
    asker, llm = _asker(services, lambda u: f"Es secretario de Estado [{source_number(u, 'Blinken')}].")
    history = [Turn("¿Quién encabezó la delegación de Estados Unidos?", "Antony Blinken")]
    answer = asker.ask("¿Y qué cargo tiene?", history)
    assert any(BLINKEN in c.sentence for c in answer.citations)
    assert "Antony Blinken" in llm.prompts[0]


def test_followup_detection() -> None:
    assert is_followup("¿Y qué cargo tiene?") and is_followup("And where is it?") and is_followup("What about him?")
    assert not is_followup("¿Quién encabezó la delegación de Estados Unidos que visitó México?")
    assert standalone("¿Dónde está la sede de la ONU?", [Turn("a", "b")]) == "¿Dónde está la sede de la ONU?"


def test_parse_drops_an_echoed_question() -> None:
    assert parse("Para qué nacionalidades es la iniciativa? Los cubanos y los haitianos [1].", "es") == [
        ("Los cubanos y los haitianos.", (1,))
    ]
    assert parse("¿Dónde?", "es") == [("¿Dónde?", ())]  # nothing else to keep


def test_parse_markers() -> None:
    assert parse("Washington [1]. En enero [2, 3]. Fin[4][5].", "es") == [
        ("Washington.", (1,)), ("En enero.", (2, 3)), ("Fin.", (4, 5))
    ]


def test_semantic_support_is_shifted_across_languages() -> None:
    from docqa.answer.verify import semantic_support

    assert semantic_support(0.78) == 0.0 and semantic_support(0.78, same_language=False) > 0.0
    assert semantic_support(0.95) == semantic_support(0.95, same_language=False) == 1.0


class _ReverseReranker:
    """Prefers whatever retrieval ranked last, to show the reranker decides the evidence order."""

    def score(self, query: str, passages):  # type: ignore[no-untyped-def]
        return [float(i) for i in range(len(passages))]


def test_reranker_seam_reorders_the_evidence(services: Services) -> None:
    services.build()
    plain, reranked = ScriptedLLM(lambda u: "NOT_FOUND"), ScriptedLLM(lambda u: "NOT_FOUND")
    question = "¿Dónde se reunirán nuevamente las delegaciones?"
    Asker(services.reader, services.embedder(), lambda: plain).ask(question)
    Asker(services.reader, services.embedder(), lambda: reranked, reranker=_ReverseReranker()).ask(question)
    first = [line for line in plain.prompts[0].splitlines() if line.startswith("[1]")]
    again = [line for line in reranked.prompts[0].splitlines() if line.startswith("[1]")]
    assert first and again and first != again


def test_claim_with_a_name_absent_from_the_document_is_unsupported(services: Services) -> None:
    from docqa.answer.verify import unsourced_details

    assert unsourced_details("La sede de Uni Electronics está en Lincolnshire.", ["Zenith Electronics tiene sede en Lincolnshire."]) == ["Uni"]
    assert unsourced_details("Se reunirán en Washington en enero de 2024.", ["Acordaron reunirse en Washington en enero de 2024."]) == []
    asker, _ = _asker(services, lambda u: f"Se reunirán en Washington en 2031 [{source_number(u, 'Washington')}].")
    answer = asker.ask("¿Dónde se reunirán nuevamente las delegaciones?")
    assert answer.grade == UNVERIFIED and not answer.sentences[0].supported


def test_evidence_lines_carry_their_document_title(services: Services) -> None:
    asker, llm = _asker(services, lambda u: f"Visitó Madrid [{source_number(u, 'Madrid')}].")
    answer = asker.ask("¿Qué ciudad visitó el Sr. García?")
    madrid = [line for line in llm.prompts[0].splitlines() if "Madrid" in line and line.startswith("[")]
    assert madrid and all("] (Notas) " in line for line in madrid)
    seed = [line for line in llm.prompts[0].splitlines() if "Washington" in line]
    assert all("(" not in line.split("]", 1)[1][:2] for line in seed)  # the article has no title line
    assert not answer.abstained and "Madrid" in answer.text


def test_answer_that_only_restates_the_question_is_unverified(services: Services) -> None:
    asker, _ = _asker(services, lambda u: f"Las delegaciones se reunirán nuevamente [{source_number(u, 'Washington')}].")
    answer = asker.ask("¿Dónde se reunirán nuevamente las delegaciones?")
    assert answer.grade == UNVERIFIED and answer.citations == () and not answer.sentences[0].supported


def test_novel_support_counts_only_words_the_question_lacks() -> None:
    question = "¿Dónde se reunirán nuevamente las delegaciones?"
    source = "Las dos delegaciones acordaron reunirse nuevamente en Washington en enero."
    assert novel_support("Se reunirán nuevamente en Washington.", question, "es", [source]) == 1.0
    assert novel_support("Las delegaciones se reunirán nuevamente.", question, "es", [source]) == 0.0
    assert novel_support("Se reunirán en Ginebra.", question, "es", [source]) == 0.0


def test_yes_no_answer_is_not_taken_for_a_restatement(services: Services) -> None:
    asker, _ = _asker(services, lambda u: f"Sí, las delegaciones se reunirán nuevamente en enero [{source_number(u, 'Washington')}].")
    answer = asker.ask("¿Se reunirán nuevamente las delegaciones en enero?")
    assert not answer.abstained and answer.citations


def test_answer_about_something_else_than_the_named_subject_abstains(services: Services) -> None:
    asker, _ = _asker(services, lambda u: f"Se reunirán en Washington [{source_number(u, 'Washington')}].")
    answer = asker.ask("¿Dónde se reunirán nuevamente las delegaciones de Canadá?")
    assert answer.grade == UNVERIFIED and answer.reason.startswith("the cited passages")
    geneva, _ = _asker(services, lambda u: f"It met in Geneva [{source_number(u, 'Geneva')}].")
    assert geneva.ask("Where did the committee meet on Tuesday?").grade == VERIFIED  # "Tuesday" is in the source


def test_names_absent_ignores_sentence_initial_capitals() -> None:
    assert not names_absent("¿Dónde se reunirán? ¿Dónde?", ["nada"])
    assert names_absent("¿Qué tipo de ciudad ha sido Berlín?", ["Varsovia es una ciudad multicultural."])
    assert not names_absent("En los Estados Unidos, ¿qué es?", ["Los Estados Unidos usan 60 Hz."])


def test_claim_citing_a_neighbour_is_re_cited_to_the_sentence_with_its_new_words() -> None:
    from docqa.answer.verify import verify

    evidence = ["Las delegaciones se reunieron en la Ciudad de México.", "Volverán a reunirse en Washington en enero."]
    # The claim shares enough words with [1] to keep that citation; only [2] states "Washington".
    claims = verify([("Las delegaciones se reunirán en Washington.", (1,))], "es", evidence, None, None, None,
                    "¿Dónde se reunirán las delegaciones?", ["es", "es"])
    assert claims[0].supported and claims[0].cited == (2,)


def _services_over(tmp_path, fake, name: str, files: dict[str, str]) -> Services:  # type: ignore[no-untyped-def]
    """Services over a small corpus of its own, for cases the shared fixture corpus cannot show."""
    from docqa.config import load_settings

    root = tmp_path / name
    root.mkdir()
    for file, text in files.items():
        (root / file).write_text(text, "utf-8")
    return Services(load_settings({}).with_overrides(corpus=root, index=tmp_path / f"{name}-index", embedder="fake"), fake)


def _grapes(tmp_path, fake) -> Services:  # type: ignore[no-untyped-def]
    return _services_over(tmp_path, fake, "grapes", {
        "wine.txt": "Whole grapes are poured into large steel tanks, where the must ferments with yeasts.\n",
        "breeding.txt": "Breeders produce seedless varieties by crossing plants that carry the trait.\n",
        "tea.txt": "Green tea is dried quickly after picking.\n",
    })


def test_answer_from_a_document_about_something_else_abstains(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    services = _grapes(tmp_path, fake)
    reply = lambda u: f"The grapes are poured into large steel tanks where the must ferments [{source_number(u, 'steel')}]."
    asker, _ = _asker(services, reply)
    # The wine document says nothing about seedless grapes or producing them, the question's specific words.
    answer = asker.ask("How are seedless grapes produced?")
    assert answer.grade == UNVERIFIED and answer.reason.startswith("the cited documents do not mention")
    # The same reply to a question the wine document is about stands.
    assert asker.ask("What happens to whole grapes in the tanks?").grade == VERIFIED


def test_topic_coverage_weighs_the_rarer_words_more() -> None:
    from docqa.answer.verify import topic_coverage, topic_terms

    assert topic_terms("¿Cuántos nietos tuvo el rey Luis VII?", "es") == ["niet", "rey", "luis", "vii"]
    # 100 sentences: "rey" is everywhere, "nietos" in one. Missing the rare word sinks the share.
    corpus = {"niet": 1, "rey": 50, "luis": 10, "vii": 10}
    assert topic_coverage(100, corpus, {"rey": 3, "vii": 1}) < 0.5
    assert topic_coverage(100, corpus, {"niet": 1, "rey": 1}) > 0.5
    assert topic_coverage(100, {"nada": 0}, {}) == 1.0  # words no sentence holds say nothing


def test_sentence_frequencies_count_in_the_corpus_and_in_chosen_documents(services: Services) -> None:
    services.build()
    store = services.reader().store
    total, everywhere = store.sentence_frequencies(["washington", "geneva", "inexistent"])
    assert total > 10 and everywhere["washington"] >= 1 and everywhere["geneva"] == 1 and everywhere["inexistent"] == 0
    in_notes_total, in_notes = store.sentence_frequencies(["washington", "geneva"], ["english.txt"])
    assert 0 < in_notes_total < total and in_notes == {"washington": 0, "geneva": 1}
    # Stems of 5+ letters match as prefixes ("campeon" for "campeonato"); quotes are never FTS syntax.
    assert store.sentence_frequencies(["budge", "bud"])[1] == {"budge": 1, "bud": 0}
    assert store.sentence_frequencies(['"; DROP'])[1] == {'"; DROP': 0}
    # `holds` answers the same question from one row, with the same prefix rule.
    assert [store.holds(t) for t in ("budge", "bud", "washington", '"; DROP')] == [True, False, True, False]


def test_unfamiliar_terms_are_the_words_no_dictionary_knows() -> None:
    from docqa.answer.verify import unfamiliar_terms

    assert list(unfamiliar_terms("¿Qué es picanha y cómo prepararla?", "es").values()) == ["picanha"]
    # Inflected, borrowed and question words are known; numbers are written too many ways to judge.
    assert unfamiliar_terms("¿Cuán común era inscribirse online en 1990 con 100k euros?", "es") == {}
    assert list(unfamiliar_terms("Who founded SEIVG?", "en").values()) == ["SEIVG"]


def test_unfamiliar_terms_consult_dictionaries_only_for_the_terms_kept(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from docqa.answer import verify

    looked_up: list[str] = []
    monkeypatch.setattr(verify, "_known", lambda word, lang: looked_up.append(word) or False)
    # A cold start skips loading a dictionary when the documents hold every word of the question.
    assert verify.unfamiliar_terms("¿Qué es picanha y cómo prepararla?", "es", among=lambda terms: set()) == {}
    assert looked_up == []
    kept = verify.unfamiliar_terms("¿Qué es picanha y cómo prepararla?", "es", among=lambda terms: {t for t in terms if "pican" in t})
    assert list(kept.values()) == ["picanha"] and looked_up == ["picanha"]


def _kitchen(tmp_path, fake) -> Services:  # type: ignore[no-untyped-def]
    return _services_over(tmp_path, fake, "kitchen", {
        "pollo.txt": "Pollo a la piccata\n\nLa pechuga de pollo se corta a lo largo y se aplana con un mazo.\n"
        "Después se dora en mantequilla y se sirve con alcaparras y limón.\n",
        "asado.txt": "El asado argentino\n\nEl vacío y la entraña se asan despacio sobre brasas de leña.\n"
        "La carne se sala al final para que no pierda sus jugos.\n",
    })


def test_question_about_a_thing_the_documents_never_mention_abstains_without_the_model(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    services = _kitchen(tmp_path, fake)
    asker, llm = _asker(services, lambda u: f"La picanha se corta a lo largo [{source_number(u, 'largo')}].")
    answer = asker.ask("¿Cómo se corta la picanha?")
    assert answer.abstained and "picanha" in answer.reason and not llm.prompts
    # A thing they do mention goes to the model as before.
    answer = asker.ask("¿Cómo se corta la pechuga?")
    assert not answer.abstained and llm.prompts
    # Across languages the documents' words differ anyway ("Huguenots", "hugonotes"), so the check stays out.
    assert "never mention" not in asker.ask("How is the picanha cut?").reason


def test_a_misspelt_name_is_reported_with_the_documents_spelling(services: Services) -> None:
    asker, llm = _asker(services, lambda u: "Blinken habló de migración [1].")
    answer = asker.ask("¿Qué dijo Blinkin en México?")
    assert answer.abstained and "“Blinkin”" in answer.reason and "they do mention “Blinken”" in answer.reason
    assert answer.suggestion == "¿Qué dijo Blinken en México?"
    # Words written together that the documents write apart.
    joined = asker.ask("¿Qué dijo Estadosunidos sobre la migración?")
    assert "they do mention “Estados Unidos”" in joined.reason and joined.suggestion == "¿Qué dijo Estados Unidos sobre la migración?"
    # No near spelling, no suggestion; and nothing is suggested from stems alone.
    other = asker.ask("¿Qué dijo AMLO sobre la migración?")
    assert "they do mention" not in other.reason and other.suggestion == ""
    assert not llm.prompts


def test_answer_citing_a_sentence_about_someone_else_is_asked_again_from_the_named_sentences(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    services = _services_over(tmp_path, fake, "visit", {
        "visita.txt": "La delegación llegó el martes a la capital. La encabezaba Antony Blinken, secretario de Estado. "
        "El presidente agradeció la visita de la delegación. La reunión duró tres horas.\n",
    })

    def reply(u: str) -> str:
        sources = [line.split("] ", 1) for line in u.splitlines() if line.startswith("[")]
        named = [int(n[1:]) for n, text in sources if "Blinken" in text]
        later = [(int(n[1:]), text) for n, text in sources if named and int(n[1:]) > named[0]]
        if later:  # the model copies a sentence ranked below the one naming him
            return f"{later[-1][1]} [{later[-1][0]}]"
        return f"Antony Blinken es el secretario de Estado [{named[0]}]."

    asker, llm = _asker(services, reply)
    answer = asker.ask("¿Qué cargo tiene Blinken?")
    assert len(llm.prompts) == 2 and "[2]" in llm.prompts[0] and "[2]" not in llm.prompts[1]
    assert not answer.abstained and "secretario de Estado" in answer.text
    assert ["Blinken" in c.sentence for c in answer.citations] == [True]


def test_a_question_about_what_is_not_so_needs_a_source_that_denies_something(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    services = _services_over(tmp_path, fake, "problems", {
        "teoria.txt": "Los problemas de función pueden reconvertirse en problemas de decisión.\n"
        "Un problema indecidible no puede resolverse con ningún algoritmo.\n",
    })
    asker, _ = _asker(services, lambda u: f"Un problema de función no se puede replantear así [{source_number(u, 'reconvertirse')}].")
    answer = asker.ask("¿Qué no se puede replantear como problema de decisión?")
    assert answer.grade == UNVERIFIED and "not so" in answer.reason
    # The source says what can be done: the same reply stands for the question without the "no".
    assert asker.ask("¿Qué se puede replantear como problema de decisión?").grade == VERIFIED
    # A source that denies something answers a question that asks what is not so.
    asker, _ = _asker(services, lambda u: f"Un problema indecidible no puede resolverse [{source_number(u, 'indecidible')}].")
    assert asker.ask("¿Qué no puede resolverse con un algoritmo?").grade == VERIFIED


def test_negation_words_count_on_each_side() -> None:
    from docqa.answer.verify import negation_unsupported

    assert negation_unsupported("What can't be solved?", ["Every problem can be solved."])
    assert not negation_unsupported("What can't be solved?", ["It was solved without a computer."])
    assert negation_unsupported("¿Qué no se puede hacer?", ["Sin embargo, todo se puede hacer."])
    assert not negation_unsupported("Who never lost?", ["He didn't lose a game."])
    # "sin" in the question is not a denial the source must repeat.
    assert not negation_unsupported("¿Quién jugó sin casco?", ["Jugó con un casco rojo."])


def test_across_languages_only_names_no_dictionary_knows_must_be_in_the_cited_passages() -> None:
    from docqa.answer.verify import unfamiliar_names_absent

    passage = ["Manning, de 39 años, jugó su último partido con los Broncos."]
    # "Gallicans" is in no dictionary and not in the passage: the answer is about something else.
    assert unfamiliar_names_absent("In what nation did the Gallicans get their start?", "es", passage)
    # One of the question's names is there ("Peyton" is not, "Manning" is): it stands.
    assert not unfamiliar_names_absent("How old was Peyton Manning in Super Bowl 50?", "es", passage)
    # Names a dictionary knows are translated ("Warsaw", "Varsovia"), so they alone never fail it.
    assert not unfamiliar_names_absent("What is the population of Warsaw?", "es", passage)


def test_english_question_naming_what_the_spanish_sources_never_do_abstains(services: Services) -> None:
    # Words the Spanish sentence holds, so the fake embedder's support does not decide it.
    reply = lambda u: f"Washington, enero de 2024 [{source_number(u, 'Washington')}]."
    asker, _ = _asker(services, reply)
    answer = asker.ask("Where will the delegations meet Zapotlán again?")
    assert answer.grade == UNVERIFIED and answer.reason.startswith("the cited passages do not mention")
    assert asker.ask("Where will the delegations meet again?").grade == VERIFIED


def test_a_document_title_alone_supports_no_claim(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    services = _services_over(tmp_path, fake, "titled", {
        "rollo.txt": "Rollo y los normandos\n\nLos vikingos llegaron a Francia en el siglo IX.\n",
    })
    # Every line from the document opens with its title; the title line is the one that is nothing else.
    asker, llm = _asker(services, lambda u: f"Rollo y los normandos [{source_number(u, ') Rollo y los normandos')}].")
    # The title line is among the sources, but it states nothing: the answer has no support.
    answer = asker.ask("¿Quiénes llegaron primero?")
    assert source_number(llm.prompts[0], ") Rollo y los normandos") > 0
    assert answer.grade == UNVERIFIED and answer.reason.startswith("no answer sentence is supported")
    # A body sentence cited for what it states stands.
    asker, _ = _asker(services, lambda u: f"Los vikingos llegaron a Francia [{source_number(u, 'vikingos')}].")
    assert asker.ask("¿Quiénes llegaron primero?").grade == VERIFIED


def test_a_number_the_source_writes_as_a_word_is_sourced() -> None:
    from docqa.answer.verify import unsourced_details

    source = ["Lady Gaga, la seis veces ganadora del Grammy, cantó el himno."]
    assert unsourced_details("Lady Gaga ha ganado 6 premios Grammy.", source) == []
    assert novel_support("Lady Gaga ha ganado 6 premios Grammy.", "¿Cuántos premios Grammy ha ganado Lady Gaga?", "es", source) == 1.0
    # A number the source does not hold, in words or digits, is still the model's own.
    assert unsourced_details("Lady Gaga ha ganado 7 premios Grammy.", source) == ["7"]


def test_an_answer_about_another_nth_than_the_question_asks_abstains() -> None:
    from docqa.answer.verify import ordinal_contradicted

    second = ["La ganadora de la segunda temporada fue Tyra Sanchez."]
    assert ordinal_contradicted("¿Quién ganó la séptima temporada?", second)
    assert ordinal_contradicted("Who won the seventh season?", second)  # across languages, by number
    assert not ordinal_contradicted("Who won the second season?", second)
    # No ordinal on one side, or words that only look like one ("17 segundos"), decide nothing.
    assert not ordinal_contradicted("¿Quién ganó la temporada?", second)
    assert not ordinal_contradicted("¿Quién fue el primer ganador?", ["Quedaban 17 segundos."])


def test_the_model_swapping_an_ordinal_abstains(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    services = _services_over(tmp_path, fake, "seasons", {
        "drag.txt": "La ganadora de la segunda temporada del concurso fue Tyra Sanchez.\n",
    })
    asker, _ = _asker(services, lambda u: f"La ganadora fue Tyra Sanchez [{source_number(u, 'Tyra')}].")
    answer = asker.ask("¿Quién ganó la séptima temporada del concurso?")
    assert answer.grade == UNVERIFIED and "nth" in answer.reason
    assert asker.ask("¿Quién ganó la segunda temporada del concurso?").grade == VERIFIED


def test_a_small_number_is_written_as_the_cited_sentence_writes_it() -> None:
    from docqa.answer.numerals import as_sources_write

    gaga = ["Lady Gaga, la seis veces ganadora del Grammy, cantó el himno."]
    assert as_sources_write("Lady Gaga ha ganado 6 premios Grammy.", gaga, "es") == "Lady Gaga ha ganado seis premios Grammy."
    assert as_sources_write("Son seis equipos.", ["Hay 6 equipos."], "es") == "Son 6 equipos."
    # Kept: a source that writes the digits too, another language's word, and digits inside a
    # larger number, a decimal, a time or a score.
    assert as_sources_write("Ganó 6 premios.", ["seis veces, 6 premios"], "es") == "Ganó 6 premios."
    assert as_sources_write("She won 6 Grammys.", gaga, "en") == "She won 6 Grammys."
    kept = "En 1530, el 2,6 %, a las 6:30 y 6-3."
    assert as_sources_write(kept, ["seis treinta"], "es") == kept


def test_the_answer_quotes_a_number_as_its_source_does(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    services = _services_over(tmp_path, fake, "singer", {
        "gaga.txt": "Lady Gaga, la seis veces ganadora del Grammy, cantó el himno nacional.\n",
    })
    asker, _ = _asker(services, lambda u: f"Lady Gaga ha ganado 6 premios Grammy [{source_number(u, 'Gaga')}].")
    answer = asker.ask("¿Cuántos premios Grammy ha ganado Lady Gaga?")
    assert not answer.abstained and "seis premios" in answer.text and "6" not in answer.text
    assert answer.sentences[0].text == "Lady Gaga ha ganado seis premios Grammy."


def test_an_aside_from_the_models_own_knowledge_is_dropped_and_the_rest_kept() -> None:
    from docqa.answer.verify import verify

    source = "Los Angeles Rams y Los Angeles Chargers son equipos de la NFL."
    glossed = "Los Angeles Rams son equipos de la NFL (National Football League)."
    [claim] = verify([(glossed, (1,))], "es", [source], None, None, [source], "¿De qué liga son los Rams?", policy=EVERY)
    assert claim.supported and claim.text == "Los Angeles Rams son equipos de la NFL."
    # A name the source lacks outside the parentheses still makes the claim unsupported.
    wrong = "Los Angeles Rams son equipos de la MLB (de béisbol)."
    [claim] = verify([(wrong, (1,))], "es", [source], None, None, [source], "¿De qué liga son los Rams?", policy=EVERY)
    assert not claim.supported


def test_a_question_about_a_name_the_best_sentences_hold_passes_the_gate(services: Services) -> None:
    reply = lambda u: f"Alejandro Mayorkas es el secretario de Seguridad Nacional [{source_number(u, 'Mayorkas')}]."
    asker, llm = _asker(services, reply, gate=(0.99, 0.99))
    answer = asker.ask("¿Quién es Alejandro Mayorkas?")
    assert not answer.abstained and "Seguridad Nacional" in answer.text and len(llm.prompts) == 1
    # Not when the question asks more than the name, nor when no best sentence holds the whole name.
    for question in ("¿Qué opina Alejandro Mayorkas del muro?", "¿Quién es Alejandro Magno?"):
        answer = asker.ask(question)
        assert answer.abstained and answer.reason.startswith("weak evidence") and len(llm.prompts) == 1


@pytest.mark.parametrize("question", [
    "", "   \n\t ", "😀🎉🔥", '"', "*", "¿Dónde? " * 2500,
])
def test_a_question_that_cannot_be_asked_says_why_without_retrieval_or_the_model(services, question: str) -> None:  # type: ignore[no-untyped-def]
    services.build()
    asker, llm = _asker(services, lambda u: "NOT_FOUND")
    answer = asker.ask(question)
    assert answer.abstained and answer.reason and ("empty" in answer.reason or "too long" in answer.reason)
    assert not llm.prompts and not answer.retrieved


@pytest.mark.parametrize("question", [
    "\x00\x01¿Dónde\x07 se reunirán\x1b[31m las delegaciones?", "¿Dónde NEAR( se reunirán OR las delegaciones \"*?",
    "<script>alert(1)</script> ¿Dónde se reunirán las delegaciones?", "'; DROP TABLE sentences; -- ¿Dónde se reunirán?",
    "代表団はどこで再び会うのか？", "ვაშინგტონი სად შეხვდებიან",
])
def test_hostile_or_unusual_questions_are_answered_or_abstain_never_raise(services, question: str) -> None:  # type: ignore[no-untyped-def]
    services.build()
    asker, llm = _asker(services, lambda u: f"Se reunirán en Washington [{source_number(u, 'Washington')}]."
                        if source_number(u, "Washington") else "NOT_FOUND")
    answer = asker.ask(question)
    assert answer.text
    assert all(ord(c) >= 32 for prompt in llm.prompts for c in prompt.split("Question:")[-1] if c not in "\n\t")
    if not answer.abstained:
        assert all("Washington" in c.sentence for c in answer.citations)
    assert services.reader().store.counts()["sentences"] > 0  # nothing in a question reaches the store as SQL


def test_an_abstention_carries_the_closest_passages_one_a_chunk_best_first(services: Services) -> None:
    asker, _ = _asker(services, lambda u: "NOT_FOUND")
    answer = asker.ask("¿Quién encabezó la delegación de Estados Unidos?")
    near = answer.closest()
    assert answer.abstained and len(near) == 2
    assert len({h.chunk_id for h in near}) == 2 and near[0].score >= near[1].score
    assert near[0].score == max(h.score for h in answer.retrieved)
    assert any(BLINKEN in h.text for h in near)  # what the documents do say about it
