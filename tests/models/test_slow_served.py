"""The packaged model behind a real server (llama-cpp-python's, started here on 127.0.0.1): the same
answers as in process, and two sessions streaming at once both get whole answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from conftest import REPO, SEED, real_services

from docqa.answer import Final
from docqa.interfaces.services import Services
from docqa.models import LocalServer, Profile, save_profile, served_key
from docqa.models.localserver import ALIAS
from docqa.models.profile import PACKAGED

pytestmark = pytest.mark.slow
QUESTIONS = ["¿Dónde se reunirán nuevamente las delegaciones?", "Who led the United States delegation?",
             "¿Quién ganó la Copa del Mundo de 2022?"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, Services]]:
    root = tmp_path_factory.mktemp("served")
    local = real_services(root, {SEED.name: SEED.read_text("utf-8")})
    with LocalServer(REPO / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", local.settings.threads) as server:
        models = root / "served-models"
        # The same file as in process, so the same calibration: the comparison is of the answers alone.
        save_profile(Profile(served_key(server.url, ALIAS), PACKAGED.not_found_prob, "the packaged model's"), models)
        settings = local.settings.with_overrides(llm_url=server.url, llm_model=ALIAS, models_dir=models)
        yield local, Services(settings, local.embedder())


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_server_answers_as_the_model_in_process_does(pair: tuple[Services, Services], question: str) -> None:
    local, served = pair
    here, there = local.asker().ask(question), served.asker().ask(question)
    assert there.draft == here.draft and there.abstained == here.abstained and there.grade == here.grade
    assert [c.sentence for c in there.citations] == [c.sentence for c in here.citations]


def test_two_sessions_stream_from_the_server_at_once_and_both_answers_are_whole(pair: tuple[Services, Services]) -> None:
    local, served = pair
    alone = local.asker().ask(QUESTIONS[0])
    got: list[object] = []

    def ask() -> None:
        got.append(next(e for e in served.stream(QUESTIONS[0]) if isinstance(e, Final)).answer)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert len(got) == 2 and all(a.text == alone.text for a in got)  # type: ignore[attr-defined]


def test_a_model_name_the_real_server_lacks_is_said(pair: tuple[Services, Services]) -> None:
    from docqa.models import ModelServerError

    _, served = pair
    wrong = Services(served.settings.with_overrides(llm_model="llama3:70b"), served.embedder())
    with pytest.raises(ModelServerError, match=f"it serves: {ALIAS}"):
        wrong.asker().ask(QUESTIONS[0])
