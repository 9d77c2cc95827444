"""The site's guides, read from their pages' front matter: lists, tag index, page header.

A guide is any page under `docs/guides/<category>/`. Everything that lists
guides is generated from their front matter, so adding a guide is adding its
page: no list to keep by hand, no tag page to edit. The Markdown produced
here uses `.md` links, so MkDocs resolves them and strict mode catches a
broken one like any link written by hand.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kdocs.errors import InvalidInputError, KdocsError, Location
from kdocs.site.frontmatter import PageMeta, read_page

GUIDES_FOLDER = "guides"
MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]{}|#!]")
TAG_INDEX = "tags.md"  # the page that calls tag_index(); tag links point at it
GIT_TIMEOUT_S = 30


@dataclass(frozen=True)
class Guide:
    meta: PageMeta
    category: str  # the folder under guides/
    date: str  # last_modified_on from the front matter, else git's last commit of the page

    @property
    def category_title(self) -> str:
        return self.category.replace("-", " ").replace("_", " ").capitalize()


class SiteIndex:
    """Every page's checked front matter, read once per build, and the guides among them."""

    def __init__(self, docs_dir: Path, display_prefix: str = "docs") -> None:
        self.docs_dir = docs_dir
        self.display_prefix = display_prefix
        self._pages: dict[str, PageMeta] | None = None
        self._problems: list[KdocsError] = []
        self._git_dates: dict[str, str] | None = None

    def display(self, page: str) -> str:
        return posixpath.join(self.display_prefix, page)

    def _read(self) -> dict[str, PageMeta]:
        if self._pages is None:
            self._pages, self._problems = {}, []
            for path in sorted(self.docs_dir.rglob("*.md")):
                page = path.relative_to(self.docs_dir).as_posix()
                try:
                    self._pages[page] = read_page(path, page, self.display(page))
                except KdocsError as error:
                    self._problems.append(error)
        return self._pages

    def pages(self) -> list[PageMeta]:
        """Every page whose front matter is valid."""
        return list(self._read().values())

    def meta(self, page: str) -> PageMeta:
        """The page's front matter; raises its error when it has one."""
        pages = self._read()
        if page in pages:
            return pages[page]
        return read_page(self.docs_dir / page, page, self.display(page))

    def problems(self) -> list[KdocsError]:
        """Front matter errors of every page, and tags on a site without a tag index page."""
        pages = self._read()
        problems = list(self._problems)
        if TAG_INDEX not in pages:
            problems.extend(
                InvalidInputError(
                    Location(self.display(meta.page), meta.tags_line),
                    f"tags need the tag index page {self.display(TAG_INDEX)}"
                    " (a page with {{ tag_index() }}); `kdocs new guide` expects it too",
                )
                for meta in pages.values()
                if meta.tags
            )
        return problems

    def guides(self) -> list[Guide]:
        """Guides with valid front matter, by category then title."""
        found = [
            Guide(meta, page.split("/")[1], self.date_of(meta))
            for page, meta in self._read().items()
            if is_guide(page)
        ]
        return sorted(found, key=lambda g: (g.category, g.meta.title.lower()))

    def date_of(self, meta: PageMeta) -> str:
        """The front matter's date; for a guide without one, git's last commit of the page."""
        if meta.last_modified_on or not is_guide(meta.page):
            return meta.last_modified_on
        return self.git_dates().get(meta.page, "")

    def git_dates(self) -> dict[str, str]:
        """Last commit date of every page under docs/, from one `git log` (none outside git)."""
        if self._git_dates is None:
            self._git_dates = _git_dates(self.docs_dir)
        return self._git_dates


def is_guide(page: str) -> bool:
    """`guides/<category>/<name>.md`, the one place guides live (index pages are not guides)."""
    parts = page.split("/")
    return len(parts) == 3 and parts[0] == GUIDES_FOLDER and parts[2] != "index.md"


def _git_dates(docs_dir: Path) -> dict[str, str]:
    try:
        done = subprocess.run(
            ["git", "log", "--format=%x00%cs", "--name-only", "--relative", "--", "."],
            cwd=docs_dir, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return {}
    dates: dict[str, str] = {}
    date = ""
    for line in done.stdout.splitlines() if done.returncode == 0 else ():
        if line.startswith("\0"):
            date = line[1:]
        elif line and line not in dates:  # newest first: the first date seen is the last change
            dates[line] = date
    return dates


def tag_anchor(tag: str) -> str:
    return "tag-" + (re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-") or "x")


def page_link(from_page: str, to_page: str, anchor: str = "") -> str:
    target = posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")
    return target + (f"#{anchor}" if anchor else "")


def literal_text(value: str) -> str:
    """Front matter text shown literally: one line, no Markdown, no HTML, no table cell break."""
    text = " ".join(value.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)


def tag_links(tags: tuple[str, ...], from_page: str) -> str:
    return " ".join(
        f"[{literal_text(tag)}]({page_link(from_page, TAG_INDEX, tag_anchor(tag))}){{ .kdocs-tag }}"
        for tag in tags
    )


def guide_list(index: SiteIndex, from_page: str) -> str:
    """A bulleted list of every guide: linked title and description."""
    lines = []
    for guide in index.guides():
        line = f"- [{literal_text(guide.meta.title)}]({page_link(from_page, guide.meta.page)})"
        if guide.meta.description:
            line += f": {literal_text(guide.meta.description)}"
        lines.append(line)
    return "\n".join(lines) if lines else "*No guide yet.*"


def guide_table(index: SiteIndex, from_page: str) -> str:
    """One table per category: guide, what it is about, tags, last change."""
    parts: list[str] = []
    category = None
    for guide in index.guides():
        if guide.category != category:
            category = guide.category
            parts += ["", f"## {guide.category_title}", "", "| Guide | About | Tags | Updated |"]
            parts.append("| --- | --- | --- | --- |")
        parts.append(
            f"| [{literal_text(guide.meta.title)}]({page_link(from_page, guide.meta.page)}) "
            f"| {literal_text(guide.meta.description)} | {tag_links(guide.meta.tags, from_page)} "
            f"| {guide.date} |"
        )
    return "\n".join(parts).strip() if parts else "*No guide yet.*"


def tag_index(index: SiteIndex, from_page: str) -> str:
    """A section per tag (with the anchor tag links use), listing every page that carries it."""
    by_tag: dict[str, list[PageMeta]] = {}
    for meta in sorted(index.pages(), key=lambda m: m.title.lower()):
        for tag in meta.tags:
            by_tag.setdefault(tag, []).append(meta)
    parts: list[str] = []
    for tag in sorted(by_tag, key=str.lower):
        parts += ["", f"## {literal_text(tag)} {{ #{tag_anchor(tag)} }}", ""]
        parts += [
            f"- [{literal_text(m.title)}]({page_link(from_page, m.page)})" for m in by_tag[tag]
        ]
    return "\n".join(parts).strip() if parts else "*No tagged page yet.*"


def page_header(meta: PageMeta, date: str, from_page: str) -> str:
    """Author, last change and tags as one paragraph, or "" when the page gives none."""
    parts = []
    if meta.author:
        parts.append(f"By [{meta.author}]({meta.author_url}){{ .kdocs-author rel=author }}")
    if date:
        parts.append(f'Last modified on <time datetime="{date}">{date}</time>')
    if meta.tags:
        parts.append(tag_links(meta.tags, from_page))
    if not parts:
        return ""
    return " · ".join(parts) + "\n{ .kdocs-meta }"


def insert_header(markdown: str, header: str) -> str:
    """Put the header under the page's first `# ` heading (or on top when it has none)."""
    if not header:
        return markdown
    lines = markdown.split("\n")
    in_fence = False
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and re.match(r"^#[ \t]+\S", line):
            return "\n".join([*lines[: number + 1], "", header, "", *lines[number + 1 :]])
    return f"{header}\n\n{markdown}"
