"""`kdocs test [PATH ...]`: prove snippets on a real cluster, record what was proven.

No PATH means every snippet and scenario of the site. A scenario file runs
that scenario; a snippet of the site runs the scenarios that use it, or the
default check when none does; any other YAML file gets the default check.

Results are recorded as each unit ends, per snippet content hash and per
exact inputs (the scenario file, every file it applies, the topology file),
and only for units that ran to the end (passed or failed; never interrupted
ones, nor a scenario that is itself broken: that is exit 2, a broken test, and
the snippets keep their results). A unit whose inputs hash the same as a
recorded passing result on the same provider is skipped without touching the
cluster, so an unchanged rerun does not even bring the cluster up; `--force`
runs everything. Before any cluster is touched, every file a unit applies goes
through the same offline checks as `kdocs validate` (same reader, same limits):
a unit with a file they refuse fails there, with its one line, and never
reaches the cluster; when every unit is refused, no cluster is brought up.
Exit codes: 0 all passed, 1 anything failed, 2 unusable input or cluster, 130
interrupted.

Over ~400 lines because planning (`plan`, `with_topology`) still lives here: issue 13
moves it to the cluster stage, which another change is reorganising at the same time.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from kdocs.catalog import YAML_SUFFIXES, is_embed_spec, is_scenario, scenario_files, snippet_files
from kdocs.cluster.base import Cluster, Provider
from kdocs.cluster.defaults import DEFAULT_CHECKS
from kdocs.cluster.health import sweep_orphans
from kdocs.cluster.model import Outcome, Unit
from kdocs.cluster.report import ConsoleProgress, write_json, write_junit, write_text
from kdocs.cluster.session import RunContext
from kdocs.commands.spread import check_clusters, spread_units
from kdocs.config import CLUSTER_RELEASES, Settings
from kdocs.errors import ExitCode, UnusableInputError
from kdocs.resource.embed import spec_path
from kdocs.results import CHECK, SCENARIO, ResultStore, UnitRecord, minor_of, shard_file
from kdocs.scenario.model import Scenario, display, file_hashes
from kdocs.scenario.parse import load_scenario
from kdocs.shards import Shard, Work, parse_shard, share


def add_test_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `test` to the `subparsers` of the kdocs parser."""
    from kdocs.cluster.providers import PROVIDERS, add_kubeconfig_flags

    parser = subparsers.add_parser(
        "test",
        help="apply snippets to a real cluster and run the scenarios that prove the guides",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
        epilog="Exit codes: 0 all passed (or unchanged since they passed), 1 something failed, "
        "2 unusable input or cluster, 130 interrupted (every started unit cleaned up).",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="snippets, scenarios or folders")
    parser.add_argument("--provider", choices=PROVIDERS, help="default: $KDOCS_PROVIDER, else kwok")
    parser.add_argument("--output", choices=("text", "json", "junit"), default="text")
    parser.add_argument(
        "--force", action="store_true", help="rerun units whose inputs are unchanged"
    )
    parser.add_argument("--jobs", type=_positive, default=4, help="units run at once (default 4)")
    parser.add_argument("--topology", help="clusters/*.yaml stem (default: the only one)")
    parser.add_argument(
        "--timeout", type=_positive, default=60, help="rollout timeout of the default check (s)"
    )
    parser.add_argument(
        "--shard", type=_shard, metavar="I/N",
        help="run only shard I of N (a deterministic, balanced share of the units) and record "
        "into a results file of its own; `kdocs results merge` brings the shards together",
    )  # fmt: skip
    parser.add_argument(
        "--cluster-version", metavar="1.N",
        help="prove on this Kubernetes version only (default: every one of cluster-versions "
        "in [tool.kdocs], each on a kwok cluster of its own)",
    )  # fmt: skip
    parser.add_argument(
        "--clusters", type=_positive, default=1, metavar="K",
        help="spread the units over K kwok clusters of this checkout, split as --shard splits "
        "them (default 1; see benchmarks/README.md for when it pays)",
    )  # fmt: skip
    add_kubeconfig_flags(parser)
    parser.set_defaults(run=run_test)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except UnusableInputError as error:
        raise argparse.ArgumentTypeError(error.reason) from None


def run_test(args: argparse.Namespace, settings: Settings, provider: Provider | None = None) -> int:
    """Plan, skip what is proven already, run the rest, record and report; the exit code.

    With the kwok provider, once per Kubernetes version of `cluster-versions` (or the
    one --cluster-version names), each on a cluster of its own; other providers run
    one pass on the cluster they have, recorded under the version it reports.
    """
    console = Console(stderr=True, soft_wrap=True)
    progress = ConsoleProgress(console)
    units, _ = plan(list(args.paths), settings)
    try:
        topology: str | None = _topology(args, settings)
    except UnusableInputError:
        topology = None  # said when a cluster is needed: nothing recorded can match then
    units = [with_topology(unit, settings, topology) for unit in units]
    provider_name = provider.name if provider else _provider_name(args)
    check_clusters(getattr(args, "clusters", 1), provider_name)
    chosen: str | None = getattr(args, "cluster_version", None)
    if chosen is not None and provider_name == "kwok" and chosen not in CLUSTER_RELEASES:
        known = ", ".join(CLUSTER_RELEASES)
        raise UnusableInputError("--cluster-version", f"kwok builds {known}, not {chosen}")
    shared = ResultStore(settings.results_file, settings.root)
    store, known_stores = shared, [shared]  # where a unit may be recorded as proven already
    shard: Shard | None = getattr(args, "shard", None)
    if shard is not None:
        units = shard_units(units, shared, shard)
        progress.note(f"shard {shard.index}/{shard.total}: {len(units)} unit(s)")
        # Its own file: the shared one stays as every shard found it, so all agree on the plan.
        label = shard.label + (f".v{chosen}" if chosen else "")
        store = ResultStore(shard_file(settings.results_file, label), settings.root)
        known_stores.append(store)
    refused = {
        **scenario_lint_refusals(units, settings, topology),
        **offline_refusals(units, settings),
    }
    passes: list[str | None] = [chosen]
    if provider is None and provider_name == "kwok" and chosen is None:
        passes = list(settings.cluster_versions)
    ordered: list[Outcome] = []
    versions: list[str] = []
    interrupted = False
    for minor in passes:
        done, version, interrupted = _one_pass(
            args, settings, units, refused, known_stores, store, minor, topology,
            provider, provider_name, progress,
        )  # fmt: skip
        if len(passes) > 1:
            done = [replace(o, name=f"{o.name} (Kubernetes {minor})") for o in done]
        ordered += done
        versions += [version] if version else []
        if interrupted:
            break
    if shard is not None:
        store.save()  # the shard's file exists even when it ran nothing: CI uploads it
    meta = {"provider": provider_name, "kubernetes_version": ", ".join(versions)}
    if args.output == "json":
        write_json(ordered, sys.stdout, **meta)
    elif args.output == "junit":
        write_junit(ordered, sys.stdout)
    else:
        write_text(ordered, Console(soft_wrap=True))
    if interrupted:
        console.print("interrupted: every started unit cleaned up its namespace")
        return int(ExitCode.INTERRUPTED)
    if any(o.status == "error" for o in ordered):
        return int(ExitCode.UNUSABLE)
    return int(ExitCode.OK if all(o.passed for o in ordered) else ExitCode.FAILED)


def _one_pass(
    args: argparse.Namespace, settings: Settings, units: list[Unit], refused: dict[int, Outcome],
    known_stores: list[ResultStore], store: ResultStore, minor: str | None,
    topology: str | None, provider: Provider | None, provider_name: str, progress: Any,
) -> tuple[list[Outcome], str, bool]:  # fmt: skip
    """One Kubernetes version: outcomes in unit order, the version that ran, interrupted."""
    outcomes: dict[int, Outcome] = {}
    todo: list[int] = []
    for index, unit in enumerate(units):
        proven = None
        if not args.force:
            proven = _first(unchanged(unit, k, provider_name, minor) for k in known_stores)
        if index in refused:
            outcomes[index] = refused[index]
        elif proven is None:
            todo.append(index)
        else:
            outcomes[index] = Outcome(
                unit.name, unit.kind, display(unit.source, settings.root), "skipped",
                f"unchanged since it passed on {proven.provider} {proven.kubernetes_version}"
                f" ({proven.date[:10]}); --force reruns it",
            )  # fmt: skip
    version, interrupted = "", False
    if todo:
        release = CLUSTER_RELEASES.get(minor or "") if provider_name == "kwok" else None
        provider = provider or _provider(args, settings, provider_name, progress.note, release)
        cluster = provider.up(topology or _topology(args, settings))
        version = cluster.kubernetes_version
        if minor is not None and minor_of(version) != minor:
            raise UnusableInputError(
                "--cluster-version", f"asked for {minor}, the cluster runs Kubernetes {version}"
            )
        progress.note(f"{cluster.label} cluster, Kubernetes {version}")
        swept = sweep_orphans(cluster)
        if swept:
            progress.note(f"removed {len(swept)} namespace(s) of killed runs: {', '.join(swept)}")
        ctx = RunContext(
            cluster, settings.root, rollout_timeout=float(args.timeout),
            snippets_dir=settings.snippets_dir,
        )  # fmt: skip

        def on_done(unit: Unit, outcome: Outcome) -> None:
            if unit.snippets:  # only the site's snippets have results
                record(store, settings, cluster, unit, outcome)
                store.save()

        ran = spread_units(
            ctx, provider, topology or _topology(args, settings), [units[i] for i in todo],
            getattr(args, "clusters", 1), args.jobs, progress, on_done,
            _unit_key, known_stores[0].durations,
        )  # fmt: skip
        outcomes.update(zip(todo, ran, strict=True))
        interrupted = ctx.cancel.is_set() and not ctx.unhealthy
    return [outcomes[i] for i in range(len(units))], version, interrupted


def shard_units(units: list[Unit], store: ResultStore, shard: Shard) -> list[Unit]:
    """The units shard `shard` runs, balanced by the durations `store` recorded."""
    recorded = store.durations()
    work = [Work(_unit_key(u), recorded.get(_unit_key(u)), u.exclusive) for u in units]
    mine = share(work, shard)
    return [unit for unit in units if _unit_key(unit) in mine]


def _unit_key(unit: Unit) -> str:
    return f"{_kind(unit)}:{unit.name}"


def unrecorded_units(settings: Settings) -> list[str]:
    """One line per unit of the site with no recorded verdict for its current inputs.

    What `kdocs build --require-complete` refuses to publish: after a sharded
    run, such a unit is one no shard ran (a shard lost, a results file not merged).
    """
    try:
        topology: str | None = _topology(argparse.Namespace(topology=None), settings)
    except UnusableInputError:
        topology = None
    store = ResultStore(settings.results_file, settings.root)
    lines = []
    for unit in plan([], settings)[0]:
        unit = with_topology(unit, settings, topology)
        kind, name, inputs = _kind(unit), unit.name, unit.inputs
        missing = [
            minor for minor in settings.cluster_versions
            if not all(store.has(sha256(s), kind, name, inputs, minor) for s in unit.snippets)
        ]  # fmt: skip
        if missing:
            lines.append(
                f"{display(unit.source, settings.root)}: {unit.kind} {unit.name!r} has no result "
                f"for its current inputs on Kubernetes {', '.join(missing)} in "
                f"{display(settings.results_file, settings.root)}"
                " (no shard ran it, or its results were not merged)"
            )
    return lines


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
                boundary = snippets_dir if _inside(path, snippets_dir) else path.parent
                scenarios.append(load_scenario(path, root, boundary))
            else:
                snippets.append(path)
    for snippet in snippets:  # a site snippet is proven by the scenarios that use it
        if _inside(snippet, snippets_dir):
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
        recorded = (snippet,) if _inside(snippet, snippets_dir) else ()
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
        if not is_embed_spec(f) and _inside(f, settings.snippets_dir)
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


def _inside(path: Path, folder: Path) -> bool:
    return folder.resolve() in path.resolve().parents


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unchanged(
    unit: Unit, store: ResultStore, provider: str, minor: str | None = None
) -> UnitRecord | None:
    """The recorded result proving `unit` with these exact inputs (on Kubernetes `minor`,
    when given), or None (then run it)."""
    found: UnitRecord | None = None
    for snippet in unit.snippets:
        kind, name, inputs = _kind(unit), unit.name, unit.inputs
        proven = store.proven(sha256(snippet), kind, name, provider, inputs, minor)
        if proven is None or (unit.kind == "check" and proven.checks != DEFAULT_CHECKS):
            return None
        found = proven
    return found


def record(
    store: ResultStore, settings: Settings, cluster: Cluster, unit: Unit, outcome: Outcome
) -> None:
    """Record a finished unit's verdict on every snippet it used, for exactly its inputs."""
    date = datetime.now(UTC).isoformat(timespec="seconds")
    passed = outcome.status == "passed"
    checks = ("server-side apply", "scenario") if unit.kind == "scenario" else DEFAULT_CHECKS
    for snippet in unit.snippets:
        store.record(UnitRecord(
            snippet=_snippet_name(snippet, settings), sha256=sha256(snippet), kind=_kind(unit),
            unit=unit.name, source=display(unit.source, settings.root), passed=passed,
            provider=cluster.provider, cluster=cluster.label,
            kubernetes_version=cluster.kubernetes_version, date=date,
            checks=checks if passed else (), message=outcome.message, inputs=dict(unit.inputs),
            seconds=round(outcome.seconds, 2),
        ))  # fmt: skip


def _first(records: Iterable[UnitRecord | None]) -> UnitRecord | None:
    return next((r for r in records if r is not None), None)


def _kind(unit: Unit) -> str:
    return SCENARIO if unit.kind == "scenario" else CHECK


def _snippet_name(path: Path, settings: Settings) -> str:
    if _inside(path, settings.snippets_dir):
        return path.resolve().relative_to(settings.snippets_dir.resolve()).as_posix()
    return display(path, settings.root)


def _provider_name(args: argparse.Namespace) -> str:
    from kdocs.cluster.providers._common import default_provider_name

    return args.provider or default_provider_name()


def _provider(
    args: argparse.Namespace, settings: Settings, name: str, log: Any, release: str | None = None
) -> Provider:
    from kdocs.cluster.providers import provider_from_flags

    options = {"kubernetes_version": release} if release else {}
    return provider_from_flags(name, settings, args, log=log, **options)


def _topology(args: argparse.Namespace, settings: Settings) -> str:
    from kdocs.cluster.topology import choose_topology

    return choose_topology(getattr(args, "topology", None), settings.clusters_dir)
