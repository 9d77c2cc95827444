"""A page's Jinja pass that reports a content error as one `page:line` line.

mkdocs-macros renders each page as a Jinja template and, on any error, logs a
traceback and calls exit(): the end of `mkdocs serve`, and a SystemExit every
caller would have to catch. Its line numbers also ignore the front matter. The
plugin gives the macros plugin this `render` instead (the method its page
event calls), which behaves the same for valid pages and, on an error, raises
SiteProblems (build) or shows the error in the page (preview). Opt-outs
(`render_macros`, `render_by_default`) behave as in mkdocs-macros.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdocs.errors import KdocsError, Location
from kdocs.mkdocs.errors import SiteProblems
from kdocs.site import guides
from kdocs.site.frontmatter import body_offset
from kdocs.site.render import indent_blocks
from kdocs.site.template import page_error

if TYPE_CHECKING:
    from mkdocs.structure.pages import Page

Report = Callable[[KdocsError], str]  # raises (build) or returns an error box (preview)


def reporting_render(macros: Any, index: guides.SiteIndex, report: Report) -> Callable[..., str]:
    """A drop-in for `MacrosPlugin.render(markdown, force_rendering=False)`."""

    def render(markdown: str, force_rendering: bool = False) -> str:
        page = macros.page
        meta = dict(page.meta) if page is not None else {}
        if meta.get("render_macros") is False:
            return markdown
        if not macros.config["render_by_default"] and not (
            force_rendering or meta.get("render_macros") is True
        ):
            return markdown
        prefix = ""
        if page is not None and markdown is macros.markdown:
            try:
                index.meta(page.file.src_uri)
            except KdocsError as error:  # shown above the page; the rest still renders
                prefix = report(error) + "\n\n"
        try:
            variables = {**macros.variables, **meta}
            return prefix + macros.env.from_string(markdown).render(**variables)
        except SiteProblems:
            raise  # a macro's own error, already one page:line line
        except Exception as error:
            display = index.display(page.file.src_uri) if page is not None else "page"
            names = [*macros.variables, *macros.macros, *macros.filters]
            offset = front_matter_lines(page) if markdown is macros.markdown else 0
            return prefix + report(page_error(error, display, offset, names))

    return render


def front_matter_lines(page: Page | None) -> int:
    """Lines before the body MkDocs hands to the templates (0 without a page)."""
    if page is None or page.file.abs_src_path is None:
        return 0
    return body_offset(Path(page.file.abs_src_path).read_text(encoding="utf-8-sig"))


def finish_markdown(markdown: str, page: str, index: guides.SiteIndex, report: Report) -> str:
    """After the Jinja pass: the author/date/tags header, and injected blocks indented at
    their call's column."""
    try:
        meta = index.meta(page)
    except KdocsError:
        meta = None  # already reported while rendering
    if meta is not None:
        header = guides.page_header(meta, index.date_of(meta), page)
        markdown = guides.insert_header(markdown, header)
    try:
        return indent_blocks(markdown)
    except KdocsError as error:
        return indent_blocks(report(type(error)(Location(index.display(page)), error.reason)))
