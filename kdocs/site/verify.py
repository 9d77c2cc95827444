"""After MkDocs: every injected block of the built HTML must equal its snippet's bytes.

This is the last line of defence for the reader who copies a block: whatever
a Markdown extension, a theme or a template did to the text, the build fails
if the copied text is not exactly what was validated and tested.
"""

from __future__ import annotations

from pathlib import Path

from kdocs import snippets
from kdocs.errors import InvalidInputError, KdocsError, Location
from kdocs.site.extract import rendered_blocks


def verify_site(snippets_dir: Path, site_dir: Path) -> tuple[int, list[KdocsError]]:
    """Compare each rendered block with its source; return (blocks checked, problems)."""
    problems: list[KdocsError] = []
    blocks = rendered_blocks(site_dir)
    for block in blocks:
        where = Location(f"{site_dir.name}/{block.page}")
        try:
            snippet = snippets.load(snippets_dir, block.snippet)
            expected = snippet.shown_text(block.section)
        except KdocsError as error:
            problems.append(InvalidInputError(where, f"snippet {block.snippet!r}: {error}"))
            continue
        if block.text != expected:
            line = first_difference(expected, block.text)
            problems.append(
                InvalidInputError(
                    where,
                    f"snippet {block.snippet!r}"
                    + (f" section {block.section!r}" if block.section else "")
                    + f": the page shows other text than the file (first difference at shown"
                    f" line {line})",
                )
            )
    return len(blocks), problems


def first_difference(expected: str, shown: str) -> int:
    """1-based line number of the first line that differs."""
    for number, (a, b) in enumerate(
        zip(expected.splitlines(), shown.splitlines(), strict=False), start=1
    ):
        if a != b:
            return number
    return min(len(expected.splitlines()), len(shown.splitlines())) + 1
