"""The models: any GGUF chat model through llama.cpp, its template and calibration, and the embedders."""

from __future__ import annotations

from docqa.models.choice import ModelChoiceError, ModelInfo, chosen_path, describe, list_models
from docqa.models.embed import Embedder, EmbedderError, embedder_id, load_embedder
from docqa.models.llm import LLM, Completion, LlamaCppLLM, PrefixKeeper, raw_stream
from docqa.models.llmfile import LLM_FILENAME, ModelFileError, ensure_llm
from docqa.models.profile import Profile, load_profile, save_profile

__all__ = [
    "LLM",
    "LLM_FILENAME",
    "Completion",
    "Embedder",
    "EmbedderError",
    "LlamaCppLLM",
    "ModelChoiceError",
    "ModelFileError",
    "ModelInfo",
    "PrefixKeeper",
    "Profile",
    "chosen_path",
    "describe",
    "embedder_id",
    "ensure_llm",
    "list_models",
    "load_embedder",
    "load_profile",
    "raw_stream",
    "save_profile",
]
