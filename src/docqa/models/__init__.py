"""The models: any GGUF chat model through llama.cpp, its template and calibration, and the embedders."""

from __future__ import annotations

from docqa.models.choice import (
    SERVED,
    ModelChoiceError,
    ModelInfo,
    chosen_path,
    describe,
    list_models,
    served_info,
    served_llm,
)
from docqa.models.embed import Embedder, EmbedderError, embedder_id, load_embedder
from docqa.models.gate import Gate
from docqa.models.llm import LLM, Completion, LlamaCppLLM, PrefixKeeper, raw_stream
from docqa.models.llmfile import LLM_FILENAME, ModelFileError, ensure_llm
from docqa.models.localserver import LocalServer
from docqa.models.profile import Profile, load_profile, save_profile
from docqa.models.served import ModelServerError, ServedLLM, first_prob, served_key

__all__ = [
    "LLM",
    "LLM_FILENAME",
    "SERVED",
    "Completion",
    "Embedder",
    "EmbedderError",
    "Gate",
    "LlamaCppLLM",
    "LocalServer",
    "ModelChoiceError",
    "ModelFileError",
    "ModelInfo",
    "ModelServerError",
    "PrefixKeeper",
    "Profile",
    "ServedLLM",
    "chosen_path",
    "describe",
    "embedder_id",
    "ensure_llm",
    "first_prob",
    "list_models",
    "load_embedder",
    "load_profile",
    "raw_stream",
    "save_profile",
    "served_info",
    "served_key",
    "served_llm",
]
