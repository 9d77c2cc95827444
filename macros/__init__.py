"""mkdocs-macros module: wires kdocs into the pages, nothing more.

All logic lives in `kdocs` (importable without MkDocs); this module exposes
the `snippet()` macro, the guide lists generated from front matter and the
site variables, adds each page's author/date/tags header, fixes the
indentation of injected blocks, and publishes raw snippet files.

Errors: under `kdocs build` (and a plain `mkdocs build`) a content error stops
the build with one `page:line` line; under `kdocs serve` it shows in the page
and as the same line in the terminal, and the server keeps serving.
"""

from __future__ import annotations

import os
from pathlib import Path

from kdocs.config import load_settings
from kdocs.errors import KdocsError, Location
from kdocs.output.github import report_problem
from kdocs.pipeline import SitePipeline, publish
from kdocs.site import guides
from kdocs.site.badges import version_span
from kdocs.site.build import PREVIEW_ENV
from kdocs.site.frontmatter import body_offset
from kdocs.site.render import error_box, indent_blocks
from kdocs.site.template import PageError, calling_line, page_error


def define_env(env) -> None:
    settings = load_settings(Path(env.project_dir))
    pipeline = SitePipeline(settings)
    docs = settings.docs_dir.relative_to(settings.root).as_posix()
    index = guides.SiteIndex(settings.docs_dir, docs)
    env.variables["kdocs_pipeline"] = pipeline
    env.variables["kdocs_index"] = index
    env.variables["kubernetes_versions"] = list(settings.kubernetes_versions)
    env.variables["kubernetes_versions_label"] = version_span(settings.kubernetes_versions)

    def here() -> str:
        return env.page.file.src_uri

    @env.macro
    def snippet(path, section=None, title=None, hl_lines=None):
        """Inject snippets/PATH (or one section of it) as a tested, copyable code block."""
        try:
            return pipeline.render(
                path, page_url=env.page.url, section=section, title=title, hl_lines=hl_lines
            )
        except KdocsError as error:
            line = calling_line()
            offset = _offset(env) if line is not None else 0
            where = Location(index.display(here()), line + offset if line is not None else None)
            return _problem(type(error)(where, f"snippet {path!r}: {error}"))

    @env.macro
    def guide_list():
        """Every guide, linked with its description (generated from front matter)."""
        return guides.guide_list(index, here())

    @env.macro
    def guide_table():
        """Every guide by category: title, description, tags, last change."""
        return guides.guide_table(index, here())

    @env.macro
    def tag_index():
        """Every tag with the guides that carry it; tag links on pages point here."""
        return guides.tag_index(index, here())

    env.render = _render_reporting_lines(env, index)


def _render_reporting_lines(env, index: guides.SiteIndex):
    """Replace mkdocs-macros' render, which calls exit() on any error (killing `kdocs serve`)
    and reports lines shifted by the front matter, with the same rendering that raises
    (build) or shows (serve) one `page:line` error. Opt-outs behave as in mkdocs-macros."""

    def render(markdown: str, force_rendering: bool = False) -> str:
        page = env.page
        meta = dict(page.meta) if page is not None else {}
        if meta.get("render_macros") is False:
            return markdown
        if not env.config["render_by_default"] and not (
            force_rendering or meta.get("render_macros") is True
        ):
            return markdown
        prefix = ""
        if page is not None and markdown is env.markdown:
            try:
                index.meta(page.file.src_uri)
            except KdocsError as error:  # shown above the page; the rest still renders
                prefix = _problem(error) + "\n\n"
        try:
            return prefix + env.env.from_string(markdown).render(**{**env.variables, **meta})
        except PageError:
            raise  # a macro's error, already one page:line line
        except Exception as error:
            display = index.display(page.file.src_uri) if page is not None else "page"
            names = [*env.variables, *env.macros, *env.filters]
            offset = _offset(env) if markdown is env.markdown else 0
            return prefix + _problem(page_error(error, display, offset, names))

    return render


def _offset(env) -> int:
    return body_offset(Path(env.page.file.abs_src_path).read_text(encoding="utf-8-sig"))


def _problem(error: KdocsError) -> str:
    """Preview: one line in the terminal and a box in the page. Build: stop."""
    if os.environ.get(PREVIEW_ENV):
        report_problem(error)
        return error_box(str(error))
    raise PageError(error)


def on_post_page_macros(env) -> None:
    index: guides.SiteIndex = env.variables["kdocs_index"]
    page = env.page.file.src_uri
    try:
        meta = index.meta(page)
    except KdocsError:
        meta = None  # already reported while rendering
    markdown = env.markdown
    if meta is not None:
        header = guides.page_header(meta, index.date_of(meta), page)
        markdown = guides.insert_header(markdown, header)
    try:
        env.markdown = indent_blocks(markdown)
    except KdocsError as error:
        env.markdown = indent_blocks(
            _problem(type(error)(Location(index.display(page)), error.reason))
        )


def on_post_build(env) -> None:
    pipeline = env.variables["kdocs_pipeline"]
    publish(pipeline.settings, pipeline.used, Path(env.conf["site_dir"]))
