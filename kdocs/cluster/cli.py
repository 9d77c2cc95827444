"""`kdocs cluster up|down|status`: the test cluster by hand, the same one the test suite uses.

kdocs/cli.py owns the top-level parser and calls `add_cluster_parser` and
`run_cluster`; everything here ends in an exit code (0 ok, 1 not running or
failed, 2 unusable arguments or cluster) and one-line errors, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kdocs.cluster.base import Cluster
from kdocs.cluster.providers import (
    PROVIDER_ENV,
    PROVIDERS,
    add_kubeconfig_flags,
    default_provider_name,
    provider_from_flags,
    stderr_log,
)
from kdocs.cluster.topology import choose_topology
from kdocs.config import Settings
from kdocs.errors import ExitCode, KdocsError, UnusableInputError


def add_cluster_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `cluster` (with up, down, status) to the `subparsers` of the kdocs parser."""
    parser = subparsers.add_parser(
        "cluster",
        help="create, inspect or remove the cluster scenarios run on",
        description="Create, inspect or remove the cluster the scenarios run on.",
    )
    parser.set_defaults(run=run_cluster)  # kdocs/cli.py calls args.run(args, settings)
    actions = parser.add_subparsers(dest="cluster_action", metavar="{up,down,status}")
    actions.required = True
    helps = {
        "up": "create the cluster of a topology, or reuse it when it already runs",
        "down": "remove the cluster and every process it started",
        "status": "say whether the cluster runs and how to reach it (exit 1 when it does not)",
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
        add_kubeconfig_flags(sub)
    return parser


def run_cluster(args: argparse.Namespace, settings: Settings) -> int:
    """Run `kdocs cluster <action>`; returns the exit code."""
    try:
        return _run(args, settings)
    except KdocsError as error:
        print(f"kdocs: {error}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:  # the provider removed what it was making (exit 130, as documented)
        print("kdocs: interrupted", file=sys.stderr)
        return 130
    except OSError as error:
        print(f"kdocs: {error}", file=sys.stderr)
        return int(ExitCode.UNUSABLE)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    provider_name = getattr(args, "provider", None) or default_provider_name()
    options: dict[str, Any] = {"log": stderr_log}
    if provider_name == "kwok":
        options["show_build_progress"] = True
    provider = provider_from_flags(provider_name, settings, args, **options)
    action = args.cluster_action
    if action == "up":
        cluster = provider.up(_topology_name(args, settings))
        _describe(cluster)
        return int(ExitCode.OK)
    if action == "down":
        provider.down()
        print(f"{provider_name} cluster removed")
        return int(ExitCode.OK)
    if action == "status":
        found = provider.current()
        if found is None:
            print(f"no {provider_name} cluster is running")
            return int(ExitCode.FAILED)
        _describe(found)
        return int(ExitCode.OK)
    raise UnusableInputError(None, f"unknown cluster action {action!r}")


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
