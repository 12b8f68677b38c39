"""Readers: every format and encoding, on files built here from the real seeds.

Each converted file is compared paragraph by paragraph with the seed it was built
from, so a lost, merged or split paragraph, a lost footnote reference or lost
emphasis fails a test.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import SEEDS
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from pipeline.readers import SourceText, read_source

RAW = SEEDS
EN_SEED = RAW / "002_69ed3383ef6f2041.txt"  # A/RES/75/58, English
ZH_SEED = RAW / "003_df19238bedd244e2.txt"  # A/RES/75/58, Chinese
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SUPERSCRIPT_DIGITS = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹⁰", "1234567890")

# A paragraph as (kind, text) pieces; kind is "plain", "em" or "sup".
Pieces = list[tuple[str, str]]


def english_seed_paragraphs() -> list[Pieces]:
    """The English seed's non-empty lines, one paragraph each, as formatted pieces:
    ``*x*`` is emphasis, superscript digits are footnote marks, ``[x](#)`` links and
    unpaired ``*`` are conversion debris and dropped."""
    paragraphs: list[Pieces] = []
    for line in EN_SEED.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"\[([^\]]*)\]\(#\)", r"\1", line.strip())
        if not line:
            continue
        if line.count("*") % 2:
            line = line.replace("*", "")
        pieces: Pieces = []
        for part in re.split(r"(\*[^*]+\*|[¹²³⁴⁵⁶⁷⁸⁹⁰]+)", line):
            if not part:
                continue
            if part.startswith("*"):
                pieces.append(("em", part.strip("*")))
            elif re.fullmatch(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]+", part):
                pieces.append(("sup", part.translate(SUPERSCRIPT_DIGITS)))
            else:
                pieces.append(("plain", part))
        paragraphs.append(pieces)
    return paragraphs


def markdown(pieces: Pieces, emphasis: str = "*") -> str:
    """The reader's expected rendering of a paragraph."""
    out = []
    for kind, text in pieces:
        if kind == "em":
            out.append(f"{emphasis}{text}{emphasis}")
        elif kind == "sup":
            out.append(f"<sup>{text}</sup>")
        else:
            out.append(text)
    return "".join(out)


def is_footnote(pieces: Pieces) -> bool:
    return pieces[0][0] == "sup"


def paragraphs_of(source: SourceText) -> list[str]:
    return [p for p in source.text.rstrip("\n").split("\n\n") if p.strip()]


# --- plain text and encodings ---------------------------------------------------------


@pytest.mark.parametrize("seed", sorted(RAW.iterdir()), ids=lambda p: p.name[:3])
def test_seed_files_read_verbatim_with_sha256_of_raw_bytes(seed: Path) -> None:
    source = read_source(seed)
    raw = seed.read_bytes()
    assert source.source_file == seed.name
    assert source.sha256 == hashlib.sha256(raw).hexdigest()
    assert source.text == raw.decode("utf-8")
    assert (source.fmt, source.encoding) == ("txt", "utf-8")


@pytest.mark.parametrize(
    ("codec", "bom", "detected"),
    [
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("utf-16-le", b"\xff\xfe", "utf-16-le"),
        ("utf-16-be", b"\xfe\xff", "utf-16-be"),
        ("utf-16-le", b"", "utf-16-le"),
        ("utf-16-be", b"", "utf-16-be"),
        ("gb18030", b"", "gb18030"),
        ("gbk", b"", "gb18030"),
    ],
)
def test_chinese_seed_in_every_encoding_decodes_to_the_same_text(
    tmp_path: Path, codec: str, bom: bytes, detected: str
) -> None:
    text = ZH_SEED.read_text(encoding="utf-8")
    path = tmp_path / "zh.txt"
    path.write_bytes(bom + text.replace("\n", "\r\n").encode(codec))
    source = read_source(path)
    assert source.encoding == detected
    assert source.text == text  # BOM gone, CRLF normalised to LF
    assert source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_english_seed_in_gb18030_is_accepted(tmp_path: Path) -> None:
    # No Han characters at all, but ¹ and “ ” are valid 4-byte/2-byte GB18030.
    text = EN_SEED.read_text(encoding="utf-8")
    path = tmp_path / "en.md"
    path.write_bytes(text.encode("gb18030"))
    source = read_source(path)
    assert (source.text, source.encoding, source.fmt) == (text, "gb18030", "md")


def test_old_mac_line_ends_and_page_feeds_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "cr.txt"
    path.write_bytes(b"75/58. Title\r\rThe General Assembly,\r\x0cRecalling\xe2\x80\xa9Noting")
    assert read_source(path).text == "75/58. Title\n\nThe General Assembly,\n\nRecalling\n\nNoting"


# --- HTML -----------------------------------------------------------------------------


def chinese_seed_as_html() -> tuple[str, list[str]]:
    """An HTML page made from the Chinese seed, and the paragraphs the reader must give.

    ``## `` lines become <h2>, ``**x**`` <strong>, markdown hard breaks <br>, numbered
    lines <ol><li>; inside long paragraphs the HTML source wraps lines between Chinese
    characters, which must not turn into spaces.
    """
    html = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>A/RES/75/58</title>",
        "<style>p { margin: 0 }</style><script>document.title = 'x';</script></head><body>",
    ]
    expected: list[str] = []
    in_list = False
    for block in ZH_SEED.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        # Hard breaks ("  " at line end) keep lines in one paragraph.
        groups: list[list[str]] = [[]]
        for line in lines:
            groups[-1].append(line.rstrip())
            if not line.endswith("  "):
                groups.append([])
        for group in (g for g in groups if g):
            text = "\n".join(group)
            expected.append(text)
            body = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
            body = body.replace("\n", "<br>\n")
            # Wrap the HTML source every 15 characters between two Han characters.
            body = re.sub(r"([\u4e00-\u9fff]{15})(?=[\u4e00-\u9fff])", "\\1\n    ", body)
            number = re.match(r"(\d+)\. ", body)
            if number and not in_list:
                html.append(f"<ol start='{number.group(1)}'>")
                in_list = True
            if not number and in_list:
                html.append("</ol>")
                in_list = False
            if body.startswith("## "):
                html.append(f"<h2>{body[3:]}</h2>")
            elif number:
                html.append(f"<li>{body[number.end() :]}</li>")
            else:
                html.append(f"<p>{body}</p>")
    if in_list:
        html.append("</ol>")
    html.append("</body></html>")
    return "\n".join(html), expected


def test_html_page_from_chinese_seed_gives_the_seed_paragraphs(tmp_path: Path) -> None:
    html, expected = chinese_seed_as_html()
    path = tmp_path / "res.html"
    path.write_text(html, encoding="utf-8")
    source = read_source(path)
    assert source.fmt == "html"
    assert paragraphs_of(source) == expected
    assert "document.title" not in source.text and "margin" not in source.text


def test_html_markup_entities_lists_and_non_footnote_superscript(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_bytes(
        b"<html><body><h3>Seventy-fifth  session</h3>"
        b"<p><em>Recalling</em> its resolution 74/43 &amp; the <b>Convention</b>,<sup>12</sup>"
        b"</p><p>the 18<sup>th</sup> Summit &#8220;Final Document&#8221;</p>"
        b"<ol start='3'><li><i>Urges</i> all States;</li><li><i>Decides</i> to remain seized."
        b"</li></ol><!-- comment --><noscript>enable JS</noscript></body></html>"
    )
    assert paragraphs_of(read_source(path)) == [
        "## Seventy-fifth session",
        "*Recalling* its resolution 74/43 & the **Convention**,<sup>12</sup>",
        "the 18th Summit \u201cFinal Document\u201d",
        "3. *Urges* all States;",
        "4. *Decides* to remain seized.",
    ]


def test_html_in_gb18030_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "zh.html"
    path.write_bytes("<p><strong>回顾</strong>其第 74/43 号决议，</p>".encode("gb18030"))
    source = read_source(path)
    assert (source.encoding, paragraphs_of(source)) == ("gb18030", ["**回顾**其第 74/43 号决议，"])


def test_html_declared_windows_1252_charset_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "word.htm"
    path.write_bytes(
        b'<html><head><meta http-equiv=Content-Type content="text/html; charset=windows-1252">'
        b"</head><body><p>R\xe9solution adopt\xe9e \x93le 7 d\xe9cembre\x94</p></body></html>"
    )
    source = read_source(path)
    assert source.encoding == "cp1252"
    assert paragraphs_of(source) == ["R\u00e9solution adopt\u00e9e \u201cle 7 d\u00e9cembre\u201d"]


def test_html_false_charset_declaration_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "mislabelled.html"
    path.write_bytes(b'<meta charset="utf-8"><p>' + "大会，回顾其决议".encode("gb18030") + b"</p>")
    source = read_source(path)
    assert (source.encoding, paragraphs_of(source)) == ("gb18030", ["大会，回顾其决议"])


@pytest.mark.parametrize("label", ["iso-8859-1", "latin1", "windows-1252"])
def test_html_utf8_page_labelled_single_byte_is_read_as_utf8(tmp_path: Path, label: str) -> None:
    """Valid UTF-8 with multi-byte characters is UTF-8 whatever the label says: Latin-1
    decodes every byte, so a wrong single-byte label would otherwise turn a Chinese page
    into mojibake, rejected as "language not recognised" without a word on the cause."""
    path = tmp_path / "mislabelled.html"
    text = "大会，回顾其第77/195号决议，“扫盲”"
    path.write_bytes(f'<meta charset="{label}"><p>{text}</p>'.encode())
    source = read_source(path)
    assert (source.encoding, paragraphs_of(source)) == ("utf-8", [text])


# --- DOCX -----------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTE_ID_OFFSET = 40  # Word ids differ from the numbers Word displays


def _footnote_reference(paragraph: object, note_id: int) -> None:
    run = paragraph.add_run()  # type: ignore[attr-defined]
    run.font.superscript = True
    reference = OxmlElement("w:footnoteReference")
    reference.set(qn("w:id"), str(note_id))
    run._r.append(reference)


def _footnotes_xml(notes: dict[int, Pieces]) -> bytes:
    def runs(pieces: Pieces) -> str:
        out = []
        for kind, text in pieces:
            props = "<w:rPr><w:i/></w:rPr>" if kind == "em" else ""
            text = text.replace("&", "&amp;").replace("<", "&lt;")
            out.append(f'<w:r>{props}<w:t xml:space="preserve">{text}</w:t></w:r>')
        return "".join(out)

    bodies = "".join(
        f'<w:footnote w:id="{note_id}"><w:p><w:r><w:rPr><w:vertAlign w:val="superscript"/>'
        f"</w:rPr><w:footnoteRef/></w:r>{runs(pieces)}</w:p></w:footnote>"
        for note_id, pieces in notes.items()
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{W_NS}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        '</w:footnote><w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
        f"<w:continuationSeparator/></w:r></w:p></w:footnote>{bodies}</w:footnotes>"
    ).encode()


def english_seed_as_docx() -> tuple[bytes, list[str]]:
    """A DOCX written with python-docx from the English seed, and the expected text.

    Lead words are bold runs, operative numbers come from Word's automatic numbering
    (the "List Number" style), footnote references are real w:footnoteReference runs and
    the footnote texts live in word/footnotes.xml, so the reader must put them back
    after the body in reference order.
    """
    document = docx.Document()
    body: list[str] = []
    notes: dict[int, Pieces] = {}
    paragraphs = english_seed_paragraphs()
    footnotes = {p[0][1]: p[1:] for p in paragraphs if is_footnote(p)}
    for pieces in paragraphs:
        if is_footnote(pieces):
            continue
        number = re.match(r"(\d+)\. ", pieces[0][1])
        if number:
            pieces = [("plain", pieces[0][1][number.end() :]), *pieces[1:]]
            pieces = [p for p in pieces if p[1]]
            paragraph = document.add_paragraph(style="List Number")
        else:
            paragraph = document.add_paragraph()
        for kind, text in pieces:
            if kind == "sup":
                note_id = int(text) + FOOTNOTE_ID_OFFSET
                notes[note_id] = footnotes[text]
                _footnote_reference(paragraph, note_id)
            else:
                paragraph.add_run(text).bold = kind == "em"
        expected = markdown(pieces, emphasis="**")
        body.append(f"{number.group(1)}. {expected}" if number else expected)
    expected_notes = [
        f"<sup>{note_id - FOOTNOTE_ID_OFFSET}</sup> {markdown(pieces).strip()}"
        for note_id, pieces in sorted(notes.items())
    ]

    plain = io.BytesIO()
    document.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/word/footnotes.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>',
                )
            elif item.filename == "word/_rels/document.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdFootnotes" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>'
                    b"</Relationships>",
                )
            dst.writestr(item, data)
        dst.writestr("word/footnotes.xml", _footnotes_xml(notes))
    return out.getvalue(), body + expected_notes


def test_docx_from_english_seed_gives_numbered_bold_paragraphs_and_footnotes(
    tmp_path: Path,
) -> None:
    data, expected = english_seed_as_docx()
    path = tmp_path / "A_RES_75_58.docx"
    path.write_bytes(data)
    source = read_source(path)
    assert (source.fmt, source.encoding) == ("docx", "binary")
    assert source.sha256 == hashlib.sha256(data).hexdigest()
    paragraphs = paragraphs_of(source)
    assert paragraphs == expected
    # Spot checks that say what the comparison above covers.
    assert "Acts of Nuclear Terrorism,<sup>1</sup>\n" in source.text
    assert "Nuclear Terrorism,<sup>1</sup>" in source.text
    assert "1. **Calls upon** all Member States" in source.text
    first_note = "<sup>1</sup> United Nations, *Treaty Series*, vol. 2445, No. 44004."
    assert paragraphs[-7] == first_note


def test_docx_headings_explicit_numbering_and_raw_superscript(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("General Assembly", level=1)
    for text in ("Calls upon all Member States;", "Appeals to all States;"):
        paragraph = document.add_paragraph()
        properties = paragraph._p.get_or_add_pPr()
        numbering = OxmlElement("w:numPr")
        for tag, value in (("w:ilvl", "0"), ("w:numId", "5")):  # numId 5: decimal "%1."
            element = OxmlElement(tag)
            element.set(qn("w:val"), value)
            numbering.append(element)
        properties.append(numbering)
        paragraph.add_run(text)
    paragraph = document.add_paragraph("held in Baku on 25 and 26 October 2019,")
    paragraph.add_run("3").font.superscript = True
    paragraph.add_run(" at the 18")
    paragraph.add_run("th").font.superscript = True
    paragraph.add_run(" Summit")
    bullet = document.add_paragraph("a bullet item", style="List Bullet")
    assert bullet.text
    path = tmp_path / "numbered.docx"
    document.save(str(path))
    assert paragraphs_of(read_source(path)) == [
        "## General Assembly",
        "1. Calls upon all Member States;",
        "2. Appeals to all States;",
        "held in Baku on 25 and 26 October 2019,<sup>3</sup> at the 18th Summit",
        "a bullet item",
    ]
