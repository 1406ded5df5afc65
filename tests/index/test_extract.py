"""Extraction: encodings, formats, and a clear reason for every file that cannot be indexed."""

from __future__ import annotations

from pathlib import Path

import pytest

from docqa.index.extract import SkipFile, extract

TEXT = "Las delegaciones se reunirán en Washington. ¿Cuándo? En enero."


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # writes a BOM
        TEXT.encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "latin1"],
)
def test_encodings_decode_to_the_same_text(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    assert extract(path).text == TEXT


def test_bom_inside_text_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("Título\n\n\ufeffPrimera frase.", "utf-8")
    assert "\ufeff" not in extract(path).text


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\t\n ", "empty"),
        ("binary.txt", bytes(range(256)) * 8, "binary"),
        ("broken.txt", "canción ".encode() + b"\xff\xfe\xfa rota", "invalid UTF-8"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type"),
        ("bad.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
        ("bad.docx", b"PK not a zip", "DOCX"),
    ],
)
def test_bad_files_raise_a_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SkipFile, match=reason):
        extract(path)


def _pdf(path: Path, pages: list[str], password: str | None = None) -> None:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for text in pages:
        if text:
            c.drawString(72, 720, text)
        else:
            c.rect(72, 600, 200, 100, fill=1)  # an image-like page without text
        c.showPage()
    c.save()
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(str(path)))
        writer.encrypt(user_password=password, owner_password=password)
        with path.open("wb") as fh:
            writer.write(fh)


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "doc.pdf"
    _pdf(path, ["Primera página con datos.", "Segunda página: Washington."])
    out = extract(path)
    assert len(out.page_starts) == 2
    assert out.text.index("Washington") >= out.page_starts[1]


def test_encrypted_pdf_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "secret.pdf"
    _pdf(path, ["Confidencial."], password="s3cret")
    with pytest.raises(SkipFile, match="encrypted"):
        extract(path)


def test_pdf_without_text_layer_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    _pdf(path, [""])
    with pytest.raises(SkipFile, match="no text layer"):
        extract(path)


def test_docx_paragraphs(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Informe", level=1)
    document.add_paragraph("Primera frase del informe. Segunda frase.")
    path = tmp_path / "informe.docx"
    document.save(str(path))
    assert extract(path).text == "Informe\n\nPrimera frase del informe. Segunda frase."


def test_html_drops_scripts_and_keeps_blocks(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>t</title><script>alert(1)</script></head><body>"
        "<h1>Título</h1><p>Uno <b>dos</b> tres.</p><ul><li>Elemento</li></ul></body></html>",
        "utf-8",
    )
    assert extract(path).text == "Título\n\nUno dos tres.\n\nElemento"
