"""Text extraction for .txt/.md/.pdf/.docx/.html, with encoding detection and per-file skip reasons."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docqa.config import SUPPORTED_EXTENSIONS, FileLimits
from docqa.index.ocr import OcrMissing, describe, lines_text, ocr_langs, ocr_lines, settled_langs
from docqa.index.pdfjoin import Page, joined_pages
from docqa.index.pdftext import page_text, running_lines

PageProgress = Callable[[int, int], None]  # OCR pages done, of all the file's scanned pages


class SkipFile(Exception):
    """A file that cannot be indexed; the message is the user-facing reason and the fix."""


@dataclass(frozen=True)
class Extracted:
    text: str
    page_starts: tuple[int, ...] = ()
    encoding: str = ""  # how a text file's bytes were read; "" for formats that say so themselves


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\xef\xbb\xbf", "utf-8-sig"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# What Word, Notepad and older Macs save: tried beside whatever the detector proposes.
_LEGACY = ("cp1252", "mac_roman")
_SAMPLE = 1 << 18  # bytes the detector and the check read
_NAMES = {"cp1252": "windows-1252", "mac-roman": "mac-roman", "mac_roman": "mac-roman", "latin_1": "iso-8859-1",
          "iso8859-1": "iso-8859-1"}
_IN_WORD = "\u2019\u02bc\u00b7\u2013\u2014"  # ’ ʼ · – — sit between letters in real text ("don’t", "l·l", "war—which")


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): by BOM, then strict UTF-8, then the legacy encoding that reads it with the
    fewest signs of mojibake, chardet's proposal or a common one. A file that every encoding reads
    as garbage, or that two read differently and chardet proposed neither, is skipped with the
    readings named: garbage is never indexed."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data, encoding), encoding.removesuffix("-sig")
    if b"\x00" in data:  # UTF-16 and UTF-32 without a BOM are rare; a guess would index garbage
        raise SkipFile("binary content (NUL bytes), not text; save it as a text document or remove it")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        # Mostly valid multi-byte sequences mean the file meant to be UTF-8 and is damaged; a
        # legacy reading would silently garble it, so refuse instead of guessing. (A legacy file
        # can hold one by chance: "Í»" in Latin-1 is a valid UTF-8 pair.)
        damaged = SkipFile(f"invalid UTF-8 at byte {err.start}; re-save the file as UTF-8")
        if _utf8_share(data) >= 0.5:
            raise damaged from None
        try:
            return _legacy(data)
        except SkipFile:
            if _UTF8_MULTIBYTE.search(data):  # no legacy reading either: UTF-8 it was, damaged
                raise damaged from None
            raise


def _high_bytes(sample: bytes) -> int:
    return sum(b >= 0x80 for b in sample)


def _utf8_share(data: bytes) -> float:
    """The share of bytes ≥ 0x80 that form valid UTF-8 sequences."""
    sample = data[:_SAMPLE]
    high = _high_bytes(sample)
    return sum(len(m) for m in _UTF8_MULTIBYTE.findall(sample)) / high if high else 0.0


def _legacy(data: bytes) -> tuple[str, str]:
    import chardet

    sample = data[:_SAMPLE]
    found = chardet.detect(sample)
    proposed = _name(found["encoding"]) if found["encoding"] else ""
    scores: dict[str, tuple[int, str]] = {}  # encoding → (signs of mojibake, text)
    for name in dict.fromkeys([n for n in (proposed, *_LEGACY) if n]):
        try:
            text = sample.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        scores[_name(name)] = (mojibake(text), text)
    if not scores:
        raise SkipFile("not UTF-8, and no known encoding reads it; re-save it as UTF-8")
    least = min(score for score, _ in scores.values())
    fits = {text: name for name, (score, text) in scores.items() if score == least}
    if least > _tolerated(sample):
        raise SkipFile(f"not UTF-8, and it reads as garbage in {', '.join(scores)}; re-save it as UTF-8")
    # Two readings as clean but different (Windows-1252's "ñ", Windows-1250's "ń"): chardet's
    # language model decides when it proposed one of them; otherwise docqa cannot tell.
    if len(fits) > 1 and proposed not in fits.values():
        raise SkipFile(f"cannot tell its encoding: it reads differently as {', '.join(fits.values())}; re-save it as UTF-8")
    name = proposed if proposed in fits.values() else next(iter(fits.values()))
    return data.decode(name, errors="replace"), name


def _name(encoding: str) -> str:
    import codecs

    canonical = codecs.lookup(encoding).name
    return _NAMES.get(canonical, canonical)


def _tolerated(sample: bytes) -> int:
    # Real text has a few of these signs ("war—which"); text read in the wrong encoding has one in
    # almost every accented word.
    return _high_bytes(sample) // 50


def mojibake(text: str) -> int:
    """Signs of bytes read in the wrong encoding: a control character (C1, never in real text,
    counts 100), a symbol between two letters ("creci—", "Espa–a"), a capital right after a small
    letter ("cafŽ"), a letter between digits ("23Ð16"), a symbol stuck to a word ("canci√≥n")."""
    bad = 0
    for i, c in enumerate(text):
        if c < "\x80":
            continue
        if c <= "\x9f":
            bad += 100
            continue
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        between_letters = before.isalpha() and after.isalpha() and not c.isalpha() and c not in _IN_WORD
        capital_inside = c.isupper() and before.isalpha() and before.islower()
        between_digits = c.isalpha() and before.isdigit() and after.isdigit()  # "23Ð16" for "23–16"
        # A symbol stuck to a word ("canci√≥n"); "25°C" is real text.
        symbol_on_word = unicodedata.category(c)[0] == "S" and c != "°" and (before.isalpha() or after.isalpha())
        bad += between_letters or capital_inside or between_digits or symbol_on_word
    return bad


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
    text, encoding = decode_text(path.read_bytes())
    return Extracted(_check_text(clean(text)), encoding=encoding)


def _pdf(path: Path, on_page: PageProgress | None = None) -> Extracted:
    import pypdfium2 as pdfium

    from docqa.index.pdftext import has_images, page_lines

    try:
        pdf = pdfium.PdfDocument(str(path))  # opens the many PDFs "encrypted" with an empty password
    except pdfium.PdfiumError as err:
        if "password" in str(err).lower():
            raise SkipFile("encrypted PDF; save an unencrypted copy to index it") from None
        raise SkipFile(f"corrupt PDF ({err}); re-export or repair the file") from None
    try:
        pages, scanned = [], []
        for i in range(len(pdf)):
            page = pdf[i]
            pages.append((page_lines(page), page.get_height(), page.get_width()))
            if not pages[-1][0] and has_images(page):
                scanned.append(i)
            page.close()
        read, langs = _read_pages(pdf, pages, scanned, on_page)
    except OcrMissing as err:
        raise SkipFile(str(err)) from None
    except SkipFile:
        raise
    except Exception as err:  # noqa: BLE001 - a malformed page can fail anywhere inside pdfium
        raise SkipFile(f"unreadable PDF ({type(err).__name__}); re-export or repair the file") from None
    finally:
        pdf.close()
    if not any(p.prose or p.extras for p in read):
        raise SkipFile("PDF has no text: no text layer and nothing OCR could read")
    text, starts = joined_pages(read)
    return Extracted(clean(text), starts, describe(langs, len(scanned)) if scanned else "")


def _read_pages(pdf: Any, pages: list[tuple[list[Any], float, float]], scanned: list[int],
                on_page: PageProgress | None) -> tuple[list[Page], str]:
    """Each page's text from its text layer, or from the lines OCR reads where it has none (a scanned
    page); either way through the same layout reader, running headers found across all pages."""
    from docqa.index.pdftext import ocr_page_lines

    langs = ""
    if scanned:
        langs = ocr_langs()
        for n, i in enumerate(scanned):
            page = pdf[i]
            read = ocr_lines(page, langs)
            if n == 0 and (settled := settled_langs(lines_text(read), langs)) != langs:
                langs = settled
                read = ocr_lines(page, langs)  # read again in the language the scan is in
            pages[i] = (ocr_page_lines(read), pages[i][1], pages[i][2])
            page.close()
            if on_page is not None:
                on_page(n + 1, len(scanned))
    running = running_lines(pages)
    return [page_text(lines, running, height, width) for lines, height, width in pages], langs


MAX_INFLATED = 200 << 20  # a .docx's parts unzipped: no real document comes near it
MAX_INFLATION = 100  # unzipped ÷ zipped; Office XML compresses about 5-20×


def _docx(path: Path, max_chars: int) -> Extracted:
    import zipfile

    from lxml import etree

    from docqa.index.wordfile import TooMuchText, read_blocks

    try:
        with zipfile.ZipFile(path) as z:
            inflated = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        inflated = 0  # reading it below gives the reason
    if inflated > MAX_INFLATED or inflated > MAX_INFLATION * max(1, path.stat().st_size):
        raise SkipFile(f"DOCX would inflate to {inflated / 1e6:.0f} MB from {path.stat().st_size / 1e6:.1f} MB "
                       "(a zip bomb, or too large); it is not opened")
    try:
        blocks = read_blocks(path, max_chars)
    except TooMuchText as err:
        raise SkipFile(too_long(err.chars, max_chars, "stopped reading after")) from None
    except (zipfile.BadZipFile, KeyError, ValueError, etree.LxmlError, OSError, EOFError) as err:
        raise SkipFile(f"corrupt or unsupported DOCX ({type(err).__name__}); re-save it from your editor") from None
    return Extracted(_check_text(clean("\n\n".join(b for b in blocks if b))))


def too_long(chars: int, max_chars: int, how: str = "holds") -> str:
    """The reason a file with too much text is skipped, and the two ways round it."""
    return (f"too much text: {how} {chars:,} characters, over the {max_chars:,} a file may hold; split it into "
            "smaller files, or raise DOCQA_MAX_FILE_CHARS")


_BLOCK_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "th", "dt", "dd", "figcaption", "caption"]


def _html(path: Path) -> Extracted:
    from bs4 import BeautifulSoup

    raw, encoding = decode_text(path.read_bytes())
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    blocks = []
    for tag in soup.find_all(_BLOCK_TAGS):
        if tag.find(_BLOCK_TAGS):
            continue  # the innermost block carries the text; avoids duplicates
        blocks.append(" ".join(tag.get_text(" ").split()))
    if not any(blocks):
        blocks = [" ".join(line.split()) for line in soup.get_text("\n").split("\n")]
    return Extracted(_check_text(clean("\n\n".join(b for b in blocks if b))), encoding=encoding)


def extract(path: Path, max_chars: int = FileLimits.chars, on_page: PageProgress | None = None) -> Extracted:
    """Extract a file's text or raise SkipFile with a reason a user can act on; a file with more
    than `max_chars` characters of text is skipped (a Word file's stream stops reading there).
    `on_page(done, total)` hears each scanned page of a PDF read by OCR."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise SkipFile(f"unsupported file type '{suffix or '(none)'}'; supported: {', '.join(SUPPORTED_EXTENSIONS)}")
    if suffix in (".txt", ".md") and path.stat().st_size > 4 * max_chars:  # UTF-8 spends at most 4 bytes a character
        raise SkipFile(too_long(path.stat().st_size // 4, max_chars, "holds at least"))
    if suffix == ".pdf":
        extracted = _pdf(path, on_page)
    elif suffix == ".docx":
        extracted = _docx(path, max_chars)
    elif suffix in (".html", ".htm"):
        extracted = _html(path)
    else:
        extracted = _plain(path)
    if len(extracted.text) > max_chars:
        raise SkipFile(too_long(len(extracted.text), max_chars))
    return extracted
