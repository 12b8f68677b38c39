"""Document.block_keys: the keys make sentence ids and row ids, so they must be unique."""

from __future__ import annotations

from factories import make_blocks, make_document

from pipeline.records import Document


def _doc(*blocks: tuple[str, str | None]) -> Document:
    return make_document("en", make_blocks(*blocks))


def test_numbered_keys_unchanged() -> None:
    doc = _doc(("heading", None), ("preamble", None), ("operative", "1"), ("subparagraph", "a"))
    assert doc.block_keys() == ["head1", "pre1", "op1", "op1a"]


def test_annex_restarting_numbers_gets_unique_keys() -> None:
    """An annex after the closing lines numbers its paragraphs 1, 2 ... again."""
    doc = _doc(
        ("operative", "1"), ("operative", "2"), ("closing", None),
        ("operative", "1"), ("operative", "2"), ("footnote", "1"), ("footnote", "1"),
    )  # fmt: skip
    keys = doc.block_keys()
    assert len(set(keys)) == len(keys), keys
    assert keys[:3] == ["op1", "op2", "close1"]


def test_unnumbered_subparagraph_cannot_pass_for_an_operative_number() -> None:
    """Flush text after operative 2 must not be keyed "op21", operative 21's key."""
    blocks = [("operative", str(n)) for n in range(1, 3)]
    blocks.append(("subparagraph", None))
    blocks += [("operative", str(n)) for n in range(3, 22)]
    keys = _doc(*blocks).block_keys()
    assert len(set(keys)) == len(keys), keys
    assert keys[-1] == "op21"
    assert keys[2].startswith("op2") and keys[2] != "op21"
