"""The read-back: every injected block of a finished page must equal its snippet's bytes.

This is the last line of defence for the reader who copies a block: whatever
a Markdown extension, a theme or a template did to the text, the build fails
if the copied text is not exactly what was validated and tested. The plugin
calls it on each page's HTML as MkDocs writes it (kdocs/mkdocs/plugin.py).
"""

from __future__ import annotations

from collections.abc import Callable

from kdocs.errors import InvalidInputError, KdocsError, Location
from kdocs.site.extract import page_blocks

# (snippet path, section, sha256 on the badge) -> the text the block must show
ExpectedText = Callable[[str, str | None, str], str]


def verify_page(
    where: str, page_html: str, expected: ExpectedText, wanted: int
) -> tuple[int, list[KdocsError]]:
    """Compare each block of a page with its source; `wanted` is how many blocks the page's
    macros injected (a block rendered into something else is not found, and must be missed).
    Returns (blocks checked, problems)."""
    problems: list[KdocsError] = []
    blocks = page_blocks(page_html)
    for text, attributes, _badges in blocks:
        rel = attributes.get("data-snippet", "")
        section = attributes.get("data-section") or None
        try:
            want = expected(rel, section, attributes.get("data-sha256", ""))
        except KdocsError as error:
            problems.append(InvalidInputError(Location(where), f"snippet {rel!r}: {error}"))
            continue
        if text != want:
            problems.append(
                InvalidInputError(
                    Location(where),
                    f"snippet {rel!r}"
                    + (f" section {section!r}" if section else "")
                    + f": the page shows other text than the file (first difference at shown"
                    f" line {first_difference(want, text)})",
                )
            )
    if len(blocks) < wanted:
        problems.append(
            InvalidInputError(
                Location(where),
                f"{wanted} snippet blocks were injected, {len(blocks)} are on the page with their"
                " badges: a Markdown extension or template turned the others into something else",
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
