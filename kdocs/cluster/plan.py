"""Planning a `kdocs test` run: which units run for the paths given, and which are
refused offline before any cluster comes up.

A scenario file is a unit; a snippet of the site is proven by the scenarios that use
it, or by the default check of its kinds when none does; any other YAML file gets the
default check. A file the offline checks refuse, or a scenario the lint finds broken
for the run's topology, becomes an outcome here and never reaches a cluster.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kdocs.catalog import YAML_SUFFIXES, is_embed_spec, is_scenario, scenario_files, snippet_files
from kdocs.cluster.model import Outcome, Unit
from kdocs.config import Settings
from kdocs.errors import ExitCode, UnusableInputError
from kdocs.resource.sidecars import spec_path
from kdocs.scenario.model import Scenario, display, file_hashes
from kdocs.scenario.parse import load_scenario


def offline_refusals(units: list[Unit], settings: Settings) -> dict[int, Outcome]:
    """The units with a file the offline checks refuse, as outcomes: never sent to a cluster.

    A file that cannot be used (a limit, binary) is an error (exit 2), one that
    is checked and found wrong a failure (exit 1), as with `kdocs validate`.
    """
    from kdocs.schema.snippet import check_snippet

    verdicts: dict[Path, tuple[str, str] | None] = {}
    out: dict[int, Outcome] = {}
    for index, unit in enumerate(units):
        files = unit.scenario.files if unit.scenario is not None else (unit.source,)
        for file in (f for f in files if not is_embed_spec(f)):
            if file not in verdicts:
                checked = check_snippet(settings, file, display=display(file, settings.root))
                unusable = any(e.exit_code == ExitCode.UNUSABLE for e in checked.report.errors)
                status = "error" if unusable else "failed"
                verdicts[file] = None if checked.valid else (status, checked.first_error)
            if verdicts[file] is not None:
                status, line = verdicts[file]
                source = display(unit.source, settings.root)
                out[index] = Outcome(
                    unit.name, unit.kind, source, status, f"refused offline: {line}"
                )
                break
    return out


def scenario_lint_refusals(
    units: list[Unit], settings: Settings, topology: str | None
) -> dict[int, Outcome]:
    """Scenarios the lint finds broken for this run's topology (a `${node:X}` it lacks, a
    variable typo), as errors (exit 2, a broken test): found before any cluster comes up."""
    from kdocs.cluster.topology import find_topology
    from kdocs.scenario.lint import lint_scenario

    try:
        topologies = [find_topology(settings.clusters_dir, topology)] if topology else None
    except UnusableInputError:
        topologies = None  # said when the cluster comes up
    out: dict[int, Outcome] = {}
    for index, unit in enumerate(units):
        if unit.scenario is None:
            continue
        problems = lint_scenario(unit.source, settings.root, settings.snippets_dir, topologies)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            source = display(unit.source, settings.root)
            message = f"refused offline: {problems[0]}{more}"
            out[index] = Outcome(unit.name, unit.kind, source, "error", message)
    return out


def plan(paths: list[str], settings: Settings) -> tuple[list[Unit], dict[Path, set[str]]]:
    """The units to run for `paths`, and which site scenarios use each snippet (by name)."""
    root, snippets_dir = settings.root, settings.snippets_dir
    site = [load_scenario(p, root, snippets_dir) for p in scenario_files(settings)]
    _unique_names(site, root)
    users: dict[Path, set[str]] = {}
    for scenario in site:
        for file in scenario.files:
            users.setdefault(file.resolve(), set()).add(scenario.name)
    if not paths:
        scenarios, snippets = list(site), snippet_files(settings)
    else:
        scenarios, snippets = [], []
        for path in _expand(paths):
            if is_scenario(path):
                boundary = snippets_dir if inside(path, snippets_dir) else path.parent
                scenarios.append(load_scenario(path, root, boundary))
            else:
                snippets.append(path)
    for snippet in snippets:  # a site snippet is proven by the scenarios that use it
        if inside(snippet, snippets_dir):
            scenarios += [s for s in site if snippet.resolve() in _resolved(s.files)]
    units: list[Unit] = []
    chosen: set[Path] = set()
    for scenario in scenarios:
        if scenario.path.resolve() not in chosen:
            chosen.add(scenario.path.resolve())
            units.append(_scenario_unit(scenario, settings))
    covered = set().union(*(_resolved(s.files) for s in scenarios))
    for snippet in snippets:
        if snippet.resolve() in covered:
            continue
        inputs = [snippet] + ([spec_path(snippet)] if spec_path(snippet) else [])
        recorded = (snippet,) if inside(snippet, snippets_dir) else ()
        units.append(
            Unit(display(snippet, root), "check", snippet, recorded, file_hashes(inputs, root))
        )
    return units, users


def with_topology(unit: Unit, settings: Settings, topology: str | None) -> Unit:
    """The unit with the topology file among its inputs: a result holds for that cluster only."""
    from kdocs.cluster.topology import topology_path

    path = topology_path(settings.clusters_dir, topology) if topology else None
    if path is None or not path.is_file():
        return unit  # the provider's up() says which topologies exist
    return replace(unit, inputs={**unit.inputs, **file_hashes([path], settings.root)})


def _unique_names(scenarios: list[Scenario], root: Path) -> None:
    """Results list scenarios by name: two of the same name would overwrite each other."""
    seen: dict[str, Path] = {}
    for scenario in scenarios:
        other = seen.setdefault(scenario.name, scenario.path)
        if other != scenario.path:
            raise UnusableInputError(
                display(scenario.path, root),
                f"scenario name {scenario.name!r} is already used by {display(other, root)}",
            )


def _resolved(paths: tuple[Path, ...]) -> set[Path]:
    return {p.resolve() for p in paths}


def _scenario_unit(scenario: Scenario, settings: Settings) -> Unit:
    """Only the site's snippets get results: a copy elsewhere with the same bytes must not."""
    # The scenario file itself too: a page may show it, and its badge reads this result.
    used = tuple(
        f
        for f in (*scenario.files, scenario.path)
        if not is_embed_spec(f) and inside(f, settings.snippets_dir)
    )
    return Unit(
        scenario.name, "scenario", scenario.path, used, scenario.inputs(settings.root), scenario,
        scenario.exclusive,
    )  # fmt: skip


def _expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            out += sorted(
                p for p in path.rglob("*")
                if p.suffix in YAML_SUFFIXES and p.is_file() and not is_embed_spec(p)
            )  # fmt: skip
        elif not path.is_file():
            raise UnusableInputError(text, "no such file or folder")
        elif path.suffix not in YAML_SUFFIXES:
            raise UnusableInputError(text, "not a YAML file (.yaml or .yml)")
        elif is_embed_spec(path):
            raise UnusableInputError(text, "an embed spec; give the fragment it belongs to")
        else:
            out.append(path)
    return out


def inside(path: Path, folder: Path) -> bool:
    return folder.resolve() in path.resolve().parents
