"""Cleanup order: neighbours of one kind are deleted in one call, the order between kinds kept;
only NodePools (Karpenter drains their nodes) are left to finish in the background, and they
and the unit's namespace are deleted first (both end after a fixed 5 s)."""

from __future__ import annotations

import subprocess
import threading
from types import SimpleNamespace

from kdocs.cluster import karpenter
from kdocs.cluster.karpenter import drains
from kdocs.cluster.session import Session, _runs_of_one_kind


def test_neighbours_of_one_kind_and_namespace_go_together_in_order() -> None:
    created = [
        ("nodepools.v1.karpenter.sh", "stable", None),
        ("nodepools.v1.karpenter.sh", "default", None),
        ("deployments.v1.apps", "web", "ns-a"),
        ("deployments.v1.apps", "api", "ns-b"),
        ("nodepools.v1.karpenter.sh", "late", None),
    ]
    assert _runs_of_one_kind(created) == [
        ("nodepools.v1.karpenter.sh", ["stable", "default"], None),
        ("deployments.v1.apps", ["web"], "ns-a"),
        ("deployments.v1.apps", ["api"], "ns-b"),
        ("nodepools.v1.karpenter.sh", ["late"], None),
    ]


def test_only_karpenter_nodepools_drain() -> None:
    assert drains("nodepools.v1.karpenter.sh")
    assert not drains("nodeclaims.v1.karpenter.sh")
    assert not drains("nodepools.v1.example.com")
    assert not drains("deployments.v1.apps")


def test_the_fixed_waits_start_first_then_the_rest_newest_first(monkeypatch, tmp_path) -> None:
    """Karpenter's drain (MinDrainTime) and the namespace controller's grace period are both
    5 s constants: NodePools and the unit's namespace are deleted before the rest, so those
    5 s run while the rest is deleted; everything else keeps the newest-first order."""
    calls: list[list[str]] = []
    tainted: list[list[str]] = []

    class RecordingCluster:  # the calls alone are under test here, not kubectl's answers
        kubeconfig, context = tmp_path, "recording"  # no kubeconfig file: every call is kubectl's

        def kubectl(self, *args: str, **_: object) -> subprocess.CompletedProcess[str]:
            calls.append(list(args))
            return subprocess.CompletedProcess(list(args), 0, "", "")

    def cordoned(cluster, names, timeout=60, stop=None):
        tainted.append(list(names))
        calls.append(["(await taint)", *names])

    monkeypatch.setattr(karpenter, "await_cordoned", cordoned)
    ctx = SimpleNamespace(cluster=RecordingCluster(), unhealthy=None, cancel=threading.Event())
    session = Session(ctx, "unit")  # type: ignore[arg-type]
    session.opened = True
    for entry in (
        ("priorityclasses.v1.scheduling.k8s.io", "high", None),
        ("nodepools.v1.karpenter.sh", "default", None),
        ("nodepools.v1.karpenter.sh", "stable", None),
        ("deployments.v1.apps", "workload", session.namespace),
        ("daemonsets.v1.apps", "agent", session.namespace),
    ):
        session.track(*entry)
    assert session.close() == []
    shown = [call[:3] if call[0] == "delete" else call for call in calls]
    assert shown == [
        ["delete", "nodepools.v1.karpenter.sh", "stable"],
        ["(await taint)", "stable", "default"],
        ["delete", "namespaces", session.namespace],
        ["delete", "daemonsets.v1.apps", "agent"],
        ["delete", "deployments.v1.apps", "workload"],
        ["delete", "priorityclasses.v1.scheduling.k8s.io", "high"],
    ]
    assert "--cascade=background" in calls[0] and "--wait=false" in calls[2]
    assert all("--cascade=foreground" in call for call in calls[3:])
    assert tainted == [["stable", "default"]]
