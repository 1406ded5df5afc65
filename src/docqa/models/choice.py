"""The GGUF models docqa knows: the packaged default, files in the models folder, and the chosen one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from docqa.config import Settings
from docqa.models.chat import FALLBACK, FROM_GGUF
from docqa.models.llmfile import LLM_FILENAME, LLM_SHA256
from docqa.models.profile import PROFILES_DIR, file_sha256, load_profile

if TYPE_CHECKING:
    from docqa.models.served import ServedLLM


class ModelChoiceError(RuntimeError):
    pass


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    size: int
    sha256: str
    architecture: str
    template: str  # FROM_GGUF or FALLBACK
    calibrated: bool
    not_found_prob: float | None
    fitted_on: str
    packaged: bool
    chosen: bool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def summary(self) -> str:
        """One line for `docqa status` and the sidebar."""
        template = "its own chat template" if self.template == FROM_GGUF else "ChatML (the file has no chat template)"
        if self.architecture == SERVED:
            template = "the server's chat template"
        if not self.calibrated:
            calibration = "uncalibrated: the NOT_FOUND guard is off; run `docqa calibrate`"
        elif self.not_found_prob is None:
            calibration = "calibrated (the NOT_FOUND guard does not pay for it: off)"
        else:
            calibration = f"calibrated (NOT_FOUND bar {self.not_found_prob:g})"
        if self.architecture == SERVED:
            return f"{self.name} served at {self.path}, {template}, {calibration}"
        return f"{self.name}, {self.size / 1e9:.2f} GB, {template}, {calibration}"


SERVED = "served"  # ModelInfo.architecture of a model behind a server: its file is not ours to read


def served_info(url: str, model: str, models_dir: Path) -> ModelInfo:
    """A served model as `docqa models` and the sidebar show it; calibrated per URL and model name."""
    from docqa.models.served import served_key

    key = served_key(url, model)
    profile = load_profile(key, models_dir)
    return ModelInfo(
        name=model or "(the server's first model)", path=url, size=0, sha256=key, architecture=SERVED, template=SERVED,
        calibrated=profile.calibrated, not_found_prob=profile.not_found_prob, fitted_on=profile.fitted_on,
        packaged=False, chosen=True,
    )


def chosen_path(settings: Settings) -> Path:
    """The model answers come from: `--llm`/DOCQA_LLM, else the packaged default."""
    if settings.llm_path is not None:
        path = settings.llm_path.expanduser()
        if not path.is_file():
            raise ModelChoiceError(f"model file '{path}' does not exist; check DOCQA_LLM or --llm (a path to a .gguf file)")
        return path
    from docqa.models.llmfile import ensure_llm

    return ensure_llm(settings.models_dir, log=lambda m: None)


def read_metadata(path: Path) -> dict[str, str]:
    """The GGUF's key-value metadata, read with the vocabulary only (no weights, ~1 s)."""
    from llama_cpp import Llama

    try:
        with _quiet_stderr():  # llama.cpp warns about the context size of a vocabulary-only load
            llama = Llama(model_path=str(path), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError) as err:
        raise ModelChoiceError(f"'{path}' is not a GGUF model llama.cpp can load ({err}); use a .gguf chat model") from err
    return dict(llama.metadata)


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the C library's writes to stderr (file descriptor 2), not only Python's."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def describe(path: Path, settings: Settings, chosen: bool) -> ModelInfo:
    meta = read_metadata(path)
    sha = file_sha256(path, settings.models_dir / PROFILES_DIR)
    profile = load_profile(sha, settings.models_dir)
    return ModelInfo(
        name=meta.get("general.name", path.stem) or path.stem, path=str(path), size=path.stat().st_size, sha256=sha,
        architecture=meta.get("general.architecture", "?"),
        template=FROM_GGUF if meta.get("tokenizer.chat_template") else FALLBACK,
        calibrated=profile.calibrated, not_found_prob=profile.not_found_prob, fitted_on=profile.fitted_on,
        packaged=sha == LLM_SHA256, chosen=chosen,
    )


def list_models(settings: Settings) -> list[ModelInfo]:
    """The packaged default (assembled if missing), every .gguf in the models folder, and the chosen file."""
    from docqa.models.llmfile import ensure_llm

    default = ensure_llm(settings.models_dir, log=lambda m: None)
    chosen = chosen_path(settings).resolve()
    paths = [default, *sorted(settings.models_dir.glob("*.gguf")), chosen]
    unique = list(dict.fromkeys(p.resolve() for p in paths))
    files = [describe(p, settings, p == chosen and not settings.llm_url) for p in unique if p.name != LLM_FILENAME + ".partial"]
    if not settings.llm_url:
        return files
    # A served model answers: it is the chosen one, named or the first the server lists.
    name = settings.llm_model or served_llm(settings).model_name()
    return [served_info(settings.llm_url, name, settings.models_dir), *files]


def served_llm(settings: Settings) -> ServedLLM:
    """The client of the model server the settings name (DOCQA_LLM_URL, its model, timeout, and the
    API key from DOCQA_LLM_KEY, kept out of the settings so it is never printed with them)."""
    from docqa.models.served import ServedLLM

    return ServedLLM(settings.llm_url or "", settings.llm_model, settings.llm_timeout, key=os.environ.get("DOCQA_LLM_KEY", ""))
