"""Page furniture out of converted UN text, before the extractor reads its structure.

A UN document prints, besides its text: on page 1 "United Nations" and the symbol, the
distribution stamp ("Distr.: General" and a date), and at the bottom the job number
("18-18142 (E)", Chinese "(C)"), a date code ("021118"), the barcode text ("*1818142*")
and "Please recycle"; on later pages a running head (the symbol and a short title, left
or right) and a footer with the page number ("2/5") and the job number. Converters put
these wherever the page broke: on lines of their own, run together on one line, or in
the middle of a sentence that continues on the next page ("...the social and economic
18-16895 (E) 241018 Political declaration ... A/RES/73/3 on the fi..."). Markdown
converters add YAML front matter and pandoc/GFM footnotes (``text[^1]``,
``[^1]: note``).

``prepare_text`` removes all of that and rewrites footnotes into the ``<sup>n</sup>``
form every other reader produces (``note_marks``, and ``pdftotext_notes`` for pdftotext's
detached note numbers), so the extractor keeps one input language. Lines it
does not recognise as furniture pass through unchanged, so text without furniture (the
seeds) is returned as it came.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.extract.families import SYMBOL_RE, normalise_symbol
from pipeline.extract.note_marks import markdown_footnotes, number_lines_to_marks, plain_digit_refs
from pipeline.extract.pdftotext_notes import renumber_areas

_FRONT_KEY_RE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
#: A job number with what is printed around it: page number, language letter, date codes.
JOB_RE = re.compile(
    r"(?:(?<![\w/.])\d{1,3}\s*/\s*\d{1,3}\s+)?(?<![\w/.-])\d{2}-\d{5}(?![\w-])"
    r"(?:\s*\([A-Z]\))?(?:\s+\d{6}(?!\w))*(?:\s+\d{1,3}\s*/\s*\d{1,3}(?![\w/]))?"
)
_JOB_LINE_RE = re.compile(rf"^[*\s]*(?:{JOB_RE.pattern})[*\s]*$")
_FURNITURE_LINE_RE = re.compile(
    r"^[\s*]*(?:\*?\d{7}\*?|\d{6}|Please\s+recycle|请回收|♲)[\s*]*$",
    re.IGNORECASE,
)
#: "United Nations" over the symbol: page 1's masthead, furniture only before the text.
_MASTHEAD_RE = re.compile(r"^[\s*#]*(?:United\s+Nations|联合国)[\s*]*$", re.IGNORECASE)
_FOOTER_TOKEN_RE = re.compile(
    rf"{JOB_RE.pattern}|(?<!\d)\d{{6,7}}(?!\d)|Please\s+recycle|请回收|♲", re.IGNORECASE
)
#: What every footer token holds (a job number's "dd-ddddd", a 6- or 7-digit code, the
#: recycling note): a line without it has no token, and the costlier substitution of
#: ``_FOOTER_TOKEN_RE`` (tried at every position) is skipped.
_FOOTER_HINT_RE = re.compile(r"\d{2}-\d{5}|\d{6}|recycle|请回收|♲", re.IGNORECASE)
_MARKS_RE = re.compile(r"[*#_]+")
_PAGE_LINE_RE = re.compile(r"^[\s*]*(\d{1,3})\s*/\s*(\d{1,3})[\s*]*$")
_DISTR_INLINE_RE = re.compile(
    r"\s*\**Distr\.?\s*:\s*\**\s*(?:General|Limited|Restricted)\**"
    r"(?:\s+\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)?\s*$"
)
_DATE_LINE_RE = re.compile(
    r"^(?:\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)$"
)
_STAMP_WITHOUT_DATE_RE = re.compile(
    r"\S.*Distr\.?\s*:\s*\**\s*(?:General|Limited|Restricted)\**\s*$"
)
_SESSION_AGENDA_RE = re.compile(
    r"^(\S.*?(?:session|届会议))\s+((?:Agenda\s+items?|议程项目)\s*\S.*)$"
)


@dataclass
class Prepared:
    """Text with furniture removed, and what the furniture told about the document."""

    text: str
    front_matter: dict[str, str] = field(default_factory=dict)
    symbols: list[str] = field(default_factory=list)  # symbols printed in page furniture
    removed: int = 0  # furniture lines and inline pieces removed


def prepare_text(text: str) -> Prepared:
    """Remove front matter and page furniture; rewrite markdown footnotes as ``<sup>``."""
    front, text = split_front_matter(text)
    prepared = Prepared(text="", front_matter=front)
    if front.get("symbol"):
        prepared.symbols.append(normalise_symbol(front["symbol"]))
    lines = renumber_areas(markdown_footnotes(text.split("\n")), _is_furniture_line)
    lines = number_lines_to_marks(lines, _is_furniture_line)
    lines = _separate_header_lines(plain_digit_refs(lines))
    own = _own_symbols(lines, prepared.symbols)
    bare = [_bare(line) for line in lines]  # once: every pass below reads them
    heads = _running_head_titles(bare, own, front.get("title", ""))
    title = _title_text(bare)
    out: list[str] = []
    stamp_date_next = False
    in_header = True
    for line, plain_line in zip(lines, bare, strict=True):
        in_header = in_header and not _INTRO_LINE_RE.match(plain_line)
        if in_header and _MASTHEAD_RE.match(line):
            out.append("")
            continue
        if stamp_date_next and line.strip():
            stamp_date_next = False
            if _DATE_LINE_RE.match(plain_line):
                out.append("")  # the distribution date under a stamp run into a line
                continue
        new, found = _clean_line(line, plain_line, own, heads, title)
        prepared.symbols.extend(found)
        if new != line:
            prepared.removed += 1
            stamp_date_next = bool(_STAMP_WITHOUT_DATE_RE.search(line))
        if new is None:
            out.append("")  # a page break separates like a blank line
        else:
            out.extend(new.split("\n"))
    prepared.text = "\n".join(out)
    return prepared


def is_footer_line(plain: str) -> bool:
    """A whole line of page footer: job number, page number "2/5", barcode, date code or
    recycling note (``plain``: markup already removed). The one test of this, used here
    and by the running-head pass of extract.lines."""
    page = _PAGE_LINE_RE.match(plain)
    if page:
        return int(page.group(1)) <= int(page.group(2))
    return bool(_JOB_LINE_RE.match(plain) or _FURNITURE_LINE_RE.match(plain))


def _is_furniture_line(text: str) -> bool:
    """A whole line of page footer or running head (job number, page number, barcode,
    recycling note, a symbol alone): what ends a page in pdftotext output."""
    plain = re.sub(r"[*#_]+", "", text).strip()
    # any "n/N" line ends a page here, even one whose n exceeds N (is_footer_line's check)
    page = _PAGE_LINE_RE.match(plain)
    head = SYMBOL_RE.fullmatch(re.sub(r"^(?:United Nations|联合国)\s+", "", plain))
    return bool(page or head) or is_footer_line(plain)


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML front matter (``---`` / ``key: value`` lines / ``---``) at the very start."""
    stripped = text.lstrip("\n\ufeff")
    if not stripped.startswith("---\n"):
        return {}, text
    lines = stripped.split("\n")
    for end in range(1, min(len(lines), 80)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}, text
    front: dict[str, str] = {}
    for line in lines[1:end]:
        match = _FRONT_KEY_RE.match(line.strip())
        if match is None:
            if line.strip():
                return {}, text  # not key: value lines, so not front matter
            continue
        front[match.group(1).lower()] = match.group(2).strip().strip("\"'").strip()
    if not front:
        return {}, text
    return front, "\n".join(lines[end + 1 :])


_HEADER_LINE_RE = re.compile(
    r"^(?:Agenda\s+items?\s+[\w\s(),]+|议程项目\s*[\w\s(),、和]+|Resolution\s+\d{1,4}\s*\(\d{4}\)"
    r"|第\s*\d{1,4}\s*[(（]\d{4}[)）]\s*号决议|Adopted\s+by\s+the\s+Security\s+Council\b.*"
    r"|\d{4}\s*年.*安全理事会.*通过|Resolution\s+adopted\s+by\s+the\s+General\s+Assembly\s+on"
    r"\s+\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|Decision\s+adopted\s+by\s+the\s+General\s+Assembly\b.*"
    r"|.*[:：]\s*(?:(?:revised\s+)?draft\s+(?:resolution|decision)|(?:订正)?(?:决议|决定)草案)"
    r"|(?:General\s+Assembly|Security\s+Council|大会|安全理事会)"
    r"|\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)$",
    re.IGNORECASE,
)
_INTRO_LINE_RE = re.compile(
    r"^(?:The\s+(?:General\s+Assembly|Security\s+Council)\s*,|(?:大会|安全理事会)\s*[，,])$"
)
_DECISION_START_RE = re.compile(
    r"^(?:At\s+its\s+\d{1,4}(?:st|nd|rd|th)\s+plenary\s+meeting|At\s+the\s+same\s+meeting"
    r"|大会\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*第\s*\d{1,4}\s*次全体会议|在同次会议上)"
)
#: A header line wrapped before its date ("...adopted by the General Assembly on").
_WRAPPED_ADOPTED_RE = re.compile(
    r"(?:adopted\s+by\s+the\s+General\s+Assembly|Security\s+Council)\s+on$"
)
_BARE_TITLE_NUMBER_RE = re.compile(r"^(?:ES-|S-)?\d{1,3}/\d{1,4}(?: ?[A-Z])?\.$")


def _separate_header_lines(lines: list[str]) -> list[str]:
    """Before "The General Assembly,": each header line its own paragraph.

    pdftotext prints the header without blank lines, so "Agenda item 19", the agenda
    title, the sponsors of a draft and its title would join into one heading; a blank
    line goes after every line that is always a paragraph of its own. A title number
    printed alone ("78/250.") takes the title line that follows it.
    """
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        plain = _bare(line)
        if _INTRO_LINE_RE.match(plain):
            return out + lines[index:]
        if _BARE_TITLE_NUMBER_RE.match(plain):
            after = index + 1
            while after < len(lines) and not lines[after].strip():
                after += 1
            if after < len(lines) and lines[after].strip():
                out.append(f"{plain} {lines[after].strip()}")
                index = after + 1
                continue
        if plain.endswith("on") and _WRAPPED_ADOPTED_RE.search(plain):
            after = index + 1
            if after < len(lines) and _DATE_LINE_RE.match(lines[after].strip(" *")):
                line = plain = f"{plain} {lines[after].strip(' *')}"  # a wrapped header line
                index += 1
        if _DECISION_START_RE.match(plain) and out and out[-1].strip():
            out.append("")  # each paragraph of a decision opens this way
        is_header = bool(_HEADER_LINE_RE.match(plain))
        if is_header and out and out[-1].strip() and "draft" in plain.lower() + "草案":
            out.append("")
        out.append(line)
        if is_header and index + 1 < len(lines) and lines[index + 1].strip():
            out.append("")
        index += 1
    return out


def _own_symbols(lines: list[str], known: list[str]) -> set[str]:
    """The document's own symbol(s): from front matter, or those printed on a line alone
    (or beside "United Nations") at the top of page 1 and in running heads."""
    own = set(known)
    for line in lines:
        plain = re.sub(r"[*#_\s]+", " ", line).strip()
        plain = re.sub(r"^(?:United Nations|联合国)\s+", "", plain)
        match = SYMBOL_RE.fullmatch(plain)
        if match:
            own.add(normalise_symbol(plain))
    return own


def _running_head_titles(plain: list[str], own: set[str], front_title: str) -> set[str]:
    """Short titles printed beside the symbol in running heads ("symbol  title" on one
    line with -layout, or a line next to a symbol-only line). A candidate must be made
    of the title's own words (a running head shortens the title), or be printed beside
    the symbol twice; a sentence fragment next to a symbol is neither. ``plain``: the
    lines without markup (``_bare``)."""
    titles: set[str] = set()
    title = _title_text(plain) + " " + front_title
    seen: dict[str, int] = {}
    for index, text in enumerate(plain):
        for symbol in own:
            if not (text.startswith(symbol) or text.endswith(symbol)):
                continue
            rest = text.replace(symbol, "", 1).strip()
            for candidate in [rest] if rest else _neighbours(plain, index):
                if _looks_like_head(candidate):
                    seen[candidate] = seen.get(candidate, 0) + 1
    for candidate, count in seen.items():
        if count >= 2 or _made_of(candidate, title):
            titles.add(candidate)
    return {t for t in titles if t}


def _title_text(plain: list[str]) -> str:
    """The "78/250. Title" line's title (also when the converter put it on the next line)."""
    for index, text in enumerate(plain[:80]):
        match = re.match(r"^(?:ES-|S-)?\d{1,3}/\d{1,4}(?: ?[A-Z])?\.\s*(.*)$", text)
        if match:
            rest = match.group(1) or next((t for t in plain[index + 1 :] if t), "")
            return rest
    return ""


def _made_of(candidate: str, title: str) -> bool:
    """Every word (Chinese: character) of ``candidate`` occurs in ``title``."""
    if not title.strip():
        return False
    if re.search(r"[\u4e00-\u9fff]", candidate):
        return all(char in title for char in candidate if not char.isspace())
    words = set(re.findall(r"[\w-]+", title.lower()))
    return all(word in words for word in re.findall(r"[\w-]+", candidate.lower()))


def _neighbours(plain: list[str], index: int) -> list[str]:
    found: list[str] = []
    for step in (-1, 1):
        j = index + step
        while 0 <= j < len(plain) and not plain[j]:
            j += step
        if 0 <= j < len(plain) and abs(j - index) <= 3:
            found.append(plain[j])
    return found


def _looks_like_head(text: str) -> bool:
    """A short title: a few words, no sentence punctuation, not a numbered paragraph."""
    if not text or len(text) > 90 or text.endswith(tuple(",;:.，；：。")):
        return False
    if re.match(r"^(?:\d{1,3}\.|\(|\[|<sup>)", text) or SYMBOL_RE.search(text):
        return False
    if re.search(
        r"\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|\d{4}\s*年|plenary|全体会议|session|届会议"
        r"|Agenda|议程|Distr|General Assembly$|Security Council$",
        text,
    ):
        return False
    return 1 <= len(text.split()) <= 12


def _bare(line: str) -> str:
    """The line without markdown marks and outer spaces (what furniture tests read)."""
    return _MARKS_RE.sub("", line).strip()


def _clean_line(
    line: str, plain: str, own: set[str], heads: set[str], title: str
) -> tuple[str | None, list[str]]:
    """The line without furniture (None: the whole line was furniture) and the symbols
    it printed as furniture. ``plain`` is ``_bare(line)``."""
    if not plain:
        return line, []
    if is_footer_line(plain):
        return None, []
    # A line that lacks the hint holds no footer token and no job number (its markup
    # aside, so ``line`` holds none either): the costlier patterns are not tried.
    hint = _FOOTER_HINT_RE.search(plain) is not None
    if hint and not _FOOTER_TOKEN_RE.sub(" ", plain).strip():
        return None, []  # "18-18142 (E) 021118 *1818142* Please recycle" on one line
    for symbol in own:
        if symbol in plain:
            rest = re.sub(r"^(?:United Nations|联合国)\s+", "", plain.replace(symbol, " ", 1))
            rest = rest.strip()
            if not rest or rest in heads:
                return None, [symbol]
    if plain in heads:
        return None, []
    stamped = "Distr" in line and not plain.startswith("Distr")
    new = _DISTR_INLINE_RE.sub("", line) if stamped else line
    if new != line or _SESSION_AGENDA_RE.match(plain):
        new = _SESSION_AGENDA_RE.sub(r"\1\n\2", new.strip())  # "...session Agenda item 74"
    new = _inline_furniture(new, heads, title) if hint else new
    return new, []


def _inline_furniture(line: str, heads: set[str], title: str) -> str:
    """Remove a job number and the running head glued to it inside a sentence.

    After a page's footer (job number, date codes, page number) comes the next page's
    running head: a short title and the symbol, in either order. A symbol within a few
    words after the job number, with only title-like words (no sentence punctuation)
    between, is that head, whether or not it is the document's own symbol; a short title
    after the symbol is removed when it is a known running-head title. A converter that
    reads the head before the footer leaves "... Short title A/RES/73/3 18-16895 (E) ...":
    the symbol right before the job number goes, with a known head or a capitalised run
    of the title's words before it.
    """
    if not JOB_RE.search(line):
        return line
    out = line
    for match in reversed(list(JOB_RE.finditer(line))):
        start, end = match.start(), match.end()
        start = _head_before(line[:start], heads, title)
        after = line[end:]
        symbol = _head_symbol_after(after)
        if symbol is not None:
            end += symbol.end()
            rest = line[end:].lstrip()
            for head in sorted(heads, key=len, reverse=True):
                if rest.startswith(head):
                    end = len(line) - len(rest) + len(head)
                    break
        out = out[:start].rstrip() + " " + out[end:].lstrip()
    return out.strip()


def _head_before(before: str, heads: set[str], title: str) -> int:
    """Where a running head printed just before a job number starts (``len(before)``
    when there is none): its symbol, and a known head or title words before that."""
    symbol = re.search(rf"(?:{SYMBOL_RE.pattern})\s*$", before)
    if symbol is None:
        return len(before)
    prefix = before[: symbol.start()].rstrip()
    for head in sorted(heads, key=len, reverse=True):
        if prefix.endswith(head):
            return len(prefix) - len(head)
    words = set(re.findall(r"[\w-]+", title.lower()))
    tokens = list(re.finditer(r"\S+", prefix))
    cut = len(prefix) if prefix else symbol.start()
    run = 0
    for token in reversed(tokens):
        if token.group(0).lower().strip(",;:") not in words:
            break
        run += 1
        if token.group(0)[:1].isupper() and run >= 2:
            cut = token.start()
    return cut if cut < len(prefix) else symbol.start()


def _head_symbol_after(text: str) -> re.Match[str] | None:
    """The running head's symbol near the start of ``text`` (after a job number)."""
    for match in SYMBOL_RE.finditer(text[:200]):
        between = text[: match.start()].strip()
        if not between:
            return match
        title_like = not re.search(r"[,;.:，；。：]", between) and len(between.split()) <= 20
        return match if title_like else None
    return None
