"""What each document family changes in a parsed document's shape and metadata.

The extractor's classification is written for the resolution layout ("The General
Assembly," then preambular and operative paragraphs, then closing lines). Two
families differ: a General Assembly decision has no "The General Assembly," line and
no numbered paragraphs (its text is one or more paragraphs after the "78/512. Title"
line, each a decision: they become unnumbered operative blocks); a draft has no
numbered title line (its title is the last heading before "The General Assembly,").
Security Council resolutions print their adoption (meeting, date) in the header.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from pipeline.extract.families import (
    DECISION_LINE_RE,
    DRAFT_LINE_RE,
    SC_TITLE_RE,
    SymbolInfo,
    body_of,
    sc_adoption,
)
from pipeline.records import Metadata

P = TypeVar("P")

_NOT_A_TITLE_RE = re.compile(
    r"session$|届会议$|^Agenda|^议程项目|^Resolution|决议$|^Adopted|通过$|^Decision|决定$|"
    r"^\[|General Assembly$|Security Council$|^大会$|^安全理事会$|^\d{1,2} [A-Z][a-z]+ \d{4}$|"
    r"^\d{4}\s*年"
)


def decision_body(
    header: list[Any], body: list[Any], make: Callable[[str], P]
) -> tuple[list, list]:
    """A decision (no "The General Assembly," line, hence no body): the paragraphs after
    its title line are its text. Anything else is returned unchanged."""
    if body or not any(p.kind == "title" for p in header):
        return header, body
    if not any(DECISION_LINE_RE.match(_plain(p.raw)) for p in header) and not _decision_title(
        header
    ):
        return header, body
    at = next(i for i, p in enumerate(header) if p.kind == "title")
    return header[: at + 1], [make(p.raw) for p in header[at + 1 :]]


def _decision_title(header: list[Any]) -> bool:
    title = next(p for p in header if p.kind == "title")
    match = re.match(r"^[*#\s]*(?:ES-|S-)?\d{1,3}/(\d{1,4})", title.raw)
    return bool(match) and int(match.group(1)) >= 401


def _plain(raw: str) -> str:
    from pipeline.text.normalize import plain

    return plain(raw)


def describe_family(
    meta: Metadata, info: SymbolInfo, headings: list[str], front_matter: dict[str, str]
) -> None:
    """Family, body and revision into ``meta``; SC adoption data and a draft's title."""
    meta.family = info.family
    meta.body = body_of(info.family, info.symbol)
    meta.revision = info.revision
    if info.family == "sc_resolution":
        for text in headings:
            adoption = sc_adoption(text)
            if adoption:
                meta.adopted_on = meta.adopted_on or adoption[0]
                meta.meeting = meta.meeting or adoption[1] or None
    if meta.title is None:
        candidates = [
            t
            for t in headings
            if not _NOT_A_TITLE_RE.search(t)
            and not DRAFT_LINE_RE.search(t)
            and not SC_TITLE_RE.match(t)
            and not t.startswith(("The ", "大会"))
        ]
        if info.family == "ga_draft" and candidates:
            meta.title = candidates[-1]
        elif front_matter.get("title"):
            meta.title = front_matter["title"].rstrip(" :")
