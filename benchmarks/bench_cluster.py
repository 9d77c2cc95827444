"""Cluster stage: binaries, Karpenter, `kdocs cluster up`, scenarios, `cluster down`, re-run.

Runs in a copy of the project (docs, snippets, schemas, clusters, pyproject) in a
temporary folder, with its own KDOCS_CACHE, so the cluster it creates (named
``kdocs``, by `kdocs cluster up`) lives in that cache and never touches the
clusters or results of anyone else on the machine.  The cache's ``bin/`` and
``components/`` are links to the real cache's: the binaries are built once per
machine.  The guide's topology runs a real Karpenter (its KWOK cloud provider),
so `cluster up` includes starting it, and the Karpenter lines measure its cold
build, the time from a Pending pod to a Ready node it launched, and the guide's
scenarios, which run against it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_validate import cache_root
from measure import Run, run

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "clusters" / "build" / "build-binaries.sh"
BUILD_COMPONENT = REPO / "clusters" / "build" / "build-component.sh"
GUIDE = "snippets/karpenter-daemonset/"
PROJECT_PARTS = ("docs", "snippets", "schemas", "clusters", "macros", "pyproject.toml",
                 "mkdocs.yml")  # fmt: skip
# Runs of all scenarios; the median one is reported (one run swings by several seconds).
SCENARIO_RUNS = 3
ONE_SCENARIO = "snippets/contributing/web-deployment.scenario.yaml"
# The default check of one snippet per kind family (goal: under 5 s each, the unit alone).
DEFAULT_CHECKS = {
    "Deployment": "snippets/contributing/default-checks/deployment.yaml",
    "Job": "snippets/contributing/default-checks/job.yaml",
    "StatefulSet with claims": "snippets/contributing/default-checks/statefulset.yaml",
}


@dataclass
class Step:
    what: str
    command: str
    run: Run | None
    note: str = ""
    spread: list[float] = field(default_factory=list)  # every run's seconds, when repeated

    @property
    def seconds(self) -> float | None:
        return self.run.seconds if self.run else None


def other_clusters(mine: Path) -> list[str]:
    """Command lines of kube-apiservers not started from `mine` (someone else's tests)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            cmdline
            and cmdline[0].endswith(b"kube-apiserver")
            and str(mine).encode() not in cmdline[0]
        ):
            found.append(cmdline[0].decode(errors="replace"))
    return found


def binaries() -> Step:
    """Make sure the pinned binaries are built; report how long building them took."""
    done = run(["bash", str(BUILD)], cwd=REPO, timeout=3 * 3600)
    if done.code != 0:
        raise SystemExit(f"building the cluster binaries failed:\n{done.stderr[-2000:]}")
    bin_dir = Path(done.stdout.strip().splitlines()[-1])
    if "building" in done.stderr:
        return Step("cold build of the binaries", "clusters/build/build-binaries.sh", done,
                    "built now")  # fmt: skip
    manifest = (bin_dir / "MANIFEST").read_text()
    match = re.search(r"built (\S+) in (\d+)s", manifest)
    note = "cached; " + (
        f"{match[2]} s recorded in its MANIFEST when it was built ({match[1]})"
        if match else "no build time recorded"
    )  # fmt: skip
    recorded = Run(float(match[2]), 0, 0, "", "") if match else None
    return Step("cold build of the binaries", "clusters/build/build-binaries.sh", recorded, note)


def cold_build(work: Path) -> Step:
    """A real cold build: empty binary cache and empty Go build cache (modules stay)."""
    env = {**os.environ, "KDOCS_CACHE": str(work / "cold-cache"), "GOCACHE": str(work / "gocache")}
    done = run(["bash", str(BUILD), "--force"], cwd=REPO, env=env, timeout=3 * 3600)
    if done.code != 0:
        raise SystemExit(f"cold build failed:\n{done.stderr[-2000:]}")
    shutil.rmtree(work / "gocache", ignore_errors=True)
    shutil.rmtree(work / "cold-cache", ignore_errors=True)
    return Step("cold build of the binaries", "GOCACHE=<empty> build-binaries.sh --force", done,
                "measured now: empty Go build cache, Go modules already downloaded")  # fmt: skip


def karpenter_build(work: Path, cold: bool) -> Step:
    """Karpenter's build: measured now from an empty Go build cache, or read from its MANIFEST."""
    command = "clusters/build/build-component.sh karpenter"
    if cold:
        env = {
            **os.environ,
            "KDOCS_CACHE": str(work / "cold-k"),
            "GOCACHE": str(work / "gocache-k"),
        }
        done = run(["bash", str(BUILD_COMPONENT), "--force", "karpenter"], cwd=REPO, env=env,
                   timeout=3 * 3600)  # fmt: skip
        shutil.rmtree(work / "gocache-k", ignore_errors=True)
        shutil.rmtree(work / "cold-k", ignore_errors=True)
        note = "measured now: empty Go build cache, Go modules already downloaded"
        return Step("cold build of Karpenter", f"GOCACHE=<empty> {command} --force", done, note)
    done = run(["bash", str(BUILD_COMPONENT), "karpenter"], cwd=REPO, timeout=3 * 3600)
    if done.code != 0:
        raise SystemExit(f"building Karpenter failed:\n{done.stderr[-2000:]}")
    manifest = (Path(done.stdout.strip().splitlines()[-1]) / "MANIFEST").read_text()
    match = re.search(r"built (\S+) in (\d+)s", manifest)
    recorded = Run(float(match[2]), 0, 0, "", "") if match else None
    note = f"cached; {match[2]} s recorded in its MANIFEST ({match[1]})" if match else "cached"
    return Step("cold build of Karpenter", command, recorded, note)


def pending_to_node(project: Path, env: dict[str, str], kdocs: str) -> Step:
    """From a Pending pod to a Ready node that Karpenter launched for it (the default NodePool)."""
    status = subprocess.run([kdocs, "cluster", "status"], cwd=project, env=env,
                            capture_output=True, text=True)  # fmt: skip
    kubeconfig = re.search(r"kubeconfig: (\S+)", status.stdout)
    kubectl = re.search(r"kubectl: +(\S+)", status.stdout)
    if not (kubeconfig and kubectl):
        return Step("Pending pod to Ready Karpenter node", "-", None, "no cluster")
    base = [kubectl[1], f"--kubeconfig={kubeconfig[1]}"]
    name = f"bench-{os.getpid()}-{int(time.time())}"  # a node of an earlier run never counts
    pool = {
        "apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": name},
        "spec": {"template": {"spec": {
            "nodeClassRef": {
                "group": "karpenter.kwok.sh", "kind": "KWOKNodeClass", "name": "default",
            },
            "requirements": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}],
        }}},
    }  # fmt: skip
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeSelector": {"karpenter.sh/nodepool": name},
                 "containers": [{"name": "c", "image": "x", "resources": {
                     "requests": {"cpu": "500m"}}}]},
    }  # fmt: skip
    subprocess.run([*base, "apply", "-f", "-"], input=json.dumps(pool), text=True,
                   capture_output=True, check=True)  # fmt: skip
    started = time.monotonic()
    subprocess.run([*base, "apply", "-f", "-"], input=json.dumps(pod), text=True,
                   capture_output=True, check=True)  # fmt: skip
    seconds, note = None, ""
    while time.monotonic() - started < 120:
        nodes = subprocess.run(
            [*base, "get", "nodes", "-l", f"karpenter.sh/nodepool={name}", "-o",
             "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}"],
            capture_output=True, text=True,
        )  # fmt: skip
        if "True" in nodes.stdout.split():
            seconds = time.monotonic() - started
            break
        time.sleep(0.1)
    else:
        note = "no Ready node within 120 s"
    # Karpenter registers the node (lifts its karpenter.sh/unregistered taint) a moment later;
    # a NodeClaim deleted before its node exists would leave that node behind.
    until = time.monotonic() + 60
    while time.monotonic() < until:
        taints = subprocess.run(
            [*base, "get", "nodes", "-l", f"karpenter.sh/nodepool={name}", "-o",
             "jsonpath={.items[*].spec.taints[*].key}"], capture_output=True, text=True,
        )  # fmt: skip
        if taints.returncode == 0 and "karpenter.sh/unregistered" not in taints.stdout:
            break
        time.sleep(0.2)
    subprocess.run([*base, "delete", f"pod/{name}", "-n", "default", "--wait=true"],
                   capture_output=True)  # fmt: skip
    subprocess.run([*base, "delete", f"nodepool/{name}", "--wait=true", "--timeout=120s"],
                   capture_output=True)  # fmt: skip
    subprocess.run([*base, "wait", "--for=delete", "nodes", "-l", f"karpenter.sh/nodepool={name}",
                    "--timeout=120s"], capture_output=True)  # fmt: skip
    return Step("Pending pod to Ready Karpenter node", "kubectl apply (NodePool, Pod); poll nodes",
                Run(seconds, 0, 0, "", "") if seconds is not None else None, note)  # fmt: skip


def measure(work: Path, with_cold_build: bool) -> tuple[list[Step], list[str]]:
    project = work / "project"
    project.mkdir(parents=True)
    for part in PROJECT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, project / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, project / part)
    steps = [cold_build(work) if with_cold_build else binaries()]
    steps.append(karpenter_build(work, with_cold_build))
    cache = work / "cache"
    cache.mkdir()
    (cache / "bin").symlink_to(cache_root() / "bin")
    (cache_root() / "components").mkdir(parents=True, exist_ok=True)
    (cache / "components").symlink_to(cache_root() / "components")
    env = {**os.environ, "KDOCS_CACHE": str(cache), "KDOCS_PROVIDER": "kwok"}
    notes = []
    others = other_clusters(cache)
    if others:
        notes.append(f"{len(others)} other kube-apiserver(s) ran on the machine meanwhile")
    kdocs = str(Path(sys.executable).parent / "kdocs")

    def step(what: str, args: list[str], expect: tuple[int, ...] = (0,)) -> Step:
        done = run([kdocs, *args], cwd=project, env=env, timeout=1800)
        note = (
            "" if done.code in expect else f"exit {done.code}: {_last(done.stderr or done.stdout)}"
        )
        return Step(what, "kdocs " + " ".join(args), done, note)

    try:
        steps.append(step("warm `cluster up` to ready (with Karpenter)", ["cluster", "up"]))
        steps.append(pending_to_node(project, env, kdocs))
        steps.append(step("one scenario", ["test", "--force", ONE_SCENARIO]))
        for kind, snippet in DEFAULT_CHECKS.items():
            done = step(f"default check: {kind}", ["test", "--force", "--output", "json", snippet])
            done.note = (done.note + " " + _unit_seconds(done)).strip()
            steps.append(done)
        every = _median_of(
            [step("all scenarios and snippets", ["test", "--force", "--output", "json"])
             for _ in range(SCENARIO_RUNS)]
        )  # fmt: skip
        steps += [every, _guide_share(every)]
    finally:
        steps.append(step("`cluster down`", ["cluster", "down"]))
    rerun = step("unchanged re-run of all (cluster down)", ["test"])
    status = subprocess.run([kdocs, "cluster", "status"], cwd=project, env=env,
                            capture_output=True, text=True)  # fmt: skip
    started = _kwok_pids(cache)
    if status.returncode == 0 or started:
        rerun.note += " it brought a cluster up"
        subprocess.run([kdocs, "cluster", "down"], cwd=project, env=env, capture_output=True)
    else:
        rerun.note += " no cluster started"
    summary = _last(rerun.run.stdout) if rerun.run else ""
    if summary:
        rerun.note += f"; it said: {summary}"
    steps.append(rerun)
    return steps, notes


def _median_of(runs: list[Step]) -> Step:
    """The run of the median time, its note saying every run's: one run of all scenarios
    swings by ±5 s on this machine (a loaded CPU slows kubectl and the controllers alike)."""
    failed = [r for r in runs if r.note or r.seconds is None]
    if failed:
        return failed[0]  # a failure is what the table must show
    timed = sorted(runs, key=lambda r: r.seconds or 0.0)
    middle = timed[len(timed) // 2]
    middle.spread = [r.seconds or 0.0 for r in runs]
    middle.note = "median of " + ", ".join(f"{t:.1f}" for t in middle.spread) + " s"
    return middle


def _kwok_pids(cache: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(cache).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _unit_seconds(step: Step) -> str:
    """The unit's own time from the JSON report (the wall time adds start-up and cluster reuse)."""
    try:
        outcome = json.loads(step.run.stdout)["outcomes"][0] if step.run else {}
    except (ValueError, KeyError, IndexError):
        return ""
    return f"the check itself: {outcome['seconds']:.2f} s ({outcome['status']})"


def _guide_share(every: Step) -> Step:
    """The Karpenter guide's units within the run of everything (they run one at a time,
    exclusive, as they count nodes cluster-wide): the sum of their own times per Kubernetes
    version (the versions run side by side, each on its own cluster; the larger sum is the
    figure), from the JSON report, so that the guide is not run a second time to time it."""
    what, command = "the Karpenter guide's scenarios", f"(units under {GUIDE}, in the run above)"
    try:
        outcomes = json.loads(every.run.stdout)["outcomes"] if every.run else []
    except (ValueError, KeyError):
        return Step(what, command, None, "no JSON report")
    mine = [o for o in outcomes if str(o.get("source", "")).startswith(GUIDE)]
    if not mine:
        return Step(what, command, None, "no unit of the guide in the report")
    versions: dict[str, list[dict]] = {}
    for outcome in mine:  # "name (Kubernetes 1.34)" when the run proved several versions
        found = re.search(r"\(Kubernetes ([^)]+)\)$", str(outcome.get("name", "")))
        versions.setdefault(found.group(1) if found else "", []).append(outcome)
    sums = {v: sum(float(o.get("seconds", 0)) for o in units) for v, units in versions.items()}
    notes = []
    for version, units in sorted(versions.items()):
        each = ", ".join(
            f"{Path(o['source']).name.split('.')[0]} {float(o.get('seconds', 0)):.0f} s"
            f" (cleanup {float(o.get('cleanup_seconds', 0)):.0f} s)"
            f"{'' if o.get('status') == 'passed' else ' (' + str(o.get('status')) + ')'}"
            for o in sorted(units, key=lambda o: -float(o.get("seconds", 0)))
        )
        label = f"Kubernetes {version}: " if version else ""
        notes.append(f"{label}{sums[version]:.0f} s ({each})")
    note = "sum of unit times per version, the larger one counted: " + "; ".join(notes)
    return Step(what, command, Run(max(sums.values()), 0, 0, "", ""), note)


def _last(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[-1].split())[:160] if lines else ""
