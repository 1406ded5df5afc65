"""Walk the corpus folder: which files to index, and a reason for each one skipped."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from docqa.config import SUPPORTED_EXTENSIONS
from docqa.index.layout import CURRENT, VERSIONS


@dataclass(frozen=True)
class CorpusFile:
    rel: str  # forward-slash path relative to the corpus root
    path: Path
    mtime: float
    size: int


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def scan_corpus(root: Path, max_bytes: int) -> tuple[list[CorpusFile], list[Skipped]]:
    files: list[CorpusFile] = []
    skipped: list[Skipped] = []
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            if reason := _folder_reason(here / name):
                skipped.append(Skipped(_rel(here / name, root) + "/", reason))
            else:
                kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = here / name
            rel = _rel(path, root)
            reason = _reason(path, name, real_root, max_bytes)
            if reason:
                skipped.append(Skipped(rel, reason))
                continue
            try:
                st = path.stat()
            except OSError as err:  # deleted or made unreadable since the walk listed it
                skipped.append(Skipped(rel, f"cannot read file: {err.strerror or err}"))
                continue
            files.append(CorpusFile(rel, path, st.st_mtime, st.st_size))
    return files, skipped


def _folder_reason(folder: Path) -> str | None:
    """Why a folder is not walked: hidden, or a docqa index (its CURRENT pointer or versions) placed
    inside the corpus."""
    if folder.name.startswith("."):
        return "hidden folder; not indexed"
    if (folder / CURRENT).is_file() or (folder / VERSIONS).is_dir():
        return "a docqa index folder, not documents; not indexed"
    return None


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _reason(path: Path, name: str, real_root: Path, max_bytes: int) -> str | None:
    if name.startswith("."):
        return "hidden file; rename it without the leading dot to index it"
    if path.is_symlink():
        try:
            target = path.resolve()
        except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop, later ones OSError
            return "symlink loop; remove the link or point it at a file"
        if not target.is_relative_to(real_root):
            return "symlink pointing outside the corpus; copy the file into the corpus instead"
        if not target.is_file():
            return "broken symlink"
    if not path.is_file():
        return "not a regular file"
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        return f"unsupported file type '{suffix or '(none)'}'; supported: {', '.join(SUPPORTED_EXTENSIONS)}"
    size = path.stat().st_size
    if size > max_bytes:
        return (
            f"too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB limit); "
            "split it or raise DOCQA_MAX_FILE_MB"
        )
    return None
