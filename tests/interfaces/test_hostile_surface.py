"""Hostile and concurrent use, round two (issue 27), on the surfaces people see: text from documents,
file names and the model shown inert on the page and in the terminal, sessions answering at once,
and a cited file deleted since the build. The browser's side is in test_browser_hostile.py."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import ScriptedLLM, seen, source_number

from docqa.answer.asker import Asker
from docqa.cli import main
from docqa.index import lexical
from docqa.interfaces.present import verified_differs
from docqa.interfaces.render import answer_markdown, inert, terminal
from docqa.interfaces.services import Services
from docqa.types import Answer, AnswerSentence

LINKS = [
    "![logo](http://127.0.0.1:8999/x.png)", "[pulsa](http://127.0.0.1:8999/l)", "<http://127.0.0.1:8999/a>",
    "http://127.0.0.1:8999/bare.png", "www.ejemplo.com", "WWW.Ejemplo.com", "correo@ejemplo.com",
    "<img src='http://127.0.0.1:8999/h.png'>", "&#x27; &amp; &lt;", "x`![y](https:127.0.0.1:8998)`.txt",
]


@pytest.mark.parametrize("text", [*LINKS, "It's \"here\" <b> & there", "a*b*_c_ # h1 | t | ~~s~~ > q"])
def test_inert_markdown_reads_back_exactly_and_holds_no_live_markup(text: str) -> None:
    out = inert(text)
    assert seen(out) == text
    # Every Markdown or HTML character is backslashed, and no auto-link can start.
    assert not re.search(r"(?<!\\)[\[\]()<>&!`*_#|~]", out)
    assert "://" not in out and "www." not in out.lower() and not re.search(r"@\w", out)


def test_an_answer_keeps_apostrophes_and_quotes_as_typed() -> None:
    sentence = AnswerSentence("It's \"Blinken\" <the one> & co.", (1,), True)
    shown = seen(answer_markdown(Answer("", False, sentences=(sentence,))))
    assert shown.startswith("It's \"Blinken\" <the one> & co. [1]") and "&#x27;" not in shown


def test_terminal_text_drops_escape_sequences_and_bidi_overrides() -> None:
    hostile = "a\x1b]8;;http://127.0.0.1:8999/\x1b\\link\x1b]8;;\x1b\\ \x1b[2J\x1b]0;title\x07 \u202eevil\x9b1m\tok\n"
    clean = terminal(hostile)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", clean)
    assert clean.endswith("\tok\n") and "link" in clean
    assert json.loads(terminal(json.dumps(hostile, ensure_ascii=False), escape=True)) == hostile


def test_the_cli_prints_no_control_characters_from_file_names(services: Services, corpus: Path) -> None:
    services.build()
    (corpus / "x\x1b]8;;http:127.0.0.1:8998\x1b\\y.txt").write_text("Un documento nuevo.", "utf-8")
    env = {"DOCQA_CORPUS": str(corpus), "DOCQA_INDEX": str(services.settings.index), "DOCQA_EMBEDDER": "fake"}
    for args in (["status"], ["status", "--json"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "y.txt" in result.output


def test_a_verified_answer_that_only_moved_its_marker_is_not_shown_twice() -> None:
    answer = Answer("Se reunirán en Washington. [1]", False)
    assert not verified_differs("Se reunirán en Washington [1].", answer)
    assert verified_differs("Se reunirán en Madrid [1].", answer)


def test_eight_threads_answering_and_asking_status_at_once_never_fail(services: Services) -> None:
    services.build()
    llm = ScriptedLLM(lambda u: f"Se reunirán en Washington [{source_number(u, 'Washington')}].", delay=0.001)
    asker = Asker(services.reader, services.embedder(), lambda: llm)
    questions = ["¿Dónde se reunirán nuevamente las delegaciones?", "¿Dónde acordaron reunirse las delegaciones?"]
    errors: list[BaseException] = []
    answers: list[Answer] = []

    def work(i: int) -> None:
        try:
            for n in range(6):
                lexical._term.cache_clear() if n == 3 else None
                if (i + n) % 3 == 0:
                    assert services.status()["documents"] == 3
                else:
                    answers.append(asker.ask(questions[(i + n) % 2]))
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert answers and all("Washington" in a.text and not a.abstained for a in answers)


def test_a_cited_file_deleted_since_the_build_is_named(services: Services, corpus: Path) -> None:
    services.build()
    (corpus / "seed.txt").unlink()
    assert services.missing_sources(["seed.txt", "english.txt", "seed.txt"]) == ["seed.txt"]
