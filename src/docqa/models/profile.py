"""Per-model calibration: every model-dependent number, stored per GGUF file and keyed by its sha256."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from docqa.models.llmfile import LLM_SHA256

PROFILES_DIR = "profiles"


@dataclass(frozen=True)
class Profile:
    sha256: str
    # The model's probability of opening its reply with NOT_FOUND at or above which an answer that
    # passed every check is graded unverified, not verified; None: the doubt grades nothing
    # (uncalibrated, or a fit found it does not pay). `docqa calibrate` fits it.
    not_found_prob: float | None = None
    fitted_on: str = ""  # the question file(s) and what the fit measured, in words

    @property
    def calibrated(self) -> bool:
        """Fitted, even if the fit found that the NOT_FOUND guard does not pay for this model."""
        return bool(self.fitted_on)


# The packaged Qwen2.5-Coder-1.5B, fitted on XQuAD es dev and NoMIRACL dev (docs/experiments.md,
# "NOT_FOUND bar"); a user's `docqa calibrate` of the same file replaces it.
PACKAGED = Profile(LLM_SHA256, 0.02, "packaged: XQuAD es dev (104) and NoMIRACL dev (125), 2026-11")


def file_sha256(path: Path, cache_dir: Path | None = None) -> str:
    """The file's sha256, remembered by path, size and mtime: hashing a 4 GB model takes ~10 s."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache = (cache_dir / "hashes.json") if cache_dir else None
    known: dict[str, str] = {}
    if cache is not None and cache.is_file():
        try:
            known = json.loads(cache.read_text("utf-8"))
        except ValueError:
            known = {}
    if key in known:
        return known[key]
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    known[key] = digest.hexdigest()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(known, indent=1), "utf-8")
    return known[key]


def load_profile(sha256: str, models_dir: Path) -> Profile:
    """The user's calibration of this file, else the packaged one, else an uncalibrated profile."""
    path = models_dir / PROFILES_DIR / f"{sha256}.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text("utf-8"))
            return Profile(sha256, data.get("not_found_prob"), data.get("fitted_on", ""))
        except ValueError:
            pass
    return PACKAGED if sha256 == PACKAGED.sha256 else Profile(sha256)


def save_profile(profile: Profile, models_dir: Path) -> Path:
    path = models_dir / PROFILES_DIR / f"{profile.sha256}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(profile), indent=2) + "\n", "utf-8")
    tmp.replace(path)
    return path
