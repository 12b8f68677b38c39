"""Extraction's orchestration: a file or folder -> ``Document`` records (steps 1-4 in order).

``parse_document`` runs the steps of ``pipeline.extract`` on decoded text and applies the
document-level rules: the symbol (title line, printed references, headings), the family,
completeness (a truncated document is rejected), and metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.extract.classify import Para, classify, make_block, operatives_by_lead
from pipeline.extract.families import resolve_symbol, title_line_symbol
from pipeline.extract.family_shape import decision_body, describe_family
from pipeline.extract.furniture import prepare_text
from pipeline.extract.language import detect_language
from pipeline.extract.lines import (
    chunks,
    drop_running_heads,
    drop_textless_units,
    resolution_symbol,
    split_chunk_lines,
    split_run_together,
    title_hint,
)
from pipeline.extract.metadata import read_closing_metadata, read_header_metadata
from pipeline.extract.patterns import TITLE_RE, ends_with_full_stop
from pipeline.readers.listing import Skipped, list_raw
from pipeline.records import Block, Document, Metadata, Rejected, RejectedInput
from pipeline.text.normalize import normalize_unicode, plain


@dataclass
class ExtractResult:
    """What a folder gave: the documents read, and each file that could not be read."""

    documents: list[Document] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    #: Entries of the folder not read, with the reason (``pipeline.readers.listing``).
    skipped: list[Skipped] = field(default_factory=list)


def extract_file(path: Path) -> Document:
    """Read one raw file (any supported format) and parse it into a Document."""
    from pipeline.readers import read_source

    source = read_source(Path(path))
    return parse_document(source.text, source.source_file, source.sha256)


def extract_folder(folder: Path, *, follow_symlinks: bool = False) -> ExtractResult:
    """Extract every file in ``folder`` (sorted by name); a bad file is listed, not fatal.

    Hidden files (``.gitkeep``), sub-folders and symbolic links that dangle or lead out
    of the folder are not read: they are listed in ``skipped`` with the reason.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of raw documents")
    listing = list_raw(folder, follow_symlinks=follow_symlinks)
    result = ExtractResult(skipped=listing.skipped)
    for path in listing.files:
        try:
            result.documents.append(extract_file(path))
        except RejectedInput as err:
            result.rejected.append(Rejected(source_file=err.source_file, reason=err.reason))
    return result


def parse_document(text: str, source_file: str, sha256: str) -> Document:
    """Parse decoded resolution text into a Document.

    Raises ``RejectedInput(source_file, reason)`` when the language is not English or
    Chinese, no symbol can be found, or the document is truncated (see
    ``pipeline.extract``).
    """
    prepared = prepare_text(normalize_unicode(text))
    language = detect_language(prepared.text)
    if language is None:
        raise RejectedInput(
            source_file, "language not recognised (neither English nor Chinese text)"
        )
    header, body, footnotes, head_symbols = _paragraphs(prepared.text, language)
    meta = Metadata(numbered=operatives_by_lead(body, language))
    blocks, title_symbol = _header_blocks(header, language, meta)
    body_blocks = [make_block(para, language) for para in body]
    footnote_blocks = [make_block(para, language) for para in footnotes]
    blocks += body_blocks + footnote_blocks
    closing_blocks = [b for b in body_blocks if b.kind == "closing"]
    body_blocks = [b for b in body_blocks if b.kind != "closing"]

    printed = prepared.symbols + [resolution_symbol(*found) for found in head_symbols]
    headings = [b.text for b in blocks if b.kind == "heading"]
    info, problem = resolve_symbol(title_symbol, printed, headings)
    if info is None:
        raise RejectedInput(
            source_file,
            problem or "no recognisable symbol: no 'NN/NN. Title' line and no A/RES/... reference",
        )
    symbol = info.symbol
    describe_family(meta, info, headings, prepared.front_matter)

    _check_complete(body_blocks, closing_blocks, source_file)
    for block in blocks:
        if not block.text:
            what = f"{block.kind} ({block.number})" if block.number else block.kind
            raise RejectedInput(source_file, f"truncated document: {what} has no text")
    for block in closing_blocks:
        read_closing_metadata(block.text, meta)
    if meta.session is None:
        session = symbol.split("/")[2]
        meta.session = int(session) if session.isdigit() else None
    return Document(
        symbol=symbol,
        language=language,
        source_file=source_file,
        sha256=sha256,
        metadata=meta,
        blocks=blocks,
    )


def _paragraphs(
    text: str, language: str
) -> tuple[list[Para], list[Para], list[Para], list[tuple[str, str, str]]]:
    """Steps 1-4: header, body and footnote paragraphs, and the symbols running heads named."""
    lines, head_symbols = drop_running_heads(text.split("\n"), title_hint(text))
    units: list[str] = []
    for chunk in chunks(lines):
        for unit in split_chunk_lines(chunk, language):
            units.extend(split_run_together(unit, language))
    header, body, footnotes = classify(drop_textless_units(units), language)
    header, body = decision_body(header, body, lambda raw: Para("operative", raw))
    return header, body, footnotes, head_symbols


def _header_blocks(
    header: list[Para], language: str, meta: Metadata
) -> tuple[list[Block], str | None]:
    """The header's blocks, with the metadata they state read into ``meta``, and the
    symbol of the title line ("75/58. Title"), if there is one."""
    blocks: list[Block] = []
    title_symbol: str | None = None
    for para in header:
        block = make_block(para, language)
        if para.kind == "title":
            match = TITLE_RE.match(plain(para.raw))
            if match and title_symbol is None:
                title_symbol = title_line_symbol(match.group(1), match.group(2), match.group(3))
                meta.title = block.text
        read_header_metadata(block.text, language, meta)
        blocks.append(block)
    return blocks, title_symbol


def _check_complete(body: list[Block], closing: list[Block], source_file: str) -> None:
    """Reject a document only on real evidence of truncation: nothing after the header,
    or a text that stops mid-sentence with no closing lines. A missing operative part
    (no numbers, no operative verb) is not such evidence on its own."""
    if not body:
        raise RejectedInput(source_file, "truncated document: nothing after the header")
    last = body[-1]
    if not closing and not ends_with_full_stop(last.text):
        tail = last.text[-40:]
        raise RejectedInput(
            source_file,
            f"truncated document: no closing lines (plenary meeting, date) and the last "
            f"paragraph stops without a full stop: '...{tail}'",
        )
