"""`kdocs cluster up|down|status`: this checkout's test cluster by hand, the one its tests use.

kdocs/cli.py owns the top-level parser, calls `add_cluster_parser` and
`run_cluster`, and turns errors and interrupts into exit codes (0 ok, 1 not
running, 2 unusable arguments or cluster, 130 interrupted). Each checkout has
its own cluster (see `checkout_cluster_name`); `status` also lists the other
checkouts' kwok clusters on this machine, `down --all` removes them all.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.cluster.base import Cluster, Provider
from kdocs.cluster.providers import PROVIDERS, add_kubeconfig_flags, provider_from_flags
from kdocs.cluster.providers._common import (
    PROVIDER_ENV,
    cache_root,
    default_provider_name,
    stderr_log,
)
from kdocs.cluster.providers.kwok import version_override
from kdocs.cluster.topology import choose_topology
from kdocs.config import DEFAULT_CLUSTER_VERSIONS, Settings, cluster_release
from kdocs.errors import ExitCode, UnusableInputError
from kdocs.results import minor_of


def add_cluster_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `cluster` (with up, down, status) to the `subparsers` of the kdocs parser."""
    parser = subparsers.add_parser(
        "cluster",
        help="create, inspect or remove the cluster scenarios run on",
        description="Create, inspect or remove this checkout's cluster the scenarios run on.",
    )
    parser.set_defaults(run=run_cluster)  # kdocs/cli.py calls args.run(args, settings)
    actions = parser.add_subparsers(dest="cluster_action", metavar="{up,down,status}")
    actions.required = True
    helps = {
        "up": "create this checkout's cluster of a topology, or reuse it when it already runs",
        "down": "remove this checkout's cluster and every process it started",
        "status": "say whether this checkout's clusters run (kwok: one per cluster-versions) and "
        "how to reach them, and list the other checkouts' kwok clusters (exit 1 when one of "
        "this checkout's does not run)",
    }
    for action, text in helps.items():
        sub = actions.add_parser(action, help=text, description=text)
        sub.add_argument(
            "--provider",
            choices=PROVIDERS,
            default=None,
            help=f"where the cluster runs (default: ${PROVIDER_ENV}, else kwok)",
        )
        if action == "up":
            sub.add_argument(
                "--topology", help="a clusters/*.yaml file stem (default: the only one there is)"
            )
        if action in ("up", "status"):
            sub.add_argument(
                "--cluster-version", metavar="1.N",
                help=f"kwok: {'bring up' if action == 'up' else 'describe'} this Kubernetes "
                "version's cluster only (default: one per version of cluster-versions in "
                "[tool.kdocs], those kdocs test uses)",
            )  # fmt: skip
        if action == "down":
            sub.add_argument(
                "--all",
                action="store_true",
                help="remove every kwok cluster of this cache root, whichever checkout made it",
            )
        add_kubeconfig_flags(sub)
    return parser


def run_cluster(args: argparse.Namespace, settings: Settings) -> int:
    """Run `kdocs cluster <action>`; returns the exit code (errors propagate to kdocs/cli.py)."""
    provider_name = getattr(args, "provider", None) or default_provider_name()
    options: dict[str, Any] = {"log": stderr_log}
    if provider_name == "kwok":
        options["show_build_progress"] = True
    provider = provider_from_flags(provider_name, settings, args, **options)
    action = args.cluster_action
    if action == "up":
        providers = _per_version(provider, provider_name, settings, args, options)
        topology = _topology_name(args, settings)
        for each in providers:
            _describe(each.up(topology))
        return int(ExitCode.OK)
    if action == "down":
        if getattr(args, "all", False):
            return _down_all(provider_name, settings)
        provider.down()
        if provider_name == "kwok":
            _down_other_versions(settings)
        print(f"{provider_name} cluster removed")
        return int(ExitCode.OK)
    if action == "status":
        providers = _per_version(provider, provider_name, settings, args, options)
        missing = 0
        for each in providers:
            found = each.current()
            if found is None:
                missing += 1
                which = _which(provider_name, each)
                print(f"no {provider_name} cluster of this checkout is running{which}")
            else:
                _describe(found)
        if provider_name == "kwok":
            _list_kwok_clusters(settings, [getattr(p, "cluster_name", "") for p in providers])
        return int(ExitCode.FAILED if missing else ExitCode.OK)
    raise UnusableInputError(None, f"unknown cluster action {action!r}")


def _per_version(
    provider: Provider, provider_name: str, settings: Settings, args: argparse.Namespace,
    options: dict[str, Any],
) -> list[Provider]:  # fmt: skip
    """kwok: one provider per version `kdocs test` proves on (each its own cluster), the
    build script's own version first; otherwise `provider`. One after the other: a Ctrl-C
    stops the creation under way (removing what it made) and starts no other."""
    chosen = getattr(args, "cluster_version", None)
    if provider_name != "kwok":
        if chosen is not None:
            raise UnusableInputError("--cluster-version", "applies to the kwok provider only")
        return [provider]
    minors = [chosen] if chosen is not None else list(settings.cluster_versions)
    releases = sorted(map(cluster_release, minors), key=lambda r: version_override(r) is not None)
    return [
        provider_from_flags(provider_name, settings, args, kubernetes_version=release, **options)
        for release in releases
    ]


def _down_other_versions(settings: Settings) -> None:
    """This checkout's clusters of the other `cluster-versions` go too (kdocs test made them)."""
    from kdocs.cluster.providers.kwok import KwokProvider
    from kdocs.commands.spread import down_spread_clusters
    from kdocs.config import CLUSTER_RELEASES

    down_spread_clusters(KwokProvider(settings, log=stderr_log))  # `kdocs test --clusters K`
    for release in CLUSTER_RELEASES.values():
        other = KwokProvider(settings, kubernetes_version=release, log=stderr_log)
        down_spread_clusters(other)
        if other.kubernetes_version and (other.cluster_dir.exists() or other.processes()):
            other.down()


def _down_all(provider_name: str, settings: Settings) -> int:
    if provider_name != "kwok":
        raise UnusableInputError(None, "--all applies to the kwok provider only")
    from kdocs.cluster.providers.kwok import KwokProvider

    clusters = known_clusters(settings)
    for known in clusters:
        KwokProvider(settings, cluster_name=known.name, log=stderr_log).down()
    print(f"{len(clusters)} kwok cluster(s) removed")
    return int(ExitCode.OK)


def _which(provider_name: str, provider: Provider) -> str:
    """Which of this checkout's kwok clusters: " (Kubernetes 1.34: kdocs-x-1234abcd-v1-34)"."""
    if provider_name != "kwok":
        return ""
    release = getattr(provider, "kubernetes_version", None)
    minor = minor_of(release) if release else DEFAULT_CLUSTER_VERSIONS[0]
    return f" (Kubernetes {minor}: {getattr(provider, 'cluster_name', '')})"


def _list_kwok_clusters(settings: Settings, mine: list[str]) -> None:
    others = [c for c in known_clusters(settings) if c.name not in mine]
    print(f"this checkout's cluster{'s' if len(mine) > 1 else ''}: {', '.join(mine)}")
    if not others:
        print("no other kwok cluster on this machine (this cache root)")
        return
    print("other kwok clusters (kdocs cluster down --all removes them all):")
    for known in others:
        state = "running" if known.alive else "not running"
        print(f"  {known.name}  {state}  {known.checkout or '(checkout unknown)'}")


@dataclass(frozen=True)
class KnownCluster:
    """A kwok cluster in a cache root, whichever checkout made it."""

    name: str
    checkout: str  # the project root that made it; "" when unknown (made by a test or by hand)
    alive: bool  # every control plane component runs


def known_clusters(settings: Settings, workdir: Path | None = None) -> list[KnownCluster]:
    """Every kwok cluster under the cache root's kwok folder, by name."""
    from kdocs.cluster.providers.kwok import COMPONENTS, KwokProvider

    base = (workdir or cache_root() / "kwok").resolve()
    folder = base / "clusters"
    names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    found = []
    for name in names:
        provider = KwokProvider(settings, cluster_name=name, workdir=base)
        try:
            checkout = str(json.loads(provider.owner_file.read_text(encoding="utf-8"))["checkout"])
        except (OSError, ValueError, KeyError, TypeError):
            checkout = ""
        alive = all(provider.component_alive(c) for c in COMPONENTS)
        found.append(KnownCluster(name, checkout, alive))
    return found


def _topology_name(args: argparse.Namespace, settings: Settings) -> str:
    return choose_topology(getattr(args, "topology", None), settings.clusters_dir)


def _describe(cluster: Cluster) -> None:
    topology = f"topology {cluster.topology}, " if cluster.topology else ""
    nodes = ", ".join(cluster.node_names)
    print(
        f"{cluster.label} cluster running: {topology}Kubernetes {cluster.kubernetes_version}"
        + (f", nodes {nodes}" if nodes else "")
    )
    print(f"  kubeconfig: {cluster.kubeconfig}")
    print(f"  context:    {cluster.context}")
    print(f"  kubectl:    {cluster.kubectl_binary}")
    for component in cluster.components:
        where = f"pid {component.pid}, log {component.log}"
        print(f"  component:  {component.name} {component.version} ({where})")
