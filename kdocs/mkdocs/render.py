"""A page's Jinja pass that reports a content error as one `page:line` line.

mkdocs-macros renders each page as a Jinja template and, on any error, logs a
traceback and calls exit(): the end of `mkdocs serve`, and a SystemExit every
caller would have to catch. Its line numbers also ignore the front matter. The
plugin gives the macros plugin this `render` instead (the method its page
event calls), which behaves the same for valid pages and, on an error, raises
SiteProblems (build) or shows the error in the page (preview). Opt-outs
(`render_macros`, `render_by_default`) behave as in mkdocs-macros.

A page whose only template code is literal `{{ snippet("...") }}` calls (most
guides) skips Jinja: each call is made directly and its Markdown put where
Jinja would put it, byte for byte, and so does a page with no template code
at all (an index, a prose page), of which Jinja would only drop the last
newline (tests/site/test_literal_calls.py builds pages both ways and compares
every file). Compiling a page as a template cost more than everything else
kdocs does to it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdocs.catalog import literal_call
from kdocs.errors import KdocsError, Location
from kdocs.mkdocs.errors import SiteProblems
from kdocs.site import guides
from kdocs.site.frontmatter import body_offset
from kdocs.site.render import indent_blocks
from kdocs.site.template import page_error

if TYPE_CHECKING:
    from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.plugins.kdocs")
Report = Callable[[KdocsError], str]  # raises (build) or returns an error box (preview)
# (page, body line of the call, its arguments by name) -> the block's Markdown
SnippetCall = Callable[["Page", int, dict[str, str]], str]
# A call Jinja would evaluate as Python does: no whitespace control, literal arguments.
LITERAL_CALL = re.compile(r"\{\{\s*snippet\((?P<args>[^{}]*?)\)\s*\}\}")
# Marks the macros module's snippet() as kdocs' own (a project may define another).
KDOCS_SNIPPET = "kdocs_snippet"


def reporting_render(
    macros: Any, index: guides.SiteIndex, report: Report, snippet: SnippetCall
) -> Callable[..., str]:
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
            why: list[str] = []
            if _direct_calls_allowed(macros, meta):
                call = lambda line, args: snippet(page, line, args)  # noqa: E731
                direct = render_literal_calls(markdown, macros.env, call, why)
                if direct is not None:
                    return prefix + direct
            else:
                why.append("snippet is not kdocs' macro here (a variable or another macro)")
            # `kdocs build -v`: a contributor sees why a page took the slower, general path
            log.debug("%s: rendered by Jinja: %s", index.display(page.file.src_uri), why[0])
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


def _direct_calls_allowed(macros: Any, meta: dict[str, Any]) -> bool:
    """snippet() is kdocs' macro, not shadowed by a variable of the page or the site."""
    macro = macros.macros.get("snippet")
    shadowed = "snippet" in meta or "snippet" in macros.variables
    return getattr(macro, KDOCS_SNIPPET, False) and not shadowed


def render_literal_calls(
    markdown: str,
    env: Any,
    call: Callable[[int, dict[str, str]], str],
    why: list[str] | None = None,
) -> str | None:
    """What Jinja would make of a page whose only template code is literal snippet() calls;
    None for any other page (Jinja renders it), the reason then appended to `why`."""
    plain_jinja = (
        env.variable_start_string == "{{"
        and env.variable_end_string == "}}"
        and env.line_statement_prefix is None
        and env.line_comment_prefix is None
        and env.newline_sequence == "\n"
        and env.finalize is None
        and env.autoescape is False
    )
    if not plain_jinja:
        return _refused(why, "the Jinja settings differ from the ones the fast path knows")
    if "\r" in markdown:
        return _refused(why, "carriage returns in the page")
    if not env.keep_trailing_newline and markdown.endswith("\n"):
        markdown = markdown[:-1]  # as Jinja's lexer does
    calls = []
    for match in LITERAL_CALL.finditer(markdown):
        args = literal_call(match.group("args"))
        if args is None:
            line = markdown.count("\n", 0, match.start()) + 1
            return _refused(why, f"body line {line}: a snippet() call with computed arguments")
        calls.append((match, args))
    starts = (env.variable_start_string, env.block_start_string, env.comment_start_string)
    rest = LITERAL_CALL.sub("", markdown) if calls else markdown
    other = [s for s in starts if s in rest]
    if other:
        return _refused(why, f"template code other than literal snippet() calls ({other[0]!r})")
    out: list[str] = []
    done = 0
    for match, args in calls:
        line = markdown.count("\n", 0, match.start()) + 1
        out += [markdown[done : match.start()], str(call(line, args))]
        done = match.end()
    out.append(markdown[done:])
    return "".join(out)


def _refused(why: list[str] | None, reason: str) -> None:
    if why is not None:
        why.append(reason)
    return None


class _GitInfoOnUse(Mapping):
    """mkdocs-macros' `git` variable, read from git the first time a page uses it.

    mkdocs-macros runs git twelve times at every build (and every preview rebuild) to fill
    it: ~22 ms of a one-page build, for a variable kdocs' guides do not use.
    """

    def __init__(self, read: Callable[[], dict | None]) -> None:
        self._read = read
        self._info: dict | None = None

    def _get(self) -> dict:
        if self._info is None:
            self._info = self._read() or {}
        return self._info

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def defer_git_info() -> None:
    """Make mkdocs-macros read its `git` variable only when a page uses it (before its
    on_config, which reads it)."""
    from mkdocs_macros import context

    read = getattr(context, "get_git_info", None)  # another mkdocs-macros: leave it be
    if read is not None and not getattr(read, "kdocs_deferred", False):
        deferred = lambda: _GitInfoOnUse(read)  # noqa: E731
        deferred.kdocs_deferred = True  # type: ignore[attr-defined]
        context.get_git_info = deferred


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
