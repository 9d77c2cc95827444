"""Namespaces a snippet names itself (`kube-system`, `default`, `monitoring`).

Such a snippet is applied where it says, as the reader's kubectl would. The
namespace is created for the unit when the cluster lacks it (and deleted with
the unit's objects); when the cluster had it, only the unit's own objects are
deleted. Unlike a unit's private namespace, a named one is shared: two units
(of one run, or of two checkouts' runs on one cluster) writing the same fixed
names into it would overwrite or delete each other's objects. So a unit takes
its turn on each named namespace with a Lease in kube-system, created
atomically (only one `create` can succeed) and released when the unit's
cleanup ends. A Lease whose holder namespace is gone (a SIGKILLed run) is
taken over with an optimistic-concurrency `replace`, so only one run wins it.
Within one run, the runner already serializes such units (conflict keys).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any, Protocol

LOCK_NAMESPACE = "kube-system"
LEASE_RESOURCE = "leases.v1.coordination.k8s.io"
NAMESPACE_RESOURCE = "namespaces"
TURN_TIMEOUT = 600.0  # a unit holds a namespace for one default check or scenario at most

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


class NamespaceUser(Protocol):
    """What of a unit's session this module uses (a Protocol: no import of the session)."""

    namespace: str

    def pause(self, seconds: float) -> None: ...

    def track(self, resource: str, name: str, namespace: str | None) -> None: ...


def lease_name(namespace: str) -> str:
    """`kdocs-ns-<namespace>`, shortened with a hash when it would pass 63 characters."""
    name = f"kdocs-ns-{namespace}"
    if len(name) <= 63:
        return name
    return f"kdocs-ns-{namespace[:40]}-{hashlib.sha256(namespace.encode()).hexdigest()[:12]}"


def enter(
    unit: NamespaceUser, namespace: str, kubectl: Kubectl, labels: dict[str, str]
) -> str | None:
    """Take the unit's turn on `namespace`, creating it when missing; why not, when it cannot.

    What is taken or made is tracked first, so the unit's cleanup (newest
    first) removes the namespace's objects, then the namespace it made, and
    gives the turn back last.
    """
    lease = lease_name(namespace)
    problem = _take_turn(unit, lease, namespace, kubectl, labels)
    if problem:
        return problem
    unit.track(LEASE_RESOURCE, lease, LOCK_NAMESPACE)
    if kubectl("get", NAMESPACE_RESOURCE, namespace, timeout=30).returncode == 0:
        return None  # the cluster had it: only the unit's objects will be removed
    manifest = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": labels},
    }
    unit.track(NAMESPACE_RESOURCE, namespace, None)  # before sending: an interrupt still deletes
    done = kubectl("create", "-f", "-", input=json.dumps(manifest), timeout=30)
    if done.returncode and "AlreadyExists" not in done.stderr:
        return f"cannot create namespace {namespace}: {done.stderr.strip()}"
    deadline = time.monotonic() + 60
    while kubectl("get", "sa/default", "-n", namespace, timeout=30).returncode:
        if time.monotonic() > deadline:  # pods are refused until this account exists
            return f"no default service account in namespace {namespace} after 60s"
        unit.pause(0.2)
    return None


def _take_turn(
    unit: NamespaceUser, lease: str, namespace: str, kubectl: Kubectl, labels: dict[str, str]
) -> str | None:
    body = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": lease, "namespace": LOCK_NAMESPACE, "labels": labels},
        "spec": {"holderIdentity": unit.namespace},
    }
    deadline = time.monotonic() + TURN_TIMEOUT
    holder = ""
    while True:
        done = kubectl("create", "-f", "-", input=json.dumps(body), timeout=30)
        if done.returncode == 0:
            return None
        if "AlreadyExists" not in done.stderr:
            return f"cannot take a turn on namespace {namespace}: {done.stderr.strip()}"
        current = _get(kubectl, LEASE_RESOURCE, lease, "-n", LOCK_NAMESPACE)
        if current is not None:
            holder = str((current.get("spec") or {}).get("holderIdentity") or "")
            if holder == unit.namespace:
                return None
            if _gone(kubectl, holder):  # its unit ended without giving the turn back
                current["spec"]["holderIdentity"] = unit.namespace
                taken = kubectl("replace", "-f", "-", input=json.dumps(current), timeout=30)
                if taken.returncode == 0:  # resourceVersion: one run wins, the other retries
                    return None
        if time.monotonic() > deadline:
            return (
                f"namespace {namespace} stayed in use by {holder or 'another unit'} for "
                f"{TURN_TIMEOUT:g}s (another run on this cluster writes into it)"
            )
        unit.pause(0.5)


def _gone(kubectl: Kubectl, namespace: str) -> bool:
    if not namespace:
        return True
    return "(NotFound)" in kubectl("get", NAMESPACE_RESOURCE, namespace, timeout=30).stderr


def _get(kubectl: Kubectl, *args: str) -> dict[str, Any] | None:
    done = kubectl("get", *args, "-o", "json", timeout=30)
    if done.returncode:
        return None
    try:
        return json.loads(done.stdout)
    except ValueError:
        return None
