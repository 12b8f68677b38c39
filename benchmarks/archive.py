"""A synthetic archive for measuring scale: N en/zh resolution pairs made from the seeds.

Only one real pair exists here (A/RES/75/58), and the UN archive holds ~95,000. To see
how the build's cost grows, :func:`make_pair` turns the real pair into the k-th member
of an archive, and :func:`write_archive` writes N of them as raw ``.txt`` files that the
real extractor reads. Each pair gets:

* a distinct symbol ``A/RES/<s>/<n>`` (sessions 70-78), with the session lines of both
  languages ("Seventy-second session" / "第七十二届会议", and the next session that the
  last operative paragraph names) consistent with it;
* perturbed paragraphs: one or two years moved back 1-3 years in both languages
  (every paragraph that cites them changes), the recalled resolution renumbered,
  and sometimes one Chinese preambular paragraph dropped (a real omission: the
  aligner must leave a 1-0 bead);
* footnotes dropped (body and reference, both languages) and added (a new reference
  and body citing another document).

Pure and seeded: the same (k, seed) always gives the same texts, whatever N is, so an
archive of 200 is the first 200 of an archive of 2,000. Most text repeats across pairs,
as it does in the real archive (standard phrases, recurring resolutions); the embedding
cache makes repeats cheap, so this measures the build, not only the encoder.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

#: The real pair the archive is made from (A/RES/75/58).
SEED_EN = "002_69ed3383ef6f2041.txt"
SEED_ZH = "003_df19238bedd244e2.txt"
SEED_SESSION = 75
SEED_NUMBER = 58

SESSIONS = list(range(70, 79))
#: Small pools for the perturbations: variants recur across the archive, as standard
#: wording does in the real one, so the number of distinct texts levels off and the
#: benchmark measures the build more than the encoder (whose speed is measured apart).
RECALLED = (13, 27, 43, 61, 88)
CITED = (171, 399, 548)
MAX_YEAR_SHIFT = 3
_EN_ORDINAL = {
    70: "Seventieth",
    71: "Seventy-first",
    72: "Seventy-second",
    73: "Seventy-third",
    74: "Seventy-fourth",
    75: "Seventy-fifth",
    76: "Seventy-sixth",
    77: "Seventy-seventh",
    78: "Seventy-eighth",
    79: "Seventy-ninth",
}
_ZH_DIGIT = "〇一二三四五六七八九"
_EN_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def zh_session(session: int) -> str:
    """70 -> 七十, 75 -> 七十五 (the numbers this archive uses)."""
    tens, units = divmod(session, 10)
    return _ZH_DIGIT[tens] + "十" + (_ZH_DIGIT[units] if units else "")


def en_marker(n: int) -> str:
    return "".join(_EN_SUPERSCRIPT[int(d)] for d in str(n))


def zh_marker(n: int) -> str:
    return f"<sup>{n}</sup>"


@dataclass(frozen=True)
class SyntheticPair:
    symbol: str
    en: str
    zh: str
    #: What was done to the seed pair, for a reader of the benchmark.
    notes: tuple[str, ...]


def symbol_for(k: int) -> tuple[int, int]:
    """(session, number) of the k-th pair: distinct for every k >= 0."""
    return SESSIONS[k % len(SESSIONS)], 1 + k // len(SESSIONS)


def _set_session(en: str, zh: str, session: int) -> tuple[str, str]:
    nxt = session + 1
    en = en.replace("seventy-sixth session", "\x00NEXT\x00")
    en = en.replace("Seventy-fifth session", f"{_EN_ORDINAL[session]} session")
    en = en.replace("\x00NEXT\x00", f"{_EN_ORDINAL[nxt].lower()} session")
    zh = zh.replace("第七十六届会议", "\x00NEXT\x00")
    zh = zh.replace("第七十五届会议", f"第{zh_session(session)}届会议")
    zh = zh.replace("\x00NEXT\x00", f"第{zh_session(nxt)}届会议")
    return en, zh


def _drop_footnote(en: str, zh: str, n: int) -> tuple[str, str]:
    em, zm = en_marker(n), zh_marker(n)
    en = re.sub(rf"(?m)^{re.escape(em)} .*\n?", "", en).replace(em, "")
    zh = re.sub(rf"(?m)^{re.escape(zm)} .*\n?", "", zh).replace(zm, "")
    return en, zh


def _add_footnote(en: str, zh: str, n: int, paragraph: int, cited: str) -> tuple[str, str]:
    """Reference at the end of operative paragraph ``paragraph``, body right after it."""
    en_line = re.compile(rf"(?m)^({paragraph}\. .*)$")
    zh_line = re.compile(rf"(?m)^({paragraph}\. .*)$")
    en = en_line.sub(lambda m: f"{m.group(1)}{en_marker(n)}\n\n{en_marker(n)} See {cited}.", en)
    zh = zh_line.sub(lambda m: f"{m.group(1)}{zh_marker(n)}\n\n{zh_marker(n)} 见 {cited}。", zh)
    return en, zh


def make_pair(en: str, zh: str, k: int, seed: int = 0) -> SyntheticPair:
    """The k-th pair of the archive made from the seed texts ``en`` and ``zh``."""
    rng = random.Random(f"{seed}:{k}")
    session, number = symbol_for(k)
    notes: list[str] = []
    # The recalled resolution first: a title renumbered to 74/43 must not be renamed again.
    recalled = f"{session - 1}/{rng.choice(RECALLED)}"
    en = en.replace("74/43", recalled)
    zh = zh.replace("74/43", recalled)
    title = f"{SEED_SESSION}/{SEED_NUMBER}."
    en = en.replace(title, f"{session}/{number}.")
    zh = zh.replace(title, f"{session}/{number}.")
    en, zh = _set_session(en, zh, session)
    years = sorted(
        set(re.findall(r"\b(?:19|20)\d\d\b", en)) & set(re.findall(r"(?:19|20)\d\d", zh))
    )
    for year in rng.sample(years, k=min(len(years), rng.randint(1, 2))):
        moved = str(int(year) - rng.randint(1, MAX_YEAR_SHIFT))
        en = re.sub(rf"\b{year}\b", moved, en)
        zh = zh.replace(year, moved)
        notes.append(f"year {year}->{moved}")
    for n in range(1, 8):
        if rng.random() < 0.15:
            en, zh = _drop_footnote(en, zh, n)
            notes.append(f"footnote {n} dropped")
    if rng.random() < 0.5:
        paragraph = rng.randint(1, 6)
        cited = f"A/{session}/{rng.choice(CITED)}"
        en, zh = _add_footnote(en, zh, 8, paragraph, cited)
        notes.append(f"footnote 8 added to paragraph {paragraph}")
    if rng.random() < 0.3:
        leads = [m.start() for m in re.finditer(r"(?m)^\*\*[^*\n]+\*\* ", zh)]
        if leads:
            start = rng.choice(leads)
            end = zh.find("\n", start)
            zh = zh[:start] + zh[end + 1 :] if end != -1 else zh[:start]
            notes.append("one zh preambular paragraph dropped")
    return SyntheticPair(f"A/RES/{session}/{number}", en, zh, tuple(notes))


#: The full stop, semicolon or comma that ends a paragraph (a line), either language.
_PARAGRAPH_END = re.compile(r"(?m)(?<=\w)([.;,。；，])(\S*)$")


def make_distinct(pair: SyntheticPair, k: int) -> SyntheticPair:
    """Every paragraph of the pair carries a number no other pair's does ("(k.i)" before
    the stop that ends it, footnote markers kept after it), so nothing repeats across the
    archive and a cold build must embed (nearly) every text: the encoder-bound benchmark,
    where the embedding cache helps nobody and the build's own cost shows beside the
    encoder's."""

    def tagged(text: str) -> str:
        counter = iter(range(1, 10**6))
        return _PARAGRAPH_END.sub(
            lambda m: f" ({k}.{next(counter)}){m.group(1)}{m.group(2)}", text
        )

    en, zh = tagged(pair.en), tagged(pair.zh)
    return SyntheticPair(pair.symbol, en, zh, (*pair.notes, "distinct sentences"))


def file_names(k: int) -> tuple[str, str]:
    session, number = symbol_for(k)
    return f"A-RES-{session}-{number:04d}.en.txt", f"A-RES-{session}-{number:04d}.zh.txt"


def write_archive(
    seeds: Path, out: Path, n_pairs: int, seed: int = 0, *, distinct: bool = False
) -> list[str]:
    """Write ``n_pairs`` synthetic pairs into ``out`` (created); returns their symbols.
    ``distinct``: no sentence repeats across pairs (:func:`make_distinct`)."""
    if n_pairs < 0:
        raise ValueError(f"n_pairs must be >= 0, got {n_pairs}")
    en = (seeds / SEED_EN).read_text(encoding="utf-8")
    zh = (seeds / SEED_ZH).read_text(encoding="utf-8")
    out.mkdir(parents=True, exist_ok=True)
    symbols = []
    for k in range(n_pairs):
        pair = make_pair(en, zh, k, seed)
        if distinct:
            pair = make_distinct(pair, k)
        en_name, zh_name = file_names(k)
        (out / en_name).write_text(pair.en, encoding="utf-8")
        (out / zh_name).write_text(pair.zh, encoding="utf-8")
        symbols.append(pair.symbol)
    return symbols
