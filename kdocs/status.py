"""What is tested: every page, its snippets and sections, the scenarios that cover each
snippet, and each one's state, for `kdocs status` and the site's "What is tested" and
proof pages.

It reads and never runs: the catalog (pages, snippet calls, scenario files), the
scenario files parsed offline, the schema check of each snippet (kept verdicts
reused) and the results file. A unit's state comes from the results only:

- proven / failed: its newest record for the snippet's bytes today, every input
  of which (the scenario, the files it applies, the topology) still hashes the same;
- stale: records exist, but for other bytes (the snippet, the scenario or a file
  it uses changed since): the result no longer applies;
- not run: no record at all.

A snippet no scenario uses is covered by its default check, reported the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kdocs import catalog
from kdocs.errors import KdocsError
from kdocs.pipeline import SitePipeline
from kdocs.results import CHECK, SCENARIO, ResultStore, UnitRecord
from kdocs.scenario.model import Scenario
from kdocs.scenario.parse import load_scenario
from kdocs.site.steps import StepWords, scenario_words

PROVEN = "proven"
FAILED = "failed"
STALE = "stale"
NOT_RUN = "not run"
VALIDATED = "validated"  # a snippet checked offline that no cluster result covers
INVALID = "invalid"  # a snippet or scenario the offline check refuses
DEFAULT_CHECK = "default check"


@dataclass(frozen=True)
class UnitStatus:
    """One scenario's (or the default check's) state for one snippet or scenario file."""

    kind: str  # SCENARIO | CHECK
    name: str  # the scenario's name, or DEFAULT_CHECK
    source: str  # the file `kdocs test` runs it from (project-relative)
    state: str  # PROVEN | FAILED | STALE | NOT_RUN
    cluster: str = ""  # "kwok + Karpenter v1.14.1"
    kubernetes_version: str = ""
    date: str = ""  # of the record the state comes from (for STALE: the last one)
    seconds: float = 0.0
    message: str = ""


@dataclass(frozen=True)
class PageUse:
    page: str  # project-relative, e.g. docs/guides/x/y.md
    line: int
    section: str | None


@dataclass(frozen=True)
class SnippetStatus:
    rel: str  # under snippets/
    sha256: str
    sections: tuple[str, ...]
    used_on: tuple[PageUse, ...]
    offline: str  # VALIDATED | INVALID
    offline_detail: str  # what the offline check proved, or why it refused
    units: tuple[UnitStatus, ...]

    @property
    def state(self) -> str:
        """The snippet's one state: a failure wins, then proven, stale, validated."""
        if self.offline == INVALID:
            return INVALID
        states = {unit.state for unit in self.units}
        for state in (FAILED, PROVEN, STALE):
            if state in states:
                return state
        return VALIDATED


@dataclass(frozen=True)
class ScenarioStatus:
    name: str
    source: str  # project-relative
    rel: str  # under snippets/
    description: str = ""
    requires: tuple[str, ...] = ()
    snippets: tuple[str, ...] = ()  # the site's snippets it applies, under snippets/
    steps: tuple[StepWords, ...] = ()
    result: UnitStatus | None = None
    problem: str = ""  # a scenario file the parser refuses: its one-line error

    @property
    def state(self) -> str:
        if self.problem:
            return INVALID
        return self.result.state if self.result is not None else NOT_RUN


@dataclass(frozen=True)
class SiteStatus:
    snippets: tuple[SnippetStatus, ...]
    scenarios: tuple[ScenarioStatus, ...]
    pages: tuple[str, ...] = field(default=())  # every page, project-relative
    docs: str = "docs"  # the docs folder, project-relative

    def snippet(self, rel: str) -> SnippetStatus | None:
        return next((s for s in self.snippets if s.rel == rel), None)

    def scenario(self, name: str) -> ScenarioStatus | None:
        return next((s for s in self.scenarios if s.name == name), None)


def site_status(pipeline: SitePipeline) -> SiteStatus:
    """The whole site's status, using the build's pipeline (its results and kept verdicts)."""
    settings = pipeline.settings
    root, snippets_dir = settings.root, settings.snippets_dir
    store = pipeline.results
    scenarios: list[tuple[ScenarioStatus, Scenario | None]] = []
    for path in catalog.scenario_files(settings):
        scenarios.append(_scenario_status(path, root, snippets_dir, store))
    uses: dict[str, list[PageUse]] = {}
    for ref in catalog.page_references(settings):
        uses.setdefault(ref.path, []).append(PageUse(ref.page, ref.line, ref.section))
    files = [*catalog.snippet_files(settings), *catalog.scenario_files(settings)]
    rels = sorted({_rel(p, snippets_dir) for p in files} | set(uses))
    snippets = tuple(
        _snippet_status(pipeline, rel, tuple(uses.get(rel, ())), scenarios) for rel in rels
    )
    pages = tuple(p.relative_to(root).as_posix() for p in catalog.pages(settings))
    docs = settings.docs_dir.relative_to(root).as_posix()
    return SiteStatus(snippets, tuple(s for s, _ in scenarios), pages, docs)


def _scenario_status(
    path: Path, root: Path, snippets_dir: Path, store: ResultStore
) -> tuple[ScenarioStatus, Scenario | None]:
    rel = _rel(path, snippets_dir)
    source = path.relative_to(root).as_posix()
    fallback = path.name.split(".scenario.")[0]
    try:
        scenario = load_scenario(path, root, snippets_dir)
    except KdocsError as error:
        return ScenarioStatus(fallback, source, rel, problem=str(error)), None
    used = tuple(
        _rel(f, snippets_dir)
        for f in scenario.files
        if _inside(f, snippets_dir) and not catalog.is_embed_spec(f)
    )
    result = unit_status(store, rel, _sha256(path), SCENARIO, scenario.name, source)
    status = ScenarioStatus(
        scenario.name, source, rel, scenario.description, scenario.requires, used,
        scenario_words(scenario), result,
    )  # fmt: skip
    return status, scenario


def _snippet_status(
    pipeline: SitePipeline,
    rel: str,
    used_on: tuple[PageUse, ...],
    scenarios: list[tuple[ScenarioStatus, Scenario | None]],
) -> SnippetStatus:
    store = pipeline.results
    try:
        snippet, badge = pipeline.static_check(rel)
    except KdocsError as error:
        return SnippetStatus(rel, "", (), used_on, INVALID, str(error), ())
    units: list[UnitStatus] = []
    for status, _ in scenarios:
        if rel in status.snippets or rel == status.rel:
            if status.problem:
                units.append(UnitStatus(SCENARIO, status.name, status.source, INVALID))
            else:
                units.append(
                    unit_status(store, rel, snippet.sha256, SCENARIO, status.name, status.source)
                )
    if not units:
        source = f"snippets/{rel}"
        units.append(unit_status(store, rel, snippet.sha256, CHECK, source, source))
    return SnippetStatus(
        rel, snippet.sha256, tuple(snippet.sections()), used_on, VALIDATED, badge.detail,
        tuple(units),
    )  # fmt: skip


def unit_status(
    store: ResultStore, rel: str, sha256: str, kind: str, unit: str, source: str
) -> UnitStatus:
    """The state of one unit for the snippet `rel` with these bytes, from the results only."""
    history = [r for r in store.history(rel) if r.kind == kind and r.unit == unit]
    current = [r for r in history if r.sha256 == sha256 and store.is_current(r)]
    name = unit if kind == SCENARIO else DEFAULT_CHECK
    if current:
        record = current[-1]
        return _from_record(kind, name, source, PROVEN if record.passed else FAILED, record)
    if history:
        return _from_record(kind, name, source, STALE, history[-1])
    return UnitStatus(kind, name, source, NOT_RUN)


def _from_record(kind: str, name: str, source: str, state: str, record: UnitRecord) -> UnitStatus:
    return UnitStatus(
        kind, name, source, state, record.cluster or record.provider, record.kubernetes_version,
        record.date, record.seconds, record.message,
    )  # fmt: skip


def _rel(path: Path, snippets_dir: Path) -> str:
    return path.resolve().relative_to(snippets_dir.resolve()).as_posix()


def _inside(path: Path, folder: Path) -> bool:
    return folder.resolve() in path.resolve().parents


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
