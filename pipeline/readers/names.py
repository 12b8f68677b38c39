"""File names as the tool shows them: any bytes in, one printable line out.

A raw folder can hold names that are not text: bytes that are not UTF-8 (Python gives
them as lone surrogates, ``'caf\\udce9.txt'``), a newline or a terminal escape. Such a
name cannot be written to UTF-8 (manifest, Parquet, report), and printed as it is, a
newline in it forges log lines. So every name a reader gives a document is its *shown*
form (:func:`shown_name`): printable characters stay (Chinese names are untouched), the
rest become escapes (``\\xe9`` for an undecodable byte, ``\\n``, ``\\x1b``). Cache keys
hash this form, so they are the same on every run.
"""

from __future__ import annotations

#: Lone surrogates U+DC80..U+DCFF stand for undecodable bytes 0x80..0xFF (surrogateescape).
_ESCAPED_BYTES = range(0xDC80, 0xDD00)


def shown_name(name: str) -> str:
    """``name`` with every non-printable character escaped (see module docstring)."""
    if name.isprintable():
        return name
    out = []
    for char in name:
        if char.isprintable():
            out.append(char)
        elif ord(char) in _ESCAPED_BYTES:
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        else:
            out.append(char.encode("unicode_escape", "backslashreplace").decode("ascii"))
    return "".join(out)
