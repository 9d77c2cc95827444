"""A cluster that died, and runs that died: found in seconds, never by waiting on timeouts.

A dead etcd leaves the API server accepting connections and answering
nothing, so every kubectl of a run would wait out its own timeout (a run took
~190 s to end). While units run, `HealthWatch` asks /readyz every few
seconds (an apply stored since the last ask stands for one: etcd took it);
three failed answers in a row end the run as "cluster unavailable"
(exit 2, nothing recorded) and stop the kubectl calls still waiting.

`sweep_orphans` removes what SIGKILLed runs left: namespaces labelled with a
run whose owner process is gone (see kdocs/cluster/owner.py), or, when the
owner cannot be checked from here, older than ORPHAN_AGE; and the
cluster-scoped objects those namespaces' units made. A run does not wait for
its namespaces to be gone (the namespace controller's fixed 5 s grace), so the
sweep also names the namespaces of ended runs still Terminating after
STUCK_AFTER, with what the controller says holds them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.kube import delete_own, get_json, kubectl, reason, wrote_within
from kdocs.cluster.model import Cancelled, StepFailed
from kdocs.cluster.owner import OwnerState, owner_state
from kdocs.cluster.session import OWNER_LABEL, RUN_LABEL, RunContext

_FAILED_CHECK = re.compile(r"\[-\]([^\\\n\[]+?)(?=\\n|\n|$)")
# The request timed out (kubectl's --request-timeout) or the server gave up waiting on etcd.
_NO_ANSWER = re.compile(r"Client\.Timeout|context deadline exceeded|timed out|Timeout", re.I)
PROBE_TIMEOUT = 5.0  # seconds the API server has to answer /readyz
PROBE_INTERVAL = 3.0
# In a row: one or two slow answers on a busy machine are not a dead cluster. A dead etcd
# fails /readyz in ~2 s, so it is found in ~15 s; no answer at all in at most ~24 s.
FAILURES = 3
# Namespaces whose owner cannot be checked from this machine are swept only when older than
# any run lasts, so a live run elsewhere on a shared cluster is never touched.
ORPHAN_AGE = timedelta(hours=6)
# A namespace is gone ~5 s after its deletion (the controller's grace period, then its
# defaults removed); still Terminating after this, something holds it (a finalizer).
STUCK_AFTER = timedelta(minutes=2)


def readiness_problem(cluster: Cluster, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Why the API server (and its etcd) is not ready, or None when it is.

    Only a failed readiness check, no answer in time or no connection count: an API
    server that answers at all but will not show /readyz (RBAC) is alive.
    """
    try:
        done = kubectl(
            cluster, "get", "--raw", "/readyz", f"--request-timeout={timeout:g}s",
            timeout=timeout + 5,
        )  # fmt: skip
    except ClusterUnavailableError as error:
        return str(error).removeprefix("the API server is unreachable: ")
    except Cancelled:
        return None  # the probe's kubectl was stopped with the run: no news
    # kubectl quotes the verbose answer on one line, "\\n" escaped: keep the failed checks.
    failed = _FAILED_CHECK.findall(done.stderr) if done.returncode else []
    if failed:
        return "/readyz: " + "; ".join(failed)
    if done.returncode and _NO_ANSWER.search(done.stderr):
        return reason(done.stderr)
    return None


class HealthWatch:
    """While the block runs, probe /readyz; on FAILURES in a row, cancel the run as unavailable."""

    def __init__(self, ctx: RunContext, interval: float = PROBE_INTERVAL) -> None:
        self.ctx, self.interval = ctx, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="health", daemon=True)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        failures = 0
        while not self._stop.wait(self.interval):
            # A write stored since the last probe proves the server and etcd as /readyz would.
            wrote = wrote_within(self.ctx.cluster, self.interval)
            problem = None if wrote else readiness_problem(self.ctx.cluster)
            failures = failures + 1 if problem else 0
            if problem and failures >= FAILURES:
                self.ctx.unhealthy = f"the API server is unreachable: {problem}"
                self.ctx.cancel.set()
                stop_kubectl_calls(self.ctx.cluster)
                return


def confirmed_problem(cluster: Cluster) -> str | None:
    """`readiness_problem`, asked again a moment later before it is believed (a unit failed:
    is it the guide, or the cluster dying under it?)."""
    problem = readiness_problem(cluster)
    if problem is None:
        return None
    time.sleep(PROBE_INTERVAL)
    return readiness_problem(cluster)


def stop_kubectl_calls(cluster: Cluster) -> None:
    """SIGTERM this process's kubectl children talking to `cluster` (they wait on a dead server)."""
    me, flag = os.getpid(), f"--kubeconfig={cluster.kubeconfig}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == me and argv[0] == str(cluster.kubectl_binary).encode() and flag in argv:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGTERM)


@dataclass
class Swept:
    """What `sweep_orphans` found: the namespaces it deleted, and those stuck Terminating
    (each with what holds it)."""

    removed: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """One line each for the run's progress; none when there was nothing to sweep."""
        lines = []
        if self.removed:
            count, names = len(self.removed), ", ".join(self.removed)
            lines.append(f"removed {count} namespace(s) of killed runs: {names}")
        if self.stuck:
            lines.append(f"namespace(s) of ended runs stuck Terminating: {'; '.join(self.stuck)}")
        return lines


def sweep_orphans(cluster: Cluster, now: datetime | None = None) -> Swept:
    """Delete the namespaces (and their cluster-scoped objects) of runs that died, and name
    those of ended runs the namespace controller has not removed after STUCK_AFTER."""
    done = kubectl(cluster, "get", "namespaces", "-l", RUN_LABEL, "-o", "json", timeout=30)
    if done.returncode:
        return Swept()  # not allowed to list namespaces (a restricted context): nothing to judge
    now = now or datetime.now(UTC)
    swept = Swept()
    orphans = swept.removed
    for item in json.loads(done.stdout or "{}").get("items") or []:
        meta = item.get("metadata") or {}
        if (item.get("status") or {}).get("phase") == "Terminating":
            deleted = _timestamp(meta.get("deletionTimestamp"))
            if deleted is not None and now - deleted > STUCK_AFTER:
                swept.stuck.append(f"{meta.get('name')} ({_holding(item)})")
            continue
        state = owner_state(meta.get("annotations") or {})
        created = _timestamp(meta.get("creationTimestamp"))
        old = created is not None and now - created > ORPHAN_AGE
        if state is OwnerState.DEAD or (state is OwnerState.UNKNOWN and old):
            orphans.append(str(meta["name"]))
    if not orphans:
        return swept
    scoped = kubectl(
        cluster, "api-resources", "--namespaced=false", "--verbs=delete,list", "-o", "name",
        timeout=60,
    )  # fmt: skip
    kinds = ",".join(
        k for k in scoped.stdout.split() if k != "namespaces" and not k.startswith("nodes")
    )
    if scoped.returncode == 0 and kinds:
        selector = f"{OWNER_LABEL} in ({','.join(orphans)})"
        kubectl(
            cluster, "delete", kinds, "-l", selector, "--ignore-not-found", "--wait=false",
            timeout=60,
        )  # fmt: skip
    kubectl(
        cluster, "delete", "namespace", *orphans, "--ignore-not-found", "--wait=false", timeout=60
    )
    return swept


def namespaces_not_deleting(cluster: Cluster, run_id: str) -> str | None:
    """Make sure every namespace of run `run_id` is being deleted; what was not, else None.

    Not waited for until gone: the namespace controller holds a deleted namespace for a
    fixed 5 s (namespaceDeletionGracePeriod) before it empties it, which added 5 s to
    every run; what a unit made was deleted, and waited for, by its own cleanup already,
    so only the namespace's own defaults (its ServiceAccount, ConfigMap and Events) are
    left for the controller. One it never finishes is reported by a later run's sweep
    (`sweep_orphans`).
    """
    try:
        found = get_json(cluster, "namespaces", "-l", f"{RUN_LABEL}={run_id}")
    except (StepFailed, ClusterUnavailableError) as error:
        return str(error)
    except Cancelled:
        return "interrupted"
    items = (found or {}).get("items") or []
    left = [i["metadata"]["name"] for i in items if not i["metadata"].get("deletionTimestamp")]
    problems: list[str] = []
    for name in left:  # a unit's cleanup failed to ask (it said so): asked once more
        try:
            delete_own(cluster, "namespaces", name)
        except (StepFailed, ClusterUnavailableError, Cancelled) as error:
            problems.append(f"delete namespace {name}: {error or 'interrupted'}")
    if left and not problems:
        return f"deleted only at the end of the run: {', '.join(left)}"
    return "; ".join(problems) or None


def _holding(namespace: dict[str, Any]) -> str:
    """What the namespace controller says keeps a Terminating namespace (its true conditions)."""
    conditions = (namespace.get("status") or {}).get("conditions") or []
    said = [
        str(c.get("message") or c.get("reason")) for c in conditions
        if isinstance(c, dict) and c.get("status") == "True"
    ]  # fmt: skip
    return "; ".join(said) or "the controller says nothing"


def _timestamp(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
