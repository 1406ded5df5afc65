"""Text extraction for .txt/.md/.pdf/.docx/.html, with encoding detection and per-file skip reasons."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from docqa.config import SUPPORTED_EXTENSIONS


class SkipFile(Exception):
    """A file that cannot be indexed; the message is the user-facing reason and the fix."""


@dataclass(frozen=True)
class Extracted:
    text: str
    page_starts: tuple[int, ...] = ()


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> str:
    """Decode bytes by BOM, then strict UTF-8, then latin-1 (cp1252) for legacy files."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16")
    if b"\x00" in data:
        raise SkipFile("binary content (NUL bytes), not text; save it as a text document or remove it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        # Valid multi-byte sequences mean the file meant to be UTF-8 and is damaged; a latin-1
        # reading would silently garble it, so refuse instead of guessing.
        if _UTF8_MULTIBYTE.search(data):
            raise SkipFile(
                f"invalid UTF-8 at byte {err.start}; re-save the file as UTF-8"
            ) from None
    text = data.decode("cp1252", errors="replace")
    return text


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise SkipFile(f"invalid {encoding.upper()} at byte {err.start}; re-save the file as UTF-8") from None


def clean(text: str) -> str:
    """Normalise newlines and Unicode so offsets are stable and accents compare equal."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    return unicodedata.normalize("NFC", text)


def _check_text(text: str) -> str:
    if not text.strip():
        raise SkipFile("empty: no text to index")
    sample = text[:20000]
    if len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        raise SkipFile("binary content (control bytes), not text; save it as a text document or remove it")
    return text


def _plain(path: Path) -> Extracted:
    return Extracted(_check_text(clean(decode_text(path.read_bytes()))))


def _pdf(path: Path) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password and open fine.
            try:
                ok = reader.decrypt("")
            except Exception:  # noqa: BLE001 - pypdf raises several types for unsupported crypto
                ok = 0
            if not ok:
                raise SkipFile("encrypted PDF; save an unencrypted copy to index it")
        pages = [clean(page.extract_text() or "") for page in reader.pages]
    except SkipFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as err:
        raise SkipFile(f"corrupt PDF ({type(err).__name__}); re-export or repair the file") from None
    except Exception as err:  # noqa: BLE001 - malformed PDFs raise arbitrary errors inside pypdf
        raise SkipFile(f"unreadable PDF ({type(err).__name__}); re-export or repair the file") from None
    if not any(p.strip() for p in pages):
        raise SkipFile("PDF has no text layer (scanned images?); run OCR on it first")
    starts, parts, pos = [], [], 0
    for page in pages:
        starts.append(pos)
        parts.append(page.strip())
        pos += len(parts[-1]) + 2
    return Extracted("\n\n".join(parts), tuple(starts))


MAX_INFLATED = 200 << 20  # a .docx's parts unzipped: no real document comes near it
MAX_INFLATION = 100  # unzipped ÷ zipped; Office XML compresses about 5-20×


def _docx(path: Path) -> Extracted:
    import zipfile

    import docx

    try:
        with zipfile.ZipFile(path) as z:
            inflated = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        inflated = 0  # python-docx below gives the reason
    if inflated > MAX_INFLATED or inflated > MAX_INFLATION * max(1, path.stat().st_size):
        raise SkipFile(f"DOCX would inflate to {inflated / 1e6:.0f} MB from {path.stat().st_size / 1e6:.1f} MB "
                       "(a zip bomb, or too large); it is not opened")
    try:
        document = docx.Document(str(path))
    except Exception as err:  # noqa: BLE001 - python-docx surfaces zip/xml errors of many kinds
        raise SkipFile(f"corrupt or unsupported DOCX ({type(err).__name__}); re-save it from your editor") from None
    blocks = [p.text.strip() for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            blocks.append(" | ".join(cell.text.strip() for cell in row.cells))
    return Extracted(_check_text(clean("\n\n".join(b for b in blocks if b))))


_BLOCK_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "th", "dt", "dd", "figcaption", "caption"]


def _html(path: Path) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(path.read_bytes()), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    blocks = []
    for tag in soup.find_all(_BLOCK_TAGS):
        if tag.find(_BLOCK_TAGS):
            continue  # the innermost block carries the text; avoids duplicates
        blocks.append(" ".join(tag.get_text(" ").split()))
    if not any(blocks):
        blocks = [" ".join(line.split()) for line in soup.get_text("\n").split("\n")]
    return Extracted(_check_text(clean("\n\n".join(b for b in blocks if b))))


def extract(path: Path) -> Extracted:
    """Extract a file's text or raise SkipFile with a reason a user can act on."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise SkipFile(f"unsupported file type '{suffix or '(none)'}'; supported: {', '.join(SUPPORTED_EXTENSIONS)}")
    if suffix == ".pdf":
        return _pdf(path)
    if suffix == ".docx":
        return _docx(path)
    if suffix in (".html", ".htm"):
        return _html(path)
    return _plain(path)
