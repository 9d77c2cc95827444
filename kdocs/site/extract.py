"""Read back what a reader copies: the code blocks of the built HTML.

Every injected block is followed by a badge span carrying the snippet path,
section and content hash, so each block can be paired with the file it came
from and compared byte for byte. This catches what only the final HTML shows:
indentation broken inside containers, escaping, Jinja eating `{{ }}`, markers
of line numbers or annotations leaking into the copied text.

Only each block's `<pre>` to the end of its badges is looked at: every page
carries the navigation of the whole site, so reading pages in full would grow
with the square of the site. When no `<pre>` precedes a badge (the block did
not render as one), the fragment reaches back to the previous badge, so the
last `<code>` before it is still found and compared.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path


@dataclass(frozen=True)
class RenderedBlock:
    """One injected code block as the copy button would copy it."""

    page: str  # HTML file relative to the site folder
    text: str
    snippet: str
    section: str | None
    sha256: str
    badges: dict[str, tuple[str, str]]  # label -> (state, text), e.g. "cluster" -> ("passed", …)


class _BlockParser(HTMLParser):
    """Collects `<code>` text inside `div.highlight` and the badge span that follows it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[tuple[str, dict[str, str]]] = []
        self.badges: list[dict[str, tuple[str, str]]] = []  # one dict per block
        self._badge: list[str] | None = None  # [state, label, value] being read
        self._badge_part: str | None = None
        self._pending: str | None = None
        self._in_code = 0
        self._skip = 0  # inside line-number or annotation elements, never copied
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        classes = attributes.get("class", "").split()
        if self._in_code:
            self._in_code += tag not in VOID
            if tag not in VOID and ({"linenos", "md-annotation"} & set(classes) or self._skip):
                self._skip += 1
            return
        if tag == "code":  # the last code element before a badge is the injected block
            self._in_code, self._buffer = 1, []
        elif tag == "span" and "kdocs-badges" in classes and self._pending is not None:
            self.blocks.append((self._pending, attributes))
            self.badges.append({})
            self._pending = None
        elif tag == "span" and "kdocs-badge" in classes and self.badges:
            state = next(
                (c.split("--", 1)[1] for c in classes if c.startswith("kdocs-badge--")), ""
            )
            self._badge = [state, "", ""]
        elif tag == "span" and self._badge is not None:
            self._badge_part = {"kdocs-badge__label": "label", "kdocs-badge__value": "value"}.get(
                classes[0] if classes else ""
            )

    def handle_endtag(self, tag: str) -> None:
        if self._badge is not None and tag == "span":
            if self._badge_part is not None:
                self._badge_part = None
            else:  # the badge itself ends
                state, label, value = self._badge
                self.badges[-1][label] = (state, value)
                self._badge = None
            return
        if not self._in_code or tag in VOID:
            return
        if self._skip:
            self._skip -= 1
        self._in_code -= 1
        if self._in_code == 0:
            self._pending = "".join(self._buffer)

    def handle_data(self, data: str) -> None:
        if self._badge is not None and self._badge_part is not None:
            self._badge[1 if self._badge_part == "label" else 2] += data
        elif self._in_code and not self._skip:
            self._buffer.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.handle_data(html.unescape(f"&#{name};"))


VOID = {"br", "img", "input", "hr", "meta", "link", "wbr"}
BADGES = '<span class="kdocs-badges"'
BADGES_END = "</a></span>"  # the download link closes the badges span


CODE_OPEN = re.compile(r"<code\b[^>]*>")
TAG = re.compile(r"<[^>]*>")
ATTRIBUTE = re.compile(r'\s([\w-]+)="([^"]*)"')
BADGE = re.compile(
    r'<span class="kdocs-badge kdocs-badge--([\w-]+)"[^>]*>'
    r'<span class="kdocs-badge__label">([^<]*)</span>'
    r'<span class="kdocs-badge__value">([^<]*)</span></span>'
)
# Where copied text is not the element's text, the full parser decides.
NEEDS_PARSER = ("linenos", "md-annotation")

Block = tuple[str, dict[str, str], dict[str, tuple[str, str]]]  # text, badges span attrs, badges


def page_blocks(page_html: str, parser_only: bool = False) -> list[Block]:
    """Every injected block of one page: the copied text, the badges span's attributes and
    its badges. A scan with regular expressions (the markup is kdocs' and Pygments' own);
    fragments with line numbers or annotations, whose copied text skips elements, go through
    `_BlockParser` (all of them with `parser_only`, the reference the scan is tested against)."""
    if BADGES not in page_html:
        return []
    found: list[Block] = []
    done = 0
    badges_at = page_html.find(BADGES)
    while badges_at >= 0:
        pre = page_html.rfind("<pre", done, badges_at)
        end = page_html.find(BADGES_END, badges_at)
        end = len(page_html) if end < 0 else end + len(BADGES_END)
        fragment = page_html[pre if pre >= 0 else done : end]
        found.extend(_scan(fragment, badges_at - (pre if pre >= 0 else done), parser_only))
        done = end
        badges_at = page_html.find(BADGES, done)
    return found


def _scan(fragment: str, badges_at: int, parser_only: bool) -> list[Block]:
    code_at = fragment.rfind("<code", 0, badges_at)
    opened = CODE_OPEN.match(fragment, code_at) if code_at >= 0 else None
    closed = fragment.find("</code>", opened.end()) if opened else -1
    if (
        parser_only
        or opened is None
        or closed < 0
        or closed > badges_at
        or any(marker in fragment for marker in NEEDS_PARSER)
        or "<code" in fragment[opened.end() : closed]
    ):
        parser = _BlockParser()
        parser.feed(fragment)
        return [(t, a, b) for (t, a), b in zip(parser.blocks, parser.badges, strict=True)]
    text = html.unescape(TAG.sub("", fragment[opened.end() : closed]))
    head_end = fragment.find(">", badges_at)
    attributes = {
        name: html.unescape(value)
        for name, value in ATTRIBUTE.findall(fragment, badges_at, head_end + 1)
    }
    badges = {
        html.unescape(label): (state, html.unescape(value))
        for state, label, value in BADGE.findall(fragment, head_end)
    }
    return [(text, attributes, badges)]


def rendered_blocks(site_dir: Path) -> list[RenderedBlock]:
    """Every injected block of every page of a built site."""
    found: list[RenderedBlock] = []
    for page in sorted(site_dir.rglob("*.html")):
        for text, attributes, badges in page_blocks(page.read_text(encoding="utf-8")):
            found.append(
                RenderedBlock(
                    page=str(page.relative_to(site_dir)),
                    text=text,
                    snippet=attributes.get("data-snippet", ""),
                    section=attributes.get("data-section") or None,
                    sha256=attributes.get("data-sha256", ""),
                    badges=badges,
                )
            )
    return found
