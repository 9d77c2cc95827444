"""Wiring of the stages for one site build: catalog → schema → results → site.

Both the `kdocs` CLI and the MkDocs macros use this, so a page shows a
snippet only after the same checks `kdocs build` runs. Each stage keeps its
one job; this module only calls them in order and caches per content hash,
so a snippet shown on several pages is read and validated once per build.
"""

from __future__ import annotations

import hashlib
import posixpath
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kdocs import snippets
from kdocs.catalog import is_scenario
from kdocs.config import Settings
from kdocs.errors import InvalidInputError, KdocsError, Location, UnusableInputError
from kdocs.resource.sidecars import spec_path
from kdocs.results import ClusterResult, ResultStore
from kdocs.site import publish
from kdocs.site.badges import cluster_badge, scenario_badge, schema_badge
from kdocs.site.check_cache import CheckCache, fingerprint
from kdocs.site.links import badge_link
from kdocs.site.render import Badge, BadgeStandIns, render_block

if TYPE_CHECKING:
    from kdocs.catalog import SnippetRef
    from kdocs.schema.apart import StartedChecks, Verdict

SNIPPETS_URL = "snippets"  # where raw snippet files are published in the site
CHECK_CACHE = "schema-checks.json"  # next to the results file
# Static checks by content, for the life of the process: `kdocs serve` rebuilds
# every page on each save, but re-validates only the files whose bytes changed.
_STATIC_CHECKS: dict[tuple, Badge] = {}


@dataclass(frozen=True)
class VerifiedSnippet:
    """A snippet that passed its static check, with its cluster result if any."""

    snippet: snippets.Snippet
    static: Badge  # what the offline check proved (schema versions, or a valid scenario)
    cluster: ClusterResult | None


class SitePipeline:
    """Verifies and renders snippets for one build; raises KdocsError on any failure."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.results = ResultStore(settings.results_file, settings.root)
        self._verified: dict[str, VerifiedSnippet] = {}
        # Files do not change within one build: each is read, resolved and checked once.
        self._by_rel: dict[str, VerifiedSnippet] = {}
        self._shown: dict[tuple[str, str | None], str] = {}
        self.checks = CheckCache(
            settings.results_file.parent / CHECK_CACHE,
            fingerprint(settings.kubernetes_versions, settings.crd_dirs),
        )
        self.used: dict[str, bytes] = {}  # snippet path -> the bytes to publish as download
        self.rendered: Counter[str] = Counter()  # page URL -> blocks injected into it
        self.stand_ins = BadgeStandIns(enabled=False)  # the plugin enables it for plain sites
        # check_references validates every page's snippets in one batch, version by version;
        # verify() then finds each file read and its outcome here
        self._loaded: dict[str, snippets.Snippet] = {}
        self._spec_shas: dict[str, str] = {}  # rel -> its sidecar's hash, as the batch read it
        self._outcomes: dict[tuple[str, str, str], Verdict | KdocsError] = {}
        self._references: list[SnippetRef] | None = None  # found by start_checks
        self._started: StartedChecks | None = None  # the batch under way
        self._wanted: dict[Path, tuple[str, str, str]] = {}  # its files' keys

    def verify(self, rel: str) -> VerifiedSnippet:
        """Load, check renderability, validate the whole file; refuse a recorded cluster failure."""
        known = self._by_rel.get(rel)
        if known is not None:
            return known
        snippet = self._loaded.pop(rel, None) or snippets.load(self.settings.snippets_dir, rel)
        cached = self._verified.get(snippet.sha256)
        if cached is not None and cached.snippet.rel == snippet.rel:
            self._by_rel[rel] = cached
            return cached
        snippets.check_renderable(snippet)
        snippet.sections()  # malformed markers fail even if no section is shown
        static = self._static_check(snippet, self._spec_shas.pop(rel, None))
        cluster = self.results.lookup(snippet.sha256)
        if cluster is not None and not cluster.passed:
            raise InvalidInputError(
                Location(f"snippets/{snippet.rel}"),
                f"failed on the cluster ({cluster.provider}): {cluster.message}; fix it, then"
                f" run `{cluster.recheck}`",
            )
        verified = VerifiedSnippet(snippet, static, cluster)
        self._verified[snippet.sha256] = verified
        self._by_rel[rel] = verified
        return verified

    def static_check(self, rel: str) -> tuple[snippets.Snippet, Badge]:
        """The snippet and what its offline check proved, without its cluster result
        (`kdocs status` reports a recorded failure instead of refusing it)."""
        snippet = snippets.load(self.settings.snippets_dir, rel)
        snippets.check_renderable(snippet)
        snippet.sections()
        return snippet, self._static_check(snippet)

    def _static_check(self, snippet: snippets.Snippet, spec_sha: str | None = None) -> Badge:
        """Schema validation for manifests; the scenario parser for scenario files.
        `spec_sha`: the sidecar's hash when the batch already read it with these bytes."""
        if spec_sha is None:
            spec_sha = _spec_sha(snippet.path)
        key = (snippet.rel, snippet.sha256, spec_sha, self.settings.kubernetes_versions)
        if key in _STATIC_CHECKS:
            return _STATIC_CHECKS[key]
        display = f"snippets/{snippet.rel}"
        if is_scenario(snippet.path):
            # Not kept on disk: a scenario's validity also depends on the files it names.
            # The lint costs little more than parsing; node names need the topologies,
            # which only `kdocs validate` and `kdocs test` read (the site never imports
            # the cluster stage).
            from kdocs.scenario.lint import check_scenario

            settings = self.settings
            scenario, problems = check_scenario(
                snippet.path, settings.root, settings.snippets_dir, None
            )
            if problems or scenario is None:
                raise problems[0]
            badge = scenario_badge(scenario.name, len(scenario.steps))
        else:
            stored = self.checks.key(snippet.rel, snippet.sha256, spec_sha)
            badge = self.checks.get(stored)
            if badge is None:
                outcome = self._outcomes.pop((snippet.rel, snippet.sha256, spec_sha), None)
                if outcome is None:
                    # Imported here: an unchanged rebuild never loads the schema engine.
                    from kdocs.schema.apart import Verdict
                    from kdocs.schema.snippet import check_snippet

                    checked = check_snippet(self.settings, snippet.path, display=display)
                    outcome = Verdict.of(checked)
                elif isinstance(outcome, KdocsError):
                    raise outcome
                if not outcome.valid:  # a limit crossed or a binary file is unusable (exit 2)
                    raise (UnusableInputError if outcome.unusable else InvalidInputError)(
                        None, outcome.first_error
                    )
                badge = schema_badge(outcome.versions_passed)
                self.checks.put(stored, badge)
        _STATIC_CHECKS[key] = badge
        return badge

    def render(
        self,
        rel: str,
        *,
        page_url: str,
        section: str | None = None,
        title: str | None = None,
        hl_lines: str | None = None,
    ) -> str:
        """Markdown for a snippet on the page at `page_url` (a site-relative URL)."""
        verified = self.verify(rel)
        shown = self._shown_text(verified.snippet, section)
        self.used[verified.snippet.rel] = verified.snippet.data
        self.rendered[page_url] += 1
        cluster = cluster_badge(verified.cluster)
        link = badge_link(self.settings.docs_dir, page_url, verified.snippet.rel, verified.cluster)
        return render_block(
            shown,
            title=title or posixpath.basename(verified.snippet.rel),
            download_url=download_url(page_url, verified.snippet.rel),
            badges=[verified.static, replace(cluster, link=link)],
            hl_lines=hl_lines,
            source={
                "snippet": verified.snippet.rel,
                "section": section or "",
                "sha256": verified.snippet.sha256,
            },
            stand_in=self.stand_ins,
        )

    def shown_text(self, rel: str, section: str | None, sha256: str) -> str:
        """What a block of `rel` must show: from the bytes this build validated (the badge
        names their hash), else from the file as it is now."""
        verified = self._verified.get(sha256)
        if verified is not None and verified.snippet.rel == rel:
            return self._shown_text(verified.snippet, section)
        return snippets.load(self.settings.snippets_dir, rel).shown_text(section)

    def _shown_text(self, snippet: snippets.Snippet, section: str | None) -> str:
        key = (snippet.sha256, section)
        if key not in self._shown:
            self._shown[key] = snippet.shown_text(section)
        return self._shown[key]

    def publish(self, site_dir: Path) -> None:
        """Copy the raw files the pages link to into the built site, byte for byte (the bytes
        this build validated); the last build's copies are reused (kdocs/site/publish.py)."""
        publish.publish(site_dir / SNIPPETS_URL, self.used)

    def stale(self) -> list[str]:
        """Snippets verified so far whose cluster result no longer applies: an earlier
        version passed, these bytes have no result (a comment-only edit is enough)."""
        proven = self.results.proven_snippets()
        shown = self._verified.values()
        return sorted(v.snippet.rel for v in shown if v.cluster is None and v.snippet.rel in proven)

    def start_checks(self) -> None:
        """Find every literal snippet() call of every page and start their schema checks
        (in a child process where that pays, `kdocs.schema.apart`); `check_references`
        waits for them. The site build starts them before MkDocs lists its files."""
        from kdocs.catalog import page_references

        self._references = page_references(self.settings)
        self._check_in_batch(sorted({ref.path for ref in self._references}))

    def check_references(self) -> list[KdocsError]:
        """Resolve every literal snippet() call of every page before MkDocs renders one:
        the problems, in page order (the checks are started here if they were not)."""
        if self._references is None:
            self.start_checks()
        references, self._references = self._references or [], None
        started, self._started = self._started, None
        if started is not None:
            for path, outcome in started.result().items():
                self._outcomes[self._wanted.pop(path)] = outcome
        problems: list[KdocsError] = []
        for ref in references:
            try:
                self._shown_text(self.verify(ref.path).snippet, ref.section)
            except KdocsError as error:
                problems.append(
                    type(error)(Location(ref.page, ref.line), f"snippet {ref.path!r}: {error}")
                )
        return problems

    def cancel_checks(self) -> None:
        """The build stopped before it needed the verdicts: stop the child checking."""
        started, self._started = self._started, None
        if started is not None:
            started.cancel()

    def _check_in_batch(self, rels: list[str]) -> None:
        """Start the schema check of every file the pages name that has no kept verdict,
        versions outermost (`kdocs.schema.snippet.check_snippets`): one version's compiled
        schemas are alive at a time, not all of them. Outcomes are what `check_snippet`
        gives file by file; problems are reported later, in page order, by `verify`."""
        wanted: dict[Path, tuple[str, str, str]] = {}
        for rel in rels:
            try:
                snippet = snippets.load(self.settings.snippets_dir, rel)
            except KdocsError:
                continue  # verify() reports it at the page's call
            self._loaded[rel] = snippet
            if is_scenario(snippet.path):
                continue
            spec_sha = self._spec_shas[rel] = _spec_sha(snippet.path)
            key = (snippet.rel, snippet.sha256, spec_sha, self.settings.kubernetes_versions)
            stored = self.checks.key(snippet.rel, snippet.sha256, spec_sha)
            if key not in _STATIC_CHECKS and self.checks.get(stored) is None:
                wanted[snippet.path] = key[:3]
        if len(wanted) < 2:
            return  # nothing to share: verify() checks it as usual
        from kdocs.schema.apart import start_checks_apart

        files = [(path, f"snippets/{key[0]}") for path, key in wanted.items()]
        self._wanted = wanted
        self._started = start_checks_apart(self.settings, files)

    def release_schemas(self) -> None:
        """Drop the compiled schemas once every page's snippets are checked (a full build).

        They are ~50 MiB at 8 versions (parsed JSON and the validators built from it);
        held to the end, they added to the pages MkDocs keeps until it writes the search
        index, and a full build of 500 pages peaked at 2.1x plain MkDocs. A snippet a page
        names only through a computed call is rare; it recompiles what it needs.
        No garbage collection after: schemas and validators hold no reference cycles, so
        they are freed as the engine goes (a full collection here found nothing, at 1 and
        at 50 pages, and cost ~10 ms).
        """
        api = sys.modules.get("kdocs.schema.api")  # never loaded: nothing was compiled
        if api is not None:
            api.release_engines()


def _spec_sha(path: Path) -> str:
    """The hash of a fragment's embed sidecar, or "" when it has none."""
    sidecar = spec_path(path)
    return hashlib.sha256(sidecar.read_bytes()).hexdigest() if sidecar else ""


def download_url(page_url: str, rel: str) -> str:
    """Relative link from a page (`guides/x/` or `guides/x.html`) to its published raw file."""
    page_dir = page_url if page_url.endswith("/") else posixpath.dirname(page_url) + "/"
    target = posixpath.join(SNIPPETS_URL, rel)
    return posixpath.relpath(target, page_dir.rstrip("/") or ".")
