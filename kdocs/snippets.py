"""Snippet files: safe path resolution, content hashes and named sections.

A section is the run of lines between `# --8<-- [start:NAME]` and
`# --8<-- [end:NAME]` (the marker syntax of pymdownx.snippets, which readers
of MkDocs sites already know). Sections may not nest or overlap, so a section
shown on a page is always one contiguous slice of the file that was validated
and tested whole. Marker lines are never shown.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from kdocs.errors import InvalidInputError, Location, UnusableInputError
from kdocs.resource.text import check_text, read_bytes

MARKER = re.compile(r"^[ \t]*#[ \t]*--8<--[ \t]*\[(start|end):([A-Za-z0-9_.-]+)\][ \t]*$")
# A bracketed marker that does not parse is refused; any other `--8<--` line is
# ordinary content, shown literally and never followed.
MARKER_LIKE = re.compile(r"^[ \t]*#[ \t]*--8<--[ \t]*\[")


@dataclass(frozen=True)
class Section:
    """A named section: 1-based line numbers of its first and last shown line."""

    name: str
    first_line: int  # line after the start marker
    last_line: int  # line before the end marker (first_line - 1 when empty)


@dataclass(frozen=True)
class Snippet:
    """One snippet file, read once; `rel` is its path relative to the snippets folder."""

    rel: str
    path: Path
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    @cached_property  # a build asks for it ~10 times per snippet
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def lines(self) -> list[str]:
        """Lines with their line endings, exactly as in the file."""
        return self.text.splitlines(keepends=True)

    def sections(self) -> dict[str, Section]:
        return dict(self._sections)

    @cached_property  # a build needs them for the check and again for each block shown
    def _sections(self) -> dict[str, Section]:
        return parse_sections(self.lines, self.rel)

    def shown_text(self, section: str | None = None) -> str:
        """What a page shows: the section's lines, or the whole file without marker lines."""
        lines = self.lines
        if section is None:
            self.sections()  # refuse malformed markers even when showing the whole file
            return "".join(line for line in lines if not MARKER_LIKE.match(line))
        found = self._section(section)
        return "".join(lines[found.first_line - 1 : found.last_line])

    def shown_range(self, section: str | None = None) -> tuple[int, int]:
        """1-based inclusive line range a section covers (whole file: 1..last line)."""
        if section is None:
            return 1, len(self.lines)
        found = self._section(section)
        return found.first_line, found.last_line

    def _section(self, name: str) -> Section:
        sections = self._sections
        if name in sections:
            return sections[name]
        known = ", ".join(repr(n) for n in sections) if sections else "none"
        raise InvalidInputError(
            Location(self.rel), f"no section named {name!r}; sections in this file: {known}"
        )


def parse_sections(lines: list[str], where: str) -> dict[str, Section]:
    """Find every section; refuse nesting, overlap, duplicates and unclosed markers."""
    sections: dict[str, Section] = {}
    open_name: str | None = None
    open_line = 0
    for number, line in enumerate(lines, start=1):
        if not MARKER_LIKE.match(line):
            continue
        match = MARKER.match(line.rstrip("\r\n"))
        if match is None:
            raise InvalidInputError(Location(where, number), "malformed --8<-- section marker")
        kind, name = match.groups()
        if kind == "start":
            if open_name is not None:
                raise InvalidInputError(
                    Location(where, number),
                    f"section {name!r} starts inside section {open_name!r}; sections may not nest",
                )
            if name in sections:
                raise InvalidInputError(Location(where, number), f"section {name!r} defined twice")
            open_name, open_line = name, number
        else:
            if name != open_name:
                raise InvalidInputError(
                    Location(where, number), f"end of section {name!r} that is not open"
                )
            sections[name] = Section(name, open_line + 1, number - 1)
            open_name = None
    if open_name is not None:
        raise InvalidInputError(Location(where, open_line), f"section {open_name!r} never ends")
    return sections


def resolve(snippets_dir: Path, rel: str) -> Path:
    """The file `rel` names inside `snippets_dir`; refuse anything that would leave it.

    Absolute paths, `..` parts and symlinks whose target lies outside the
    folder are refused, so a page can never publish a file from elsewhere.
    """
    if not isinstance(rel, str) or not rel.strip():
        raise UnusableInputError(None, f"snippet path must be a non-empty string, got {rel!r}")
    pure = PurePosixPath(rel)
    if pure.is_absolute() or rel.startswith(("/", "\\")) or ":" in pure.parts[0]:
        raise UnusableInputError(
            None, f"snippet path {rel!r} is absolute; give it relative to snippets/"
        )
    if ".." in pure.parts or "\\" in rel:
        raise UnusableInputError(None, f"snippet path {rel!r} leaves snippets/")
    # Strings, not Path objects: a build resolves every snippet a page names, and
    # Path.resolve() costs an extra stat and many objects per call.
    base = os.path.realpath(snippets_dir)
    candidate = os.path.join(base, *pure.parts)
    real = os.path.realpath(candidate)
    if real != base and not real.startswith(base.rstrip(os.sep) + os.sep):
        raise UnusableInputError(None, f"snippet path {rel!r} leads outside snippets/ (symlink)")
    if not os.path.isfile(real):
        raise UnusableInputError(
            None, f"snippet {rel!r} does not exist in snippets/{_nearest(Path(base), rel)}"
        )
    return Path(candidate)


def _nearest(base: Path, rel: str) -> str:
    """A did-you-mean of the closest existing snippet paths, for a typo in a page."""
    existing = [p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()]
    import difflib  # only for a did-you-mean hint: not on every build

    close = difflib.get_close_matches(rel, existing, n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def load(snippets_dir: Path, rel: str) -> Snippet:
    """Read a snippet file after checking its path; it must be UTF-8 text within the limits."""
    path = resolve(snippets_dir, rel)
    data = read_bytes(path, name=rel)  # the one reader's limits: over-size, binary, not UTF-8
    check_text(data, rel)
    return Snippet(rel=str(PurePosixPath(rel)), path=path, data=data)


def check_renderable(snippet: Snippet) -> None:
    """Refuse bytes that Markdown would silently change on the page.

    Python-Markdown expands tabs, strips whitespace-only lines and normalises
    line endings before any extension sees the text, so such a snippet could
    not be shown byte for byte; better to fail at its line than to publish
    something other than what was tested.
    """
    for number, line in enumerate(snippet.lines, start=1):
        body = line.rstrip("\n")
        if body.endswith("\r"):
            raise InvalidInputError(Location(snippet.rel, number), "CRLF line ending; use LF")
        if "\t" in body:
            col = body.index("\t") + 1
            raise InvalidInputError(Location(snippet.rel, number, col), "tab character; use spaces")
        if body != body.rstrip(" "):
            raise InvalidInputError(
                Location(snippet.rel, number, len(body.rstrip(" ")) + 1), "trailing whitespace"
            )
