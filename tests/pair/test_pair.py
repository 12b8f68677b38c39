"""Pairing by symbol on the real seeds, and the rules that keep it safe."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from conftest import SEEDS
from factories import make_document

from pipeline.extract import extract_folder
from pipeline.pair import PairResult, pair_documents
from pipeline.records import Document

RAW = SEEDS


@pytest.fixture(scope="module")
def seed_documents() -> list[Document]:
    extracted = extract_folder(RAW)
    assert extracted.rejected == []
    return extracted.documents


def test_seeds_give_exactly_one_pair_and_two_unpaired(seed_documents: list[Document]) -> None:
    result = pair_documents(seed_documents)
    assert [pair.symbol for pair in result.pairs] == ["A/RES/75/58"]
    pair = result.pairs[0]
    assert (pair.en.language, pair.en.source_file) == ("en", "002_69ed3383ef6f2041.txt")
    assert (pair.zh.language, pair.zh.source_file) == ("zh", "003_df19238bedd244e2.txt")
    assert [(d.symbol, d.language, d.source_file) for d in result.unpaired] == [
        ("A/RES/76/28", "en", "001_3d9d53251f95c6e1.txt"),
        ("A/RES/78/43", "en", "000_0efcbe69a8e200e4.txt"),
    ]
    assert result.rejected == []


def test_near_identical_text_is_never_paired(seed_documents: list[Document]) -> None:
    # 76/28 and 78/43 share most of their text with 75/58, and the Chinese 75/58 is the
    # only Chinese document; without 75/58's English version nothing may pair.
    without_en_7558 = [d for d in seed_documents if d.source_file != "002_69ed3383ef6f2041.txt"]
    result = pair_documents(without_en_7558)
    assert result.pairs == []
    assert sorted(d.symbol for d in result.unpaired) == [
        "A/RES/75/58",
        "A/RES/76/28",
        "A/RES/78/43",
    ]


def test_result_does_not_depend_on_input_order(seed_documents: list[Document]) -> None:
    forward = pair_documents(seed_documents)
    backward = pair_documents(list(reversed(seed_documents)))
    assert forward == backward


def test_same_symbol_and_language_keeps_one_copy_and_names_it(
    seed_documents: list[Document],
) -> None:
    """Two copies of one document (issue 12): one is kept, the pair survives, and the
    other copy is listed as a duplicate of the kept file."""
    chinese = next(d for d in seed_documents if d.language == "zh")
    copy_of_chinese = copy.deepcopy(chinese)
    copy_of_chinese.source_file = "copy_of_003.txt"
    result = pair_documents([*seed_documents, copy_of_chinese])
    assert [(p.symbol, p.zh.source_file) for p in result.pairs] == [
        ("A/RES/75/58", "003_df19238bedd244e2.txt")
    ]
    assert [r.source_file for r in result.rejected] == ["copy_of_003.txt"]
    reason = result.rejected[0].reason
    assert reason.startswith("duplicate of 003_df19238bedd244e2.txt")
    assert "A/RES/75/58 (zh)" in reason and "same text" in reason
    assert [(d.source_file, d.kept_file, d.identical) for d in result.duplicates] == [
        ("copy_of_003.txt", "003_df19238bedd244e2.txt", True)
    ]
    assert all(d.source_file != "copy_of_003.txt" for d in result.unpaired)


def test_duplicate_choice_prefers_revision_then_reliable_format() -> None:
    original = _doc("A/78/L.5", "en", "a.txt")
    revised = _doc("A/78/L.5", "en", "b.txt")
    revised.metadata.revision = "Rev.1"
    docx = _doc("A/78/L.5", "en", "z.docx")
    result = pair_documents([original, docx, revised, _doc("A/78/L.5", "zh", "c.pdf")])
    assert result.pairs[0].en.source_file == "b.txt"  # the later revision wins
    assert [d.source_file for d in result.duplicates] == ["z.docx", "a.txt"]
    result = pair_documents([original, docx, _doc("A/78/L.5", "zh", "c.pdf")])
    assert result.pairs[0].en.source_file == "z.docx"  # then the more reliable format
    corrected = _doc("A/78/L.5", "en", "y.txt")
    corrected.metadata.revision = "Corr.1"
    result = pair_documents([original, corrected, _doc("A/78/L.5", "zh", "c.pdf")])
    assert result.pairs[0].en.source_file == "y.txt"  # a corrigendum reissue is later


def _doc(symbol: str, language: str, name: str) -> Document:
    return make_document(language, symbol=symbol, source_file=name)


def test_pairs_are_sorted_by_symbol_and_other_languages_never_pair() -> None:
    documents = [
        _doc("A/RES/77/1", "zh", "d.txt"),
        _doc("A/RES/75/2", "en", "a.txt"),
        _doc("A/RES/77/1", "en", "c.txt"),
        _doc("A/RES/75/2", "zh", "b.txt"),
        _doc("A/RES/75/2", "fr", "e.txt"),
    ]
    result = pair_documents(documents)
    assert [(p.symbol, p.en.source_file, p.zh.source_file) for p in result.pairs] == [
        ("A/RES/75/2", "a.txt", "b.txt"),
        ("A/RES/77/1", "c.txt", "d.txt"),
    ]
    assert [d.source_file for d in result.unpaired] == ["e.txt"]


def test_empty_input_gives_empty_result() -> None:
    assert pair_documents([]) == PairResult()


# --- the same text or a conflict (issue 18, defect 3) ------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "un"


def test_one_document_in_every_format_is_one_text() -> None:
    """PDF, DOCX, HTML and the converters' text of one resolution differ in quotes,
    hyphens, spacing and paragraph breaks, never in words: duplicates, not a conflict."""
    from pipeline.extract import extract_file

    copies = [extract_file(p) for p in sorted(FIXTURES.glob("ga_dec_*"))]
    assert len(copies) == 14
    result = pair_documents(copies)
    assert result.conflicts == []
    assert [p.symbol for p in result.pairs] == ["A/DEC/78/512"]
    assert (result.pairs[0].en.source_file, result.pairs[0].zh.source_file) == (
        "ga_dec_en.docx",
        "ga_dec_zh.docx",
    )
    assert all(d.identical for d in result.duplicates) and len(result.duplicates) == 12


def test_different_texts_under_one_symbol_are_a_conflict(seed_documents: list[Document]) -> None:
    other = next(d for d in seed_documents if d.symbol == "A/RES/78/43")
    impostor = copy.deepcopy(other)
    impostor.symbol, impostor.source_file = "A/RES/75/58", "aaa.docx"  # best name and format
    result = pair_documents([*seed_documents, impostor])
    assert result.pairs == []
    assert [(c.symbol, c.language, c.files) for c in result.conflicts] == [
        ("A/RES/75/58", "en", ["002_69ed3383ef6f2041.txt", "aaa.docx"])
    ]
    assert sorted(r.source_file for r in result.rejected) == [
        "002_69ed3383ef6f2041.txt",
        "aaa.docx",
    ]
    assert "A/RES/75/58" in {d.symbol for d in result.unpaired}  # the Chinese one


def test_a_later_revision_is_kept_though_its_text_differs(seed_documents: list[Document]) -> None:
    english = next(d for d in seed_documents if d.source_file == "002_69ed3383ef6f2041.txt")
    revised = copy.deepcopy(english)
    revised.source_file, revised.metadata.revision = "rev1.txt", "Rev.1"
    revised.blocks[-1].text += " Revised."
    result = pair_documents([*seed_documents, revised])
    assert result.conflicts == []
    assert result.pairs[0].en.source_file == "rev1.txt"


def test_a_stub_compares_by_the_digest_of_its_whole_document(
    seed_documents: list[Document],
) -> None:
    from pipeline.pair import pairing_stub, text_digest

    english = next(d for d in seed_documents if d.source_file == "002_69ed3383ef6f2041.txt")
    stub = pairing_stub(english)
    assert stub.blocks == [] and text_digest(stub) == text_digest(english)
    assert stub.to_dict()["text_digest"] == text_digest(english)
    assert "text_digest" not in english.to_dict()  # a whole document serialises as before


def test_a_document_serialises_as_dataclasses_asdict_does(
    seed_documents: list[Document],
) -> None:
    """``to_dict`` is built field by field for speed; it must stay the very dict (and
    key order, so the spool's and work cache's JSON) that ``asdict`` gives, including
    for a field added to a record later."""
    import json
    from dataclasses import asdict

    from pipeline.pair import pairing_stub

    for document in [*seed_documents, pairing_stub(seed_documents[0])]:
        expected = asdict(document)
        if expected["text_digest"] is None:
            del expected["text_digest"]
        mine = document.to_dict()
        assert json.dumps(mine, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)
        assert Document.from_dict(mine) == document
