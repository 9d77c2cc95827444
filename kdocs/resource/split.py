"""A file's documents as kubectl cuts it: the exact bytes the cluster stage applies.

kubectl does not let YAML find the documents of a file: it cuts the bytes at
every line that starts with ``---`` first (k8s.io/apimachinery's YAMLReader),
then reads each piece on its own, skipping pieces that read as nothing. So that
"these exact bytes were applied" holds, every non-empty YAML document the
reader finds must be exactly one of those pieces; where they would differ (a
``---`` line followed by content, two documents in one piece after a ``...``),
the file is refused with the line to change.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from kdocs.errors import InvalidInputError, Location

# A `---` line as kubectl splits files: only spaces or a comment may follow it.
_SEPARATOR_WITH_CONTENT = re.compile(rb"^---(?!\r?$|[ \t]+(?:#|\r?$))", re.MULTILINE)
_SEPARATOR = re.compile(rb"^---[^\n]*\n?", re.MULTILINE)


@dataclass(frozen=True)
class Piece:
    """The bytes between two ``---`` lines, and the lines they span (1-based)."""

    first_line: int
    last_line: int
    text: str


def _dash_lines(data: bytes) -> Iterator[int]:
    """Where each line starting with ``---`` starts: the only places the patterns above
    can match.  A ``^`` pattern searched over the whole file is tried at every byte
    (~10 % of reading a file); ``bytes.find`` skips to the candidates."""
    if data.startswith(b"---"):
        yield 0
    found = data.find(b"\n---")
    while found >= 0:
        yield found + 1
        found = data.find(b"\n---", found + 1)


def check_separators(data: bytes, name: str) -> None:
    """Refuse a ``---`` line followed by content: kubectl refuses it, YAML reads it."""
    for start in _dash_lines(data):
        if _SEPARATOR_WITH_CONTENT.match(data, start) is None:
            continue
        line = data.count(b"\n", 0, start) + 1
        raise InvalidInputError(
            Location(name, line, 1),
            "a line starting with --- must hold only --- (and a comment): kubectl splits "
            "documents there; put the content on the next line",
        )


def kubectl_pieces(data: bytes) -> list[Piece]:
    """The pieces kubectl reads one by one (after `check_separators` passed)."""
    pieces: list[Piece] = []
    start, line = 0, 1
    for at in _dash_lines(data):
        found = _SEPARATOR.match(data, at)
        assert found is not None  # the line starts with ---
        chunk = data[start : found.start()]
        if chunk:
            pieces.append(Piece(line, line + chunk.count(b"\n") - 1, chunk.decode("utf-8")))
        line += chunk.count(b"\n") + 1
        start = found.end()
    chunk = data[start:]
    if chunk:
        last = line + chunk.count(b"\n") - (1 if chunk.endswith(b"\n") else 0)
        pieces.append(Piece(line, last, chunk.decode("utf-8")))
    return pieces


class PieceFinder:
    """Which piece a YAML document is, by its first line; each piece serves one document."""

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        self.pieces = kubectl_pieces(data)
        self.starts = [p.first_line for p in self.pieces]
        self.used: set[int] = set()

    def text(self, first_line: int, last_line: int) -> str:
        """The exact text of the document spanning these lines (1-based, inclusive)."""
        i = bisect.bisect_right(self.starts, first_line) - 1
        if i < 0 or i in self.used or last_line > self.pieces[i].last_line:
            raise InvalidInputError(
                Location(self.name, first_line, 1),
                "kubectl reads one document between --- lines and would not read this one "
                "as written: start it with a line holding only ---",
            )
        self.used.add(i)
        return self.pieces[i].text
