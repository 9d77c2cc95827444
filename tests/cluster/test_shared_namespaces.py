"""Namespaces a snippet names: applied and checked there, shared with other runs in turns.

Two runs (two checkouts' `kdocs test`, say) on one cluster each get a
RunContext of their own here, as they would in two processes.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.cluster.namespaces import LOCK_NAMESPACE, lease_name
from kdocs.cluster.payload import Payload
from kdocs.cluster.session import OWNER_LABEL, RunContext, Session

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]


def daemonset(namespace: str) -> dict:
    labels = {"app": "kdocs-shared-probe"}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kdocs-shared-probe", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
            },
        },
    }


def owner(cluster: Cluster, namespace: str) -> str | None:
    done = cluster.kubectl("get", "daemonset", "kdocs-shared-probe", "-n", namespace, "-o", "json")
    if done.returncode:
        return None
    return json.loads(done.stdout)["metadata"]["labels"].get(OWNER_LABEL)


def test_two_runs_writing_one_name_into_kube_system_take_turns(cluster: Cluster) -> None:
    first = Session(RunContext(cluster, ROOT), "first")
    second = Session(RunContext(cluster, ROOT), "second")
    closed = []
    try:
        first.open()
        second.open()
        assert first.apply([Payload((daemonset("kube-system"),))]) is None
        assert owner(cluster, "kube-system") == first.namespace
        refused: list[str | None] = []
        waiting = threading.Thread(
            target=lambda: refused.append(second.apply([Payload((daemonset("kube-system"),))]))
        )
        waiting.start()
        time.sleep(3)
        assert waiting.is_alive(), "the second run wrote into kube-system during the first's turn"
        assert owner(cluster, "kube-system") == first.namespace
        closed.append(first)
        assert first.close() == []
        waiting.join(60)
        assert refused == [None]
        assert owner(cluster, "kube-system") == second.namespace
    finally:
        for session in (first, second):
            if session not in closed:
                session.close()
    assert owner(cluster, "kube-system") is None
    assert cluster.kubectl("get", "namespace", "kube-system").returncode == 0
    lease = cluster.kubectl("get", "lease", lease_name("kube-system"), "-n", LOCK_NAMESPACE)
    assert "NotFound" in lease.stderr


def test_a_turn_left_by_a_killed_run_is_taken_over(cluster: Cluster) -> None:
    stale = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": lease_name("default"), "namespace": LOCK_NAMESPACE},
        "spec": {"holderIdentity": "kdocs-killed-run-000000"},  # that namespace is long gone
    }
    cluster.kubectl("create", "-f", "-", input=json.dumps(stale), check=True)
    session = Session(RunContext(cluster, ROOT), "takeover")
    try:
        session.open()
        started = time.monotonic()
        assert session.apply([Payload((daemonset("default"),))]) is None
        assert time.monotonic() - started < 10
        assert owner(cluster, "default") == session.namespace
    finally:
        assert session.close() == []
    gone = cluster.kubectl("get", "lease", lease_name("default"), "-n", LOCK_NAMESPACE)
    assert "NotFound" in gone.stderr


def test_a_namespace_the_cluster_lacks_is_made_for_the_unit_and_removed_after(
    cluster: Cluster,
) -> None:
    session = Session(RunContext(cluster, ROOT), "made")
    try:
        session.open()
        assert session.apply([Payload((daemonset("kdocs-made-for-a-test"),))]) is None
        found = session.select({"apiVersion": "apps/v1", "kind": "DaemonSet",
                                "metadata": {"name": "kdocs-shared-probe"}})  # fmt: skip
        assert [o["metadata"]["namespace"] for o in found] == ["kdocs-made-for-a-test"]
    finally:
        assert session.close() == []
    gone = cluster.kubectl("get", "namespace", "kdocs-made-for-a-test")
    assert "NotFound" in gone.stderr


def test_a_namespace_a_snippet_declares_that_the_cluster_had_is_kept(cluster: Cluster) -> None:
    declared = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-public"}}
    session = Session(RunContext(cluster, ROOT), "declared")
    try:
        session.open()
        assert session.apply([Payload((declared,)), Payload((daemonset("kube-public"),))]) is None
        assert owner(cluster, "kube-public") == session.namespace
    finally:
        assert session.close() == []
    assert cluster.kubectl("get", "namespace", "kube-public").returncode == 0
    assert owner(cluster, "kube-public") is None
    done = cluster.kubectl("get", "namespace", "kube-public", "-o", "json", check=True)
    assert OWNER_LABEL not in (json.loads(done.stdout)["metadata"].get("labels") or {})
