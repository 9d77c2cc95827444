"""Cleanup order: neighbours of one kind are deleted in one call, the order between kinds kept;
only NodePools (Karpenter drains their nodes) are left to finish in the background."""

from __future__ import annotations

from kdocs.cluster.karpenter import drains
from kdocs.cluster.session import _runs_of_one_kind


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
