"""The kdocs MkDocs plugin: snippets checked, injected, read back and published by MkDocs itself.

Enabled in mkdocs.yml (`plugins: [search, macros, kdocs]`; the entry point
`kdocs` in pyproject.toml), so `mkdocs build --strict`, `mkdocs serve`,
`kdocs build` and `kdocs serve` give the same guarantees. Events, in the order
MkDocs calls them:

- on_config: the project's settings, one SitePipeline and front matter index
  per build (the macros module reaches them through `kdocs_plugin`);
  mkdocs-macros' `git` variable read on first use only;
- on_pre_build: every page's front matter and literal snippet() call checked
  before MkDocs writes anything (one line per problem), then the compiled
  schemas dropped; the macros plugin gets a page render that reports instead
  of calling exit(), and makes literal snippet() calls without Jinja on pages
  that have no other template code (render.py);
- on_page_markdown, after the macros' pass: page header, block indentation;
- on_page_content, first: the badges' HTML put back where the Markdown carried
  a word standing in for it (kdocs/site/render.py BadgeStandIns);
- on_post_page, last: the read-back. The finished HTML of a page with
  injected blocks is scanned (only each block's `<pre>` to its badges) and
  every block compared with the bytes that were validated, and counted
  against the blocks the page asked for. Nothing is kept per page;
- on_post_build: the snippet files published (the last build's copies,
  moved aside before MkDocs empties the site folder, are reused:
  kdocs/site/publish.py), then SiteProblems if any block differs.

Under `mkdocs serve` (the preview) a content error shows in the page and as
one line in the terminal, and the server keeps serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority

from kdocs.config import Settings, load_settings
from kdocs.errors import KdocsError, Location
from kdocs.mkdocs.config import KdocsPluginConfig
from kdocs.mkdocs.errors import SiteProblems
from kdocs.mkdocs.render import (
    defer_git_info,
    finish_markdown,
    front_matter_lines,
    reporting_render,
)
from kdocs.output.github import report_problem
from kdocs.pipeline import SNIPPETS_URL, SitePipeline
from kdocs.site import guides, publish
from kdocs.site.render import PLAIN_EXTENSIONS, PLAIN_PLUGINS, error_box
from kdocs.site.template import calling_line
from kdocs.site.verify import verify_page

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

    from kdocs.status import SiteStatus

log = logging.getLogger("mkdocs.plugins.kdocs")


class KdocsPlugin(BasePlugin[KdocsPluginConfig]):
    def __init__(self) -> None:
        self.preview = False
        self._settings: Settings | None = None
        self._pipeline: SitePipeline | None = None
        self._index: guides.SiteIndex | None = None
        self._status: SiteStatus | None = None
        self._site_dir: Path | None = None
        self.blocks_checked = 0
        self.problems: list[KdocsError] = []

    # Defining on_startup also keeps one instance across the preview's rebuilds.
    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        self.preview = command == "serve"

    @event_priority(50)  # before the macros plugin's on_config, which runs define_env
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = Path(config.config_file_path).parent if config.config_file_path else None
        self._settings = load_settings(root)
        self._pipeline = SitePipeline(self._settings)
        self._pipeline.stand_ins.enabled = _plain_markdown(config)
        docs = self._settings.docs_dir.relative_to(self._settings.root).as_posix()
        self._index = guides.SiteIndex(self._settings.docs_dir, docs)
        self._status = None
        self._site_dir = Path(config.site_dir)
        self.blocks_checked, self.problems = 0, []
        defer_git_info()
        if self.preview:  # a saved snippet or CRD rebuilds the pages that show it
            folders = [self._settings.snippets_dir, *self._settings.crd_dirs]
            watched = [str(d) for d in folders if d.is_dir()]
            config.watch.extend(w for w in watched if w not in config.watch)
        return config

    @property
    def settings(self) -> Settings:
        return self._ready(self._settings)

    @property
    def pipeline(self) -> SitePipeline:
        return self._ready(self._pipeline)

    @property
    def index(self) -> guides.SiteIndex:
        return self._ready(self._index)

    def status(self) -> SiteStatus:
        """What is tested, read once per build for the proof pages (the preview re-reads it
        on each rebuild: a new result shows on the next save)."""
        if self._status is None:
            from kdocs.status import site_status  # only sites with proof pages parse scenarios

            self._status = site_status(self.pipeline)
        return self._status

    def macro(self, page: Page, render: Callable[[], str], line: int | None = None) -> str:
        """A macro's Markdown, or its error at the call's page line (`line`: the call's
        body line when Jinja is not running it)."""
        try:
            return render()
        except KdocsError as error:
            line = line or calling_line()
            display = self.index.display(page.file.src_uri)
            where = Location(display, line + front_matter_lines(page) if line else None)
            return self.report(type(error)(where, error.reason))

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        self._status = None
        macros = _macros_plugin(config)
        macros.render = reporting_render(macros, self.index, self.report, self.literal_snippet)
        if not self.preview:  # checked while MkDocs lists files and loads the theme
            self.pipeline.start_checks()
        if self.config.publish_snippets:  # before MkDocs empties the site folder
            publish.keep(Path(config.site_dir) / SNIPPETS_URL)

    @event_priority(100)  # first: before any page is read, and before other plugins' work
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        if not self.preview:
            problems = self.index.problems() + self.pipeline.check_references()
            if problems:
                raise _problems(problems)
            self.pipeline.release_schemas()
        return files

    def snippet(
        self,
        page: Page,
        path: str,
        section: str | None = None,
        title: str | None = None,
        hl_lines: str | None = None,
        *,
        line: int | None = None,
    ) -> str:
        """The `snippet()` macro: the block and its badges, or the error at the call's line."""

        def render() -> str:
            try:
                return self.pipeline.render(
                    path, page_url=page.url, section=section, title=title, hl_lines=hl_lines
                )
            except KdocsError as error:
                raise type(error)(None, f"snippet {path!r}: {error}") from None

        return self.macro(page, render, line)

    def literal_snippet(self, page: Page, line: int, args: dict[str, str]) -> str:
        """A literal snippet() call made without Jinja (kdocs/mkdocs/render.py)."""
        return self.snippet(page, line=line, **args)

    def report(self, error: KdocsError) -> str:
        """Preview: one line in the terminal and a box in the page. Build: stop."""
        if self.preview:
            report_problem(error)
            return error_box(str(error))
        raise SiteProblems([error])

    @event_priority(-50)  # after the macros plugin's Jinja pass
    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        return finish_markdown(markdown, page.file.src_uri, self.index, self.report)

    @event_priority(100)  # first: other plugins see the badges, never their stand-ins
    def on_page_content(
        self, html: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        return self.pipeline.stand_ins.restore(html)

    @event_priority(-100)  # last: what the file will hold, after every other plugin
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str | None:
        if self.config.verify:
            where = f"{Path(config.site_dir).name}/{page.file.dest_uri}"
            wanted = self.pipeline.rendered.get(page.url, 0)
            checked, problems = verify_page(where, output, self.pipeline.shown_text, wanted)
            self.blocks_checked += checked
            for problem in problems:
                if self.preview:
                    report_problem(problem)
                self.problems.append(problem)
        return output

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.config.publish_snippets:
            self.pipeline.publish(Path(config.site_dir))
        self.pipeline.checks.save()
        if self.problems and not self.preview:
            raise _problems(self.problems)
        if self.config.verify:
            log.info(f"kdocs: {self.blocks_checked} injected blocks match their files")
        if line := self.stale_line():
            log.info(line)

    def on_build_error(self, *, error: Exception) -> None:
        if self._pipeline is not None:
            self._pipeline.cancel_checks()
        if self._site_dir is not None:  # the kept snippet files must not stay in the site
            publish.drop(self._site_dir)

    def stale_line(self) -> str | None:
        stale = self.pipeline.stale()
        if not stale:
            return None
        many = len(stale) > 1
        return (
            f"kdocs: {len(stale)} snippet{'s' if many else ''} changed since"
            f" {'they were' if many else 'it was'} proven on a cluster, badge now"
            f" 'not run' (run `kdocs test`): {', '.join(stale)}"
        )

    def _ready(self, value: Any) -> Any:
        if value is None:
            raise PluginError("kdocs: the kdocs plugin was used before MkDocs configured it")
        return value


def _problems(problems: list[KdocsError]) -> SiteProblems:
    if len(problems) > 1:
        for problem in problems:
            log.error(str(problem))
    return SiteProblems(problems)


def _plain_markdown(config: MkDocsConfig) -> bool:
    """Only extensions and plugins known to leave inline HTML alone (BadgeStandIns); when
    others are configured, `kdocs build -v` says which, once per build."""
    names = [e for e in config.markdown_extensions if isinstance(e, str)]
    if len(names) != len(config.markdown_extensions):
        log.debug("badges go through Markdown (slower): an extension given as an object")
        return False
    extensions = {name.removeprefix("markdown.extensions.") for name in names}
    unknown = sorted(extensions - PLAIN_EXTENSIONS) + sorted(set(config.plugins) - PLAIN_PLUGINS)
    if unknown:
        log.debug(
            "badges go through Markdown (slower): not known to leave inline HTML alone: %s",
            ", ".join(unknown),
        )
    return not unknown


def _macros_plugin(config: MkDocsConfig) -> Any:
    from mkdocs_macros.plugin import MacrosPlugin

    for plugin in config.plugins.values():
        if isinstance(plugin, MacrosPlugin):
            return plugin
    raise PluginError("kdocs: the kdocs plugin needs the macros plugin enabled in mkdocs.yml")


def kdocs_plugin(config: MkDocsConfig) -> KdocsPlugin:
    """The project's kdocs plugin, for the macros module; one clear line when it is missing."""
    for plugin in config.plugins.values():
        if isinstance(plugin, KdocsPlugin):
            return plugin
    raise PluginError("kdocs: add `- kdocs` to the plugins of mkdocs.yml (after `- macros`)")
