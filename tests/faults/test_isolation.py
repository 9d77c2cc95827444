"""One checkout never disturbs another; a killed run is cleaned up by the next one.

Clones are real `git clone`s of this repository into tmp_path, run with the
code under test (PYTHONPATH) and a cache root of the test's own (its `bin/`
linked to the real binaries), so their kwok clusters are the test's and are
all removed at the end (`kdocs cluster down --all`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.cluster.health import STUCK_AFTER, sweep_orphans
from kdocs.cluster.owner import HOST_ANNOTATION, PID_ANNOTATION, START_ANNOTATION, owner_annotations
from kdocs.cluster.providers._common import checkout_cluster_name
from kdocs.cluster.providers.kwok import KwokProvider
from kdocs.cluster.session import OWNER_LABEL, RUN_LABEL
from kdocs.config import load_settings
from tests.cluster.test_runner_helpers import AGENT, make_project, write
from tests.faults.conftest import ROOT, SETTINGS, TOPOLOGY, KdocsTest, kwok_only
from tests.signals import default_signals, interrupt, reaped

pytestmark = [pytest.mark.cluster, kwok_only]

SCENARIO = "snippets/karpenter-daemonset/daemonset-placement.scenario.yaml"


class Machine:
    """A cache root of the test's own, on which clones run `kdocs` as a user would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cache = folder / "cache"
        self.cache.mkdir(parents=True)
        (self.cache / "bin").symlink_to(KwokProvider(SETTINGS).binaries().parent)
        self.env = {
            **os.environ, "KDOCS_CACHE": str(self.cache), "KDOCS_PROVIDER": "kwok",
            "PYTHONPATH": str(ROOT),
        }  # fmt: skip

    def clone(self, name: str) -> Path:
        target = self.folder / name
        subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True, timeout=120)
        return target

    def kdocs(self, checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kdocs.cli", *args], cwd=checkout, env=self.env,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    def popen(self, checkout: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "kdocs.cli", *args], cwd=checkout, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=default_signals,
        )  # fmt: skip

    def cluster_dir(self, checkout: Path) -> Path:
        return self.cache / "kwok" / "clusters" / checkout_cluster_name(checkout)

    def provider(self, checkout: Path) -> KwokProvider:
        return KwokProvider(load_settings(checkout), workdir=self.cache / "kwok")


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    machine = Machine(tmp_path)
    try:
        yield machine
    finally:
        done = machine.kdocs(ROOT, "cluster", "down", "--all")
        assert done.returncode == 0, done.stderr
        assert not list((machine.cache / "kwok" / "clusters").glob("*"))


def wait_for_line(proc: subprocess.Popen[str], text: str) -> list[str]:
    """stderr lines up to the first containing `text` (the run goes on)."""
    seen: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if text in line:
            return seen
    pytest.fail(f"{text!r} never came:\n" + "".join(seen))


def test_one_clone_tests_while_another_removes_its_cluster_and_both_succeed(
    machine: Machine,
) -> None:
    mine, other = machine.clone("mine"), machine.clone("other")
    assert checkout_cluster_name(mine) != checkout_cluster_name(other)
    up = machine.kdocs(other, "cluster", "up")
    assert up.returncode == 0, up.stderr
    # One cluster per version the clone's kdocs test proves on: all warm for its next run.
    versions = load_settings(other).cluster_versions
    assert up.stdout.count(" cluster running: ") == len(versions), up.stdout

    theirs = machine.kdocs(other, "cluster", "status")  # every version's cluster, described
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    assert theirs.stdout.count(" cluster running: ") == len(versions), theirs.stdout
    status = machine.kdocs(mine, "cluster", "status")
    assert status.returncode == 1  # this checkout's clusters do not run yet
    for minor in load_settings(mine).cluster_versions:
        assert f"no kwok cluster of this checkout is running (Kubernetes {minor}: " in status.stdout
    # The other's clusters are listed as others', each version's one.
    assert f"{checkout_cluster_name(other)}  running  {other.resolve()}" in status.stdout
    assert status.stdout.count(f"  running  {other.resolve()}") == len(versions), status.stdout

    run = machine.popen(mine, "test", "--jobs", "1", "--output", "json", "--force", SCENARIO)
    try:
        # My cluster is up and in use: a step line ("daemonset-placement [1.34] [2/27] ...",
        # the version tag shown when several versions run side by side).
        seen = wait_for_line(run, "] [2/" if len(load_settings(mine).cluster_versions) > 1
                             else "daemonset-placement [2/")
        down = machine.kdocs(other, "cluster", "down")
        stdout, stderr = run.communicate(timeout=600)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert down.returncode == 0, down.stderr
    assert run.returncode == 0, "".join(seen) + stderr
    # One outcome per Kubernetes version the clone proves on, each on its own cluster.
    versions = load_settings(mine).cluster_versions
    assert [o["status"] for o in json.loads(stdout)["outcomes"]] == ["passed"] * len(versions)
    assert (mine / ".kdocs" / "results.json").exists()
    assert not machine.cluster_dir(other).exists()
    assert machine.provider(mine).current() is not None, "the other's down removed mine"


def test_sigterm_during_cluster_creation_leaves_no_process_behind(machine: Machine) -> None:
    checkout = machine.clone("clone")
    provider = machine.provider(checkout)
    apiserver_pid = provider.cluster_dir / "pids" / "kube-apiserver.pid"
    with reaped(machine.popen(checkout, "cluster", "up")) as up:
        deadline = time.monotonic() + 300
        while not apiserver_pid.exists():  # kwokctl is starting the control plane
            assert up.poll() is None, up.communicate()[1]
            assert time.monotonic() < deadline, "kube-apiserver never started"
            time.sleep(0.05)
        interrupt(up, signal.SIGTERM)
    assert provider.processes() == [], "a component of the half-built cluster still runs"
    assert not provider.cluster_dir.exists()


def namespace(cluster: Cluster, name: str, annotations: dict[str, str]) -> str:
    manifest = {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {RUN_LABEL: "sweep"}, "annotations": annotations},
    }  # fmt: skip
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest), check=True)
    return name


def gone_or_going(cluster: Cluster, kind: str, name: str) -> bool:
    done = cluster.kubectl("get", kind, name, "-o", "json")
    if done.returncode:
        return "NotFound" in done.stderr
    found = json.loads(done.stdout)
    return bool(found["metadata"].get("deletionTimestamp"))


def test_the_next_run_sweeps_what_killed_runs_left_and_nothing_of_live_ones(
    faults_provider: KwokProvider, tmp_path: Path
) -> None:
    cluster = faults_provider.up(TOPOLOGY)
    settings = make_project(tmp_path / "project")
    run = KdocsTest(cluster, settings)
    agent = settings.snippets_dir / "karpenter-daemonset" / "agent.scenario.yaml"
    write(agent, AGENT)
    killed = run.popen(agent)
    left = ""
    try:
        seen = []
        assert killed.stderr is not None
        for line in killed.stderr:
            seen.append(line)
            if line.startswith("▶ scenario agent"):
                left = line.rsplit("(", 1)[1].strip().rstrip(")")
            if "agent [2/" in line:  # its PriorityClass and DaemonSet exist
                break
        killed.kill()  # SIGKILL: no cleanup at all
    finally:
        killed.kill()
        killed.wait()
    assert not gone_or_going(cluster, "namespace", left), "".join(seen)
    owned = cluster.kubectl(
        "get", "priorityclasses", "-l", f"{OWNER_LABEL}={left}", "-o", "name", check=True
    ).stdout.split()
    assert owned, "the killed run left no cluster-scoped object to sweep"

    dead = namespace(cluster, "kdocs-sweep-dead", {
        HOST_ANNOTATION: owner_annotations()[HOST_ANNOTATION], PID_ANNOTATION: "999999999",
        START_ANNOTATION: "1",
    })  # fmt: skip
    live = namespace(cluster, "kdocs-sweep-live", owner_annotations())  # this very process
    elsewhere = namespace(cluster, "kdocs-sweep-elsewhere", {
        HOST_ANNOTATION: "another-machine/pid:[1]", PID_ANNOTATION: "1", START_ANNOTATION: "1",
    })  # fmt: skip

    config = write(settings.snippets_dir / "app" / "config.yaml", (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  a: b\n"
    ))  # fmt: skip
    done = run.run(config)
    assert done.returncode == 0, done.stderr
    assert "namespace(s) of killed runs" in done.stderr
    for name in (left, dead):
        assert gone_or_going(cluster, "namespace", name), name
    for name in owned:
        assert gone_or_going(cluster, *name.split("/")), name
    for name in (live, elsewhere):
        assert not gone_or_going(cluster, "namespace", name), f"{name} of a live run was swept"
    cluster.kubectl("delete", "namespace", live, elsewhere, "--wait=false", check=True)
    # Other faults tests expect no run namespace at all on this cluster: wait until all are gone.
    cluster.kubectl(
        "wait", "--for=delete", "--timeout=120s",
        *(f"namespace/{n}" for n in (left, dead, live, elsewhere)), timeout=150,
    )  # fmt: skip


def test_a_namespace_left_terminating_is_named_with_what_holds_it(
    faults_provider: KwokProvider,
) -> None:
    """A run asks for its namespaces' deletion without waiting them out; one the namespace
    controller cannot finish (here a finalizer nobody removes) is named by a later sweep,
    with the controller's own reason, once it has been Terminating longer than STUCK_AFTER."""
    cluster = faults_provider.up(TOPOLOGY)
    name = namespace(cluster, "kdocs-sweep-stuck", {
        HOST_ANNOTATION: owner_annotations()[HOST_ANNOTATION], PID_ANNOTATION: "999999999",
        START_ANNOTATION: "1",
    })  # fmt: skip
    held = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "namespace": name, "finalizers": ["kdocs.dev/test-hold"]},
    }  # fmt: skip
    cluster.kubectl("apply", "-f", "-", input=json.dumps(held), check=True)
    try:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=True)
        deadline = time.monotonic() + 60
        while "kdocs.dev/test-hold" not in _conditions(cluster, name):  # the controller tried
            assert time.monotonic() < deadline, _conditions(cluster, name)
            time.sleep(0.5)
        assert sweep_orphans(cluster).stuck == []  # Terminating for seconds only: not stuck
        later = sweep_orphans(cluster, now=datetime.now(UTC) + STUCK_AFTER + timedelta(seconds=5))
        assert later.removed == []  # being deleted already: nothing to sweep
        assert len(later.stuck) == 1 and later.stuck[0].startswith(f"{name} ("), later.stuck
        assert "kdocs.dev/test-hold" in later.stuck[0]
        assert "stuck Terminating" in later.notes()[0]
    finally:
        cluster.kubectl("patch", "configmap", "held", "-n", name, "--type=merge",
                        "-p", '{"metadata":{"finalizers":null}}')  # fmt: skip
        cluster.kubectl("wait", "--for=delete", f"namespace/{name}", "--timeout=120s", timeout=150)
    assert gone_or_going(cluster, "namespace", name)


def _conditions(cluster: Cluster, name: str) -> str:
    done = cluster.kubectl("get", "namespace", name, "-o", "jsonpath={.status.conditions}")
    return done.stdout
