"""Every bad input named in issue 2: one clear reason naming the file, and the other
documents go on."""

from __future__ import annotations

import io
import os
import shutil
import struct
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import SEEDS
from fpdf import FPDF

from pipeline.extract import extract_file, extract_folder
from pipeline.pair import pair_documents
from pipeline.readers import read_source
from pipeline.readers.docx import MAX_DOCX_UNCOMPRESSED
from pipeline.records import RejectedInput

RAW = SEEDS
EN_SEED = RAW / "002_69ed3383ef6f2041.txt"


def rejection(path: Path) -> RejectedInput:
    """The RejectedInput that extracting ``path`` raises (fails the test if none)."""
    with pytest.raises(RejectedInput) as info:
        extract_file(path)
    assert info.value.source_file == path.name
    assert str(info.value).startswith(f"{path.name}: ")
    return info.value


# --- builders ---------------------------------------------------------------------------


def docx_bytes(text: str = "75/58. Measures to prevent terrorists") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def ratio_bomb() -> bytes:
    """A zip whose word/document.xml is 40 MiB of one repeated byte (~40 KiB deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<" * (40 * 1024 * 1024))
    return buffer.getvalue()


def declared_size_bomb() -> bytes:
    """A valid small DOCX whose central directory claims word/document.xml is 1 GiB:
    the size check must refuse it from the directory alone, before decompressing."""
    data = bytearray(docx_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        names = archive.namelist()
    offset = 0
    while (offset := data.find(b"PK\x01\x02", offset)) != -1:
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        name = bytes(data[offset + 46 : offset + 46 + name_length]).decode()
        if name == "word/document.xml":
            struct.pack_into("<I", data, offset + 24, 1024**3)  # uncompressed size
        offset += 4
    assert "word/document.xml" in names
    return bytes(data)


def image_only_pdf() -> bytes:
    """A scanned page: drawn shapes only, no text operators at all."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(30, 30, 30)
    for row in range(40):
        pdf.rect(20, 20 + row * 6, 170, 3, style="F")
    return bytes(pdf.output())


# --- text files ---------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert rejection(path).reason == "empty file (0 bytes)"


def test_whitespace_only_file(tmp_path: Path) -> None:
    path = tmp_path / "blank.md"
    path.write_bytes(b" \r\n\t\n\n")
    assert rejection(path).reason == "empty file (only whitespace)"


def test_binary_file_with_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "random.txt"
    path.write_bytes(os.urandom(4096) + b"\x00\x00")
    assert rejection(path).reason.startswith("binary file")


def test_binary_file_named_txt_says_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "picture.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert rejection(path).reason == "binary file: the content is a PNG image, not text"


def test_undecodable_latin1_text(tmp_path: Path) -> None:
    # CP1252/Latin-1 French: not UTF-8, and as GB18030 it would be rare GBK-extension
    # characters, so it is refused instead of being decoded into nonsense.
    path = tmp_path / "fr.txt"
    path.write_bytes(
        "75/58. Résolution adoptée par l'Assemblée générale le 7 décembre 2020\n".encode("latin-1")
    )
    reason = rejection(path).reason
    assert reason.startswith("undecodable text: not UTF-8")
    assert "GB18030" in reason


def test_invalid_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "broken16.txt"
    path.write_bytes(b"\xff\xfe" + "75/58.".encode("utf-16-le") + b"\x00\xd8")  # lone surrogate
    assert rejection(path).reason.startswith("undecodable text: invalid utf-16-le")


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "resolution.rtf"
    path.write_text(r"{\rtf1 75/58.}", encoding="ascii")
    reason = rejection(path).reason
    assert reason.startswith("unsupported file type '.rtf'")


# --- documents that decode but are not whole resolutions --------------------------------


def test_no_recognisable_symbol(tmp_path: Path) -> None:
    text = EN_SEED.read_text(encoding="utf-8").replace("75/58. Measures", "Measures", 1)
    path = tmp_path / "nosymbol.txt"
    path.write_text(text, encoding="utf-8")
    assert rejection(path).reason.startswith("no recognisable symbol")


def test_truncated_document(tmp_path: Path) -> None:
    text = EN_SEED.read_text(encoding="utf-8")
    cut = text.index("their means of delivery and materials")  # inside operative 3
    path = tmp_path / "truncated.txt"
    path.write_text(text[:cut], encoding="utf-8")
    assert rejection(path).reason.startswith("truncated document")


def test_document_in_another_language(tmp_path: Path) -> None:
    path = tmp_path / "fr.txt"
    path.write_text(
        "75/58. Mesures visant à empêcher les terroristes d'acquérir des armes de "
        "destruction massive\n\nL'Assemblée générale,\n\n1. Demande à tous les États "
        "Membres d'appuyer les efforts internationaux ;\n",
        encoding="utf-8",
    )
    assert rejection(path).reason.startswith("language not recognised")


# --- DOCX -------------------------------------------------------------------------------


def test_docx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "renamed.docx"
    shutil.copy(EN_SEED, path)
    assert rejection(path).reason == "not a DOCX file: the content is not a zip archive"


def test_docx_corrupt_zip(tmp_path: Path) -> None:
    path = tmp_path / "cut.docx"
    path.write_bytes(docx_bytes()[:300])  # the central directory is gone
    assert rejection(path).reason.startswith("not a DOCX file: corrupt zip archive")


def test_docx_zip_without_word_document(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "75/58.")
    path = tmp_path / "other.docx"
    path.write_bytes(buffer.getvalue())
    assert rejection(path).reason == "not a Word document: the zip has no word/document.xml"


def test_docx_zip_bomb_by_compression_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    path.write_bytes(ratio_bomb())
    reason = rejection(path).reason
    assert reason.startswith("zip bomb: archive declares 41943")
    assert "ratio" in reason


def test_docx_zip_bomb_by_declared_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.docx"
    path.write_bytes(declared_size_bomb())
    reason = rejection(path).reason
    assert reason.startswith("zip bomb: archive declares")
    assert f"limit {MAX_DOCX_UNCOMPRESSED} bytes" in reason


def replace_part(data: bytes, part: str, content: bytes) -> bytes:
    """A copy of the DOCX ``data`` with one part's bytes replaced."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buffer, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, content if item.filename == part else src.read(item.filename))
    return buffer.getvalue()


def test_docx_whose_document_part_is_not_xml(tmp_path: Path) -> None:
    path = tmp_path / "broken_xml.docx"
    path.write_bytes(replace_part(docx_bytes(), "word/document.xml", b"<w:document><unclosed"))
    assert rejection(path).reason.startswith("corrupt DOCX:")


def test_docx_with_malformed_numbering_definition(tmp_path: Path) -> None:
    numbering = (
        b'<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b'<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="first"/></w:abstractNum>'
        b"</w:numbering>"
    )
    path = tmp_path / "bad_numbering.docx"
    path.write_bytes(replace_part(docx_bytes(), "word/numbering.xml", numbering))
    assert rejection(path).reason.startswith("corrupt DOCX: malformed WordprocessingML")


def test_docx_with_no_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.docx"
    path.write_bytes(docx_bytes(""))
    assert rejection(path).reason == "no text in file (the docx file holds only whitespace)"


# --- PDF --------------------------------------------------------------------------------


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(image_only_pdf())
    assert rejection(path).reason.startswith("PDF has no text layer")


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF\n" + b"\x00garbage" * 10)
    assert rejection(path).reason.startswith("corrupt PDF")


def test_pdf_extension_on_text(tmp_path: Path) -> None:
    path = tmp_path / "text.pdf"
    shutil.copy(EN_SEED, path)
    assert rejection(path).reason == "not a PDF file: no %PDF- header"


# --- duplicates and the folder as a whole -------------------------------------------------


def test_duplicate_symbol_and_language_names_the_kept_file(tmp_path: Path) -> None:
    for seed in RAW.iterdir():
        shutil.copy(seed, tmp_path / seed.name)
    shutil.copy(EN_SEED, tmp_path / "zz_second_copy.txt")
    extracted = extract_folder(tmp_path)
    result = pair_documents(extracted.documents)
    reasons = {r.source_file: r.reason for r in result.rejected}
    assert reasons == {
        "zz_second_copy.txt": "duplicate of 002_69ed3383ef6f2041.txt: A/RES/75/58 (en) in "
        "another copy (same text); 002_69ed3383ef6f2041.txt is kept"
    }
    assert [p.symbol for p in result.pairs] == ["A/RES/75/58"]


def test_bad_files_are_listed_and_the_seeds_still_extract(tmp_path: Path) -> None:
    for seed in RAW.iterdir():
        shutil.copy(seed, tmp_path / seed.name)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bomb.docx").write_bytes(ratio_bomb())
    (tmp_path / "scan.pdf").write_bytes(image_only_pdf())
    (tmp_path / "random.txt").write_bytes(b"\x00" + os.urandom(1000))
    extracted = extract_folder(tmp_path)
    assert sorted(d.source_file for d in extracted.documents) == sorted(
        p.name for p in RAW.iterdir()
    )
    assert [r.source_file for r in extracted.rejected] == [
        "bomb.docx",
        "empty.txt",
        "random.txt",
        "scan.pdf",
    ]
    assert all(r.reason for r in extracted.rejected)


def test_read_source_rejects_with_the_file_name_not_the_path(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "empty.txt"
    path.parent.mkdir()
    path.write_bytes(b"")
    with pytest.raises(RejectedInput) as info:
        read_source(path)
    assert info.value.source_file == "empty.txt"
