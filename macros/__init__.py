"""mkdocs-macros module: wires kdocs into the pages, nothing more.

All logic lives in `kdocs` (importable without MkDocs); this module only
exposes the `snippet()` macro and the site variables, fixes the indentation
of injected blocks once a page is rendered, and publishes raw snippet files.
"""

from __future__ import annotations

import os
from pathlib import Path

from kdocs.config import load_settings
from kdocs.errors import KdocsError
from kdocs.pipeline import SitePipeline, publish
from kdocs.site.badges import version_span
from kdocs.site.build import PREVIEW_ENV
from kdocs.site.render import error_box, indent_blocks


def define_env(env) -> None:
    settings = load_settings(Path(env.project_dir))
    pipeline = SitePipeline(settings)
    env.variables["kdocs_pipeline"] = pipeline
    env.variables["kubernetes_versions"] = list(settings.kubernetes_versions)
    env.variables["kubernetes_versions_label"] = version_span(settings.kubernetes_versions)

    @env.macro
    def snippet(path, section=None, title=None, hl_lines=None):
        """Inject snippets/PATH (or one section of it) as a tested, copyable code block."""
        page = env.page.file.src_uri
        try:
            return pipeline.render(
                path, page_url=env.page.url, section=section, title=title, hl_lines=hl_lines
            )
        except KdocsError as error:
            message = f"{page}: snippet {path!r}: {error}"
            if os.environ.get(PREVIEW_ENV):  # `kdocs serve`: show it, keep serving
                return error_box(message)
            raise MacroFailure(message) from None


def on_post_page_macros(env) -> None:
    try:
        env.markdown = indent_blocks(env.markdown)
    except KdocsError as error:
        raise MacroFailure(f"{env.page.file.src_uri}: {error}") from None


def on_post_build(env) -> None:
    pipeline = env.variables["kdocs_pipeline"]
    publish(pipeline.settings, pipeline.used, Path(env.conf["site_dir"]))


class MacroFailure(Exception):
    """A page cannot be built; the message names the page and the reason."""
