"""A model behind an OpenAI-compatible server: answers through it, every failure one line that says
what to do, and the next question works once the server is back; sessions take turns at the model."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import _script
from fakes import FakeEmbedder, ScriptedLLM
from fakeserver import CUT, EMPTY, HTML, SLOW, STATUS, FakeServer

from docqa.answer import Final, Waiting
from docqa.config import SettingsError, load_settings
from docqa.interfaces import main
from docqa.interfaces.services import Services
from docqa.models import ModelServerError, first_prob

ORIGINAL_LLM = Services.llm  # before a page fixture replaces it
ASKED = "¿Dónde se reunirán nuevamente las delegaciones?"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer(_script)
    yield fake
    fake.stop()


def served(settings, url: str, **kw: object) -> Services:  # type: ignore[no-untyped-def]
    services = Services(settings.with_overrides(llm_url=url, **kw), FakeEmbedder())
    services.build()
    return services


def test_an_answer_comes_through_the_server_with_its_citation_and_the_doubt_read_from_logprobs(settings, server) -> None:  # type: ignore[no-untyped-def]
    services = served(settings, server.url)
    answer = services.asker().ask(ASKED)
    assert "Washington" in answer.text and not answer.abstained
    assert any("Washington" in c.sentence for c in answer.citations)
    assert server.requests[0]["max_tokens"] == 1 and server.requests[0]["messages"][-1]["content"] == ""  # warmed: the system message
    sent = next(r for r in server.requests if r.get("logprobs") and r["max_tokens"] > 1)
    assert sent["temperature"] == 0 and sent["stream"] is True and sent["model"] == "fake"
    assert sent["logprobs"] is True and sent["top_k"] == 1 and sent["cache_prompt"] is True
    assert services.asker().ask("¿Quién ganó el campeonato de ajedrez?").abstained  # the model says NOT_FOUND
    assert "fake served at " + server.url in services.model_line()


def test_the_doubt_is_the_probability_of_the_watched_texts_own_first_token_as_the_server_cuts_it(settings, server) -> None:  # type: ignore[no-untyped-def]
    from docqa.models import ServedLLM

    class Top:
        def __init__(self, token: str, logprob: float) -> None:
            self.token, self.logprob = token, logprob

    assert first_prob([Top("N", -0.1), Top("NOT", -0.5)], "NOT") == pytest.approx(0.6065, abs=1e-3)  # not "N"'s
    assert first_prob([Top("Yes", -0.01)], "NOT") == 0.0
    llm = ServedLLM(server.url)
    assert llm.first_token("NOT_FOUND") == "NOT"  # asked of the model once, by having it repeat the text
    probe = server.requests[-1]
    assert probe["max_tokens"] == 1 and "Repeat" in probe["messages"][0]["content"]
    with llm.complete("s", "¿Dónde se reunirán nuevamente? Washington", 40, watch="NOT_FOUND") as reply:
        reply.text()
    assert reply.watch_prob == pytest.approx(0.001)  # "NOT", not "N" (0.005)
    assert len([r for r in server.requests if r["max_tokens"] == 1]) == 1


def test_a_server_that_is_down_is_said_in_one_line_and_the_next_question_works_once_it_is_back(settings) -> None:  # type: ignore[no-untyped-def]
    first = FakeServer(_script)
    url, port = first.url, first.port
    first.stop()
    services = served(settings, url)
    with pytest.raises(ModelServerError, match="not reachable") as err:
        services.asker().ask(ASKED)
    assert "\n" not in str(err.value) and url in str(err.value) and "DOCQA_LLM_URL" in str(err.value)
    back = FakeServer(_script, port=port)
    try:
        assert "Washington" in services.asker().ask(ASKED).text  # same Services: no restart
    finally:
        back.stop()


@pytest.mark.parametrize(("mode", "said"), [
    (STATUS, "answered 500 (the model crashed)"),
    (HTML, "did not answer as an OpenAI-compatible API"),
    (EMPTY, "did not answer as an OpenAI-compatible API"),
    (SLOW, "sent nothing for 1 s"),
    (CUT, "ended the reply unfinished; if it is llama-cpp-python's server, start it with --interrupt_requests False"),
])
def test_each_failure_of_the_server_is_one_line_and_the_next_question_recovers(settings, server, mode: str, said: str) -> None:  # type: ignore[no-untyped-def]
    services = served(settings, server.url, llm_timeout=1.0)
    server.mode, server.delay = mode, 3.0
    with pytest.raises(ModelServerError) as err:
        services.asker().ask(ASKED)
    assert said in str(err.value) and "\n" not in str(err.value)
    server.mode, server.delay = "ok", 0.0
    assert "Washington" in services.asker().ask(ASKED).text


def test_a_model_name_the_server_lacks_names_those_it_has(settings, server) -> None:  # type: ignore[no-untyped-def]
    services = served(settings, server.url, llm_model="llama3:70b")
    with pytest.raises(ModelServerError, match=r"has no model 'llama3:70b' \(it serves: fake\); set DOCQA_LLM_MODEL"):
        services.asker().ask(ASKED)


def test_a_server_that_refuses_llama_cpp_s_extra_fields_is_asked_again_without_them(settings, server) -> None:  # type: ignore[no-untyped-def]
    server.strict = True
    services = served(settings, server.url)
    assert "Washington" in services.asker().ask(ASKED).text
    assert "top_k" in server.requests[0] and all("top_k" not in r for r in server.requests[1:])


def test_a_url_that_is_not_http_is_a_setting_error() -> None:
    with pytest.raises(SettingsError, match="DOCQA_LLM_URL or --llm-url"):
        load_settings({"DOCQA_LLM_URL": "localhost:8080"})


def test_the_cli_says_a_down_server_in_one_line_without_a_traceback(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gone = FakeServer(_script)
    gone.stop()
    Services(settings, FakeEmbedder()).build()
    env = {"DOCQA_INDEX": str(settings.index), "DOCQA_CORPUS": str(settings.corpus), "DOCQA_EMBEDDER": "fake",
           "DOCQA_MODELS": str(tmp_path / "models")}
    result = CliRunner().invoke(main, ["ask", ASKED, "--llm-url", gone.url], env=env)
    assert result.exit_code == 1
    assert "not reachable" in result.output and "Traceback" not in result.output


def _at_once(services: Services, sessions: int) -> list[list[object]]:
    """The events of `sessions` answers asked at the same time, one thread each."""
    got: list[list[object]] = []
    threads = [threading.Thread(target=lambda: got.append(list(services.stream(ASKED)))) for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return got


def test_in_process_sessions_queue_and_hear_how_many_are_ahead(settings) -> None:  # type: ignore[no-untyped-def]
    llm = ScriptedLLM(_script, delay=0.05)
    services = Services(settings, FakeEmbedder(), llm)
    services.build()
    got = _at_once(services, 3)
    assert len(got) == 3 and all(isinstance(e[-1], Final) and "Washington" in e[-1].answer.text for e in got)
    heard = sorted(max((e.ahead for e in events if isinstance(e, Waiting)), default=0) for events in got)
    assert heard == [0, 1, 2]  # the first answered at once; the others told 1 and 2 ahead


def test_a_server_answers_several_sessions_at_once_up_to_its_slots(settings, server) -> None:  # type: ignore[no-untyped-def]
    server.delay = 0.05
    services = served(settings, server.url, llm_slots=2)
    got = _at_once(services, 3)
    assert len(got) == 3 and all(isinstance(e[-1], Final) and "Washington" in e[-1].answer.text for e in got)
    assert server.most_active == 2  # two streamed together, never three
    assert sum(any(isinstance(e, Waiting) for e in events) for events in got) == 1


def test_the_page_says_a_down_server_and_answers_once_it_is_back_without_a_restart(
        monkeypatch: pytest.MonkeyPatch, sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from conftest import _script as script
    from fakes import seen

    gone = FakeServer(script)
    gone.stop()
    monkeypatch.setattr(Services, "llm", ORIGINAL_LLM)  # not the page fixture's scripted model: the server
    monkeypatch.setenv("DOCQA_LLM_URL", gone.url)
    monkeypatch.setenv("DOCQA_MODELS", str(tmp_path / "models"))
    at = sessions()
    at.chat_input[0].set_value(ASKED).run()
    assert not at.exception
    assert any("not reachable" in seen(e.value) for e in at.error)
    back = FakeServer(script, port=gone.port)
    try:
        at.chat_input[0].set_value(ASKED).run()
        assert not at.exception and not at.error
        assert any("Washington" in seen(m.value) for m in at.chat_message[-1].markdown)
        assert any("fake served at" in seen(c.value) for c in [*at.sidebar.caption, *at.sidebar.warning])
    finally:
        back.stop()


def test_a_session_in_line_is_shown_how_many_are_ahead_not_a_silent_page() -> None:
    from docqa.answer import Status, Token
    from docqa.interfaces.present import Progress

    shown = Progress()
    assert shown.update(Waiting(2)).label == "Waiting for the model (2 ahead)"
    assert shown.update(Waiting(1)).label == "Waiting for the model (1 ahead)"
    assert "Waiting" not in shown.update(Status("thinking")).label
    assert shown.update(Token("Se")).streamed == "Se"


def test_status_still_reports_the_index_when_the_server_is_down(settings) -> None:  # type: ignore[no-untyped-def]
    gone = FakeServer(_script)
    gone.stop()
    info = served(settings, gone.url).status()
    assert info["documents"] == 3 and "not reachable" in str(info["model"]) and info["model_calibrated"] is False
