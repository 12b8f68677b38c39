"""Structure extraction: raw resolution text -> ``Document`` with typed, clean blocks.

A GA resolution has a fixed shape: header lines, a title line ("75/58. Measures ..."),
"The General Assembly,", preambular paragraphs (each opening with a lead phrase),
numbered operative paragraphs (with (a), (b) sub-paragraphs), closing lines (plenary
meeting, date) and footnotes. Converters break that shape in known ways (see the seeds
in data/raw/ and REFERENCE.md), and this package puts it back, one module per step:

1. Lines (``lines``). NFC, running heads (``A/RES/75/58``, page numbers ``2/5``, job numbers
   ``20-16421``) dropped, text cut into chunks at blank lines.
2. Units (``lines``). Inside a chunk a line starts a new paragraph when it is a strong start
   (operative number, "(a)", footnote marker, closing line, header line) or a lead
   phrase after a line that ended a paragraph; otherwise it continues the paragraph
   (000's operative paragraphs on consecutive lines are split, 003's wrapped agenda
   title is joined).
3. Run-together lines (``lines``) are split back (001's long line) at emphasis toggles that open a
   lead phrase or a header line, at an operative number after ";", and, without markup,
   in English at a preambular lead after "," ("..., Recognizing the") or any lead
   phrase after ";".
4. Classification (``classify``), in reading order: header (headings, title) until "The General
   Assembly," / "大会，"; then preamble, operative, sub-paragraph, closing; footnotes
   anywhere. A paragraph cut by a page break or by footnote blocks (001: "held in Baku
   on" ... "25 and 26 October 2019,³ ...") is joined back: a unit that is not a
   paragraph start continues the last paragraph when that paragraph is still open
   (ends without , ; : . or their Chinese forms), or whenever it starts in lower case.
   A footnote without its final full stop takes the text after it the same way.

Choices (tested in tests/extract/):

- The distribution stamp ("Distr.: General" and the date under it, "Original: ...") is
  dropped: it is filing data, not translated text (the Chinese seed carries it in English).
- Footnote blocks are collected and placed at the end of the document, after the body
  and closing lines, in the order they appear (their number order): footnotes sit at
  page bottoms at different places in each language, and keeping them together leaves
  the body's paragraph order identical in both languages. The paragraphs that cite them
  keep the numbers in ``footnote_refs``. Closing lines stay where they are printed
  (each document's own order: the Chinese layout puts the date first); two on one line
  ("37th plenary meeting 7 December 2020") become two blocks.
- An operative number or "(a)" alone on its line takes the paragraph that follows.
- An unnumbered paragraph after the first operative paragraph that does not continue
  an open paragraph is a ``subparagraph`` with ``number=None`` (flush text belonging to
  the operative part); it is never merged silently.
- Block text keeps the lead phrase ("Calls upon all Member States ..."), drops the
  operative number and the "(a)" label (they are in ``number``).
- Truncated (rejected): no operative paragraph at all, or no closing lines and the last
  body paragraph does not end with a full stop (``.`` / ``。``, possibly before a
  closing quote or bracket), i.e. the text stops inside or between paragraphs.
- Language (``language``): ``zh`` when Han characters are at least 30% of letters (Han + Latin) and
  there is almost no kana; ``en`` when Latin letters dominate and English function words
  ("the", "of", "and", "to", "in") are at least 8% of the words. Anything else is
  rejected as unrecognised rather than guessed.

Around the steps: ``furniture`` removes page furniture and front matter before step 1
(with ``note_marks`` and ``pdftotext_notes`` for footnote markers), ``leads`` knows the
lead phrases, ``patterns`` the layout's regular expressions, ``metadata`` reads session,
agenda item and dates, ``families`` and ``family_shape`` the document family and symbol,
``document`` runs it all, and ``output`` writes the ``extract`` command's files.
"""

from pipeline.extract.document import ExtractResult, extract_file, extract_folder, parse_document

__all__ = ["ExtractResult", "extract_file", "extract_folder", "parse_document"]
