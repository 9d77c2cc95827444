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
reaches the cluster; when every unit is refused, no cluster is brought up (one that
already runs is reused while the checks run, so that neither waits for the other).
Exit codes: 0 all passed, 1 anything failed, 2 unusable input or cluster, 130
interrupted.

Planning is `kdocs.cluster.plan`, the recording policy `kdocs.recording`: this module
parses the arguments, runs the passes and decides the exit code.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from rich.console import Console

from kdocs.cluster.base import Cluster, Provider
from kdocs.cluster.health import sweep_orphans
from kdocs.cluster.model import Outcome, Unit
from kdocs.cluster.passes import Background, Passes
from kdocs.cluster.plan import offline_refusals, plan, scenario_lint_refusals, with_topology
from kdocs.cluster.report import (
    ConsoleProgress,
    LabelledProgress,
    write_json,
    write_junit,
    write_text,
)
from kdocs.cluster.session import RunContext
from kdocs.commands.spread import check_clusters, spread_units
from kdocs.config import CLUSTER_RELEASES, Settings, cluster_release
from kdocs.errors import ExitCode, KdocsError, UnusableInputError
from kdocs.recording import record, shard_units, unchanged, unit_key
from kdocs.results import ResultStore, UnitRecord, minor_of, shard_file
from kdocs.scenario.model import display
from kdocs.shards import Shard, parse_shard


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
    one --cluster-version names), each on a cluster of its own, all at the same time
    (`kdocs.cluster.passes`); other providers run one pass on the cluster they have, recorded under
    the version it reports.
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
    if chosen is not None and provider_name == "kwok":
        cluster_release(chosen)  # refused here, in one line, before any offline check runs
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
    # Offline checks in the background: a pass whose cluster already runs meanwhile reuses
    # it (its CRDs applied, its health checked), so that neither waits for the other.
    refused = Background(lambda: {
        **scenario_lint_refusals(units, settings, topology),
        **offline_refusals(units, settings),
    })  # fmt: skip
    passes: list[str | None] = [chosen]
    if provider is None and provider_name == "kwok" and chosen is None:
        passes = list(settings.cluster_versions)
    ordered: list[Outcome] = []
    versions: list[str] = []
    run = Passes(len(passes))

    def one(number: int) -> tuple[list[Outcome], str, bool]:
        minor = passes[number]
        shown = progress if len(passes) == 1 else LabelledProgress(progress, f"[{minor}]")
        return _one_pass(
            args, settings, units, refused, known_stores, store, minor, topology,
            provider, provider_name, shown, run.cancels[number], run.record_lock,
        )  # fmt: skip

    finished = run.all(one)
    interrupted = any(stopped for _, _, stopped in finished)
    for minor, (done, version, _) in zip(passes, finished, strict=True):
        if len(passes) > 1:
            done = [replace(o, name=f"{o.name} (Kubernetes {minor})") for o in done]
        ordered += done
        versions += [version] if version else []
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
    args: argparse.Namespace, settings: Settings, units: list[Unit],
    refusals: Background[dict[int, Outcome]],
    known_stores: list[ResultStore], store: ResultStore, minor: str | None,
    topology: str | None, provider: Provider | None, provider_name: str, progress: Any,
    cancel: threading.Event, record_lock: threading.Lock,
) -> tuple[list[Outcome], str, bool]:  # fmt: skip
    """One Kubernetes version: outcomes in unit order, the version that ran, interrupted."""
    outcomes: dict[int, Outcome] = {}
    proven: dict[int, UnitRecord | None] = dict.fromkeys(range(len(units)))
    for index, unit in enumerate(units):
        if not args.force:
            with record_lock:  # another pass may be recording into these stores
                found = (unchanged(unit, k, provider_name, minor) for k in known_stores)
                proven[index] = _first(found)
    cluster, early = None, None
    if any(record is None for record in proven.values()):
        release = CLUSTER_RELEASES.get(minor or "") if provider_name == "kwok" else None
        given = provider
        provider, cluster, early = _reuse_running(
            lambda: given or _provider(args, settings, provider_name, progress.note, release),
            lambda: topology or _topology(args, settings),
        )
    refused, todo = refusals.result(), []
    for index, unit in enumerate(units):
        passed = proven[index]
        if index in refused:
            outcomes[index] = refused[index]
        elif passed is None:
            todo.append(index)
        else:
            outcomes[index] = Outcome(
                unit.name, unit.kind, display(unit.source, settings.root), "skipped",
                f"unchanged since it passed on {passed.provider} {passed.kubernetes_version}"
                f" ({passed.date[:10]}); --force reruns it",
            )  # fmt: skip
    version, interrupted = "", False
    if todo:
        if early is not None:  # no provider, topology or reusable cluster: now it matters
            raise early
        assert provider is not None
        cluster = cluster or provider.up(topology or _topology(args, settings))
        version = cluster.kubernetes_version
        if minor is not None and minor_of(version) != minor:
            raise UnusableInputError(
                "--cluster-version", f"asked for {minor}, the cluster runs Kubernetes {version}"
            )
        progress.note(f"{cluster.label} cluster, Kubernetes {version}")
        for line in sweep_orphans(cluster).notes():
            progress.note(line)
        ctx = RunContext(
            cluster, settings.root, cancel=cancel, rollout_timeout=float(args.timeout),
            snippets_dir=settings.snippets_dir,
        )  # fmt: skip

        def on_done(unit: Unit, outcome: Outcome) -> None:
            if unit.snippets:  # only the site's snippets have results
                with record_lock:  # one results file for every pass
                    record(store, settings, cluster, unit, outcome)
                    store.save()

        ran = spread_units(
            ctx, provider, topology or _topology(args, settings), [units[i] for i in todo],
            getattr(args, "clusters", 1), args.jobs, progress, on_done,
            unit_key, known_stores[0].durations,
        )  # fmt: skip
        outcomes.update(zip(todo, ran, strict=True))
        interrupted = ctx.cancel.is_set() and not ctx.unhealthy
    return [outcomes[i] for i in range(len(units))], version, interrupted


def _reuse_running(
    make_provider: Callable[[], Provider], choose_topology: Callable[[], str]
) -> tuple[Provider | None, Cluster | None, KdocsError | None]:
    """The provider, and the cluster when one already runs (brought up as `up` does, so its
    CRDs are applied and its health checked), while the offline checks run; else None, and
    nothing is started: when every unit is refused offline, no cluster is brought up. An
    error (no provider, no topology, a cluster that cannot be reused) is kept, raised only
    when some unit does need the cluster: a refused snippet is reported, not hidden by it."""
    provider = None
    try:
        provider = make_provider()
        return provider, provider.reusable(choose_topology()), None
    except KdocsError as error:
        return provider, None, error


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


def _first(records: Iterable[UnitRecord | None]) -> UnitRecord | None:
    return next((r for r in records if r is not None), None)
