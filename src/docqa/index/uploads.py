"""Save uploaded files into the corpus: type and size limits, safe names, never overwriting."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from docqa.config import SUPPORTED_EXTENSIONS

_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)
MAX_FILES = 100  # at once, from the page; more belong in corpus/ and `docqa index`
# Of the 255 bytes a file system allows a name: the rest is room for " (n)" when the name is taken.
NAME_BYTES = 200


@dataclass(frozen=True)
class UploadResult:
    original: str
    saved_as: str | None  # corpus-relative name, or None when rejected
    message: str


def safe_name(name: str) -> str:
    """A plain file name: no folders, no leading dots, no control or shell-special characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = _UNSAFE.sub("_", stem).strip(" ._") or "document"
    ext = _UNSAFE.sub("", ext).lower()[:16]
    stem = _cut(stem, NAME_BYTES - len(ext.encode()) - 1)
    return f"{stem}.{ext}" if ext else stem


def _cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8 on a character boundary: file systems count a
    name's bytes (255 at most), and "日" is three of them."""
    cut = text.encode()[:limit].decode(errors="ignore").rstrip(" ._")
    return cut or "document"


def _free_name(folder: Path, name: str) -> Path:
    path = folder / name
    stem, suffix = path.stem, path.suffix
    n = 1
    while path.exists():
        path = folder / f"{stem} ({n}){suffix}"
        n += 1
    return path


def save_upload(corpus: Path, name: str, data: bytes, max_bytes: int) -> UploadResult:
    clean = safe_name(name)
    suffix = Path(clean).suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        return UploadResult(name, None, f"rejected: '{suffix or 'no extension'}' is not a supported type ({', '.join(SUPPORTED_EXTENSIONS)})")
    if len(data) > max_bytes:
        return UploadResult(name, None, f"rejected: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    if not data.strip():
        return UploadResult(name, None, "rejected: the file is empty")
    try:
        corpus.mkdir(parents=True, exist_ok=True)
        target = _free_name(corpus, clean)
        # O_EXCL: if another tab saved the same name a moment ago, fail instead of overwriting it.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError as err:  # a full disk, a read-only folder: this file is refused, the batch goes on
        return UploadResult(name, None, f"not saved: {err.strerror or err}; check the corpus folder's free space and permissions")
    note = "" if target.name == clean else f" (a file named {clean} already exists)"
    return UploadResult(name, target.name, f"saved as {target.name}{note}; rebuild the index to include it")


def save_uploads(corpus: Path, files: list[tuple[str, bytes]], max_bytes: int) -> list[UploadResult]:
    """Save each file (name, bytes), or reject the whole batch when it holds more than MAX_FILES."""
    if len(files) > MAX_FILES:
        why = (f"rejected: {len(files)} files at once, at most {MAX_FILES}; upload them in batches, or copy "
               "them into the corpus folder and run `docqa index`")
        return [UploadResult(name, None, why) for name, _ in files]
    return [save_upload(corpus, name, data, max_bytes) for name, data in files]
