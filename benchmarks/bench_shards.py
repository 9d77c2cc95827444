"""Sharding and the version matrix: what splitting the cluster stage buys, what a version costs.

A synthetic site of GUIDES guides x SCENARIOS scenarios (a ConfigMap snippet per
guide, each scenario applies it and asserts on it) in a temporary project with
its own KDOCS_CACHE (bin/ and components/ link to the real cache, so nothing is
rebuilt; its clusters are its own and are removed at the end):

- 1 vs 2 vs 3 shards, whole processes (`kdocs test --force [--shard I/N]`), the
  shards one after the other and all at once, on one warm kwok cluster;
- the projected wall time with N CI runners: the per-process overhead plus the
  largest shard's share of the measured work, shards split by the durations the
  unsharded run recorded (the split `kdocs test --shard` makes);
- each extra cluster version: its cold build (from its MANIFEST), bringing its
  cluster up, and one scenario's time on it next to the default version.

    .venv/bin/python benchmarks/bench_shards.py [--guides 50] [--scenarios 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bench_validate import cache_root
from measure import run

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kdocs.config import CLUSTER_RELEASES, DEFAULT_CLUSTER_VERSIONS  # noqa: E402
from kdocs.results import ResultStore  # noqa: E402
from kdocs.shards import Work, assign, weights  # noqa: E402

RUNNERS = (1, 2, 3, 5, 10)
SNIPPET = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  n: \"{n}\"\n"
SCENARIO = """\
name: {name}
steps:
  - apply: config.yaml
  - assert:
      timeout: 10s
      object: {{apiVersion: v1, kind: ConfigMap, metadata: {{name: {config}}}, data: {{n: "{n}"}}}}
"""


def synthetic_project(root: Path, guides: int, scenarios: int, versions: list[str]) -> None:
    """GUIDES folders under snippets/, each a ConfigMap and SCENARIOS scenarios using it."""
    for part in ("clusters", "schemas"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [tool.kdocs]
        results-file = ".kdocs/results.json"
        cluster-versions = {json.dumps(versions)}
    """))  # fmt: skip
    for g in range(guides):
        folder = root / "snippets" / f"guide-{g:03d}"
        folder.mkdir(parents=True)
        (folder / "config.yaml").write_text(SNIPPET.format(name=f"config-{g}", n=g))
        for s in range(scenarios):
            name = f"guide-{g:03d}-claim-{s}"
            (folder / f"claim-{s}.scenario.yaml").write_text(
                SCENARIO.format(name=name, config=f"config-{g}", n=g)
            )


def section(args: argparse.Namespace, work: Path, log) -> list[str]:
    """The Markdown section `make bench` prints."""
    guides, scenarios = getattr(args, "shard_guides", 50), getattr(args, "shard_scenarios", 3)
    rows, notes = measure(work, guides, scenarios, log)
    out = [f"## 5. Sharding and cluster versions ({guides} guides x {scenarios} scenarios)", ""]
    out += ["| what | wall time | note |", "| --- | ---: | --- |"]
    out += [f"| {what} | {seconds} | {note} |" for what, seconds, note in rows]
    return out + [""] + [f"- {n}" for n in notes] + [""]


def measure(work: Path, guides: int, scenarios: int, log) -> tuple[list[tuple], list[str]]:
    project = work / "project"
    project.mkdir(parents=True)
    default = DEFAULT_CLUSTER_VERSIONS[0]
    extra = [v for v in CLUSTER_RELEASES if v != default]
    synthetic_project(project, guides, scenarios, [default])
    cache = work / "cache"
    cache.mkdir()
    (cache / "bin").symlink_to(cache_root() / "bin")
    (cache / "components").symlink_to(cache_root() / "components")
    env = {**os.environ, "KDOCS_CACHE": str(cache), "KDOCS_PROVIDER": "kwok"}
    kdocs = str(Path(sys.executable).parent / "kdocs")
    rows: list[tuple] = []
    notes = [f"{guides * scenarios} scenarios; every run is `--force` (nothing skipped), "
             "`--jobs 4` (the default), whole processes, on one warm kwok cluster"]  # fmt: skip

    def timed(*argv: str) -> float:
        done = run([kdocs, *argv], cwd=project, env=env, timeout=7200)
        if done.code not in (0, 1):
            raise SystemExit(f"kdocs {' '.join(argv)}: exit {done.code}: {done.stderr[-800:]}")
        return done.seconds

    try:
        log("shards: cluster up")
        rows.append(("warm-up: `kdocs cluster up` (created)", f"{timed('cluster', 'up'):.1f} s",
                     "once per runner in CI"))  # fmt: skip
        log("shards: unsharded run")
        whole = timed("test", "--force")
        rows.append(("1 shard (unsharded)", f"{whole:.1f} s", ""))
        store = ResultStore(project / ".kdocs" / "results.json", project)
        durations = store.durations()
        for total in (2, 3):
            log(f"shards: {total} shards one after the other")
            shards = [f"{i}/{total}" for i in range(1, total + 1)]
            each = [timed("test", "--force", "--shard", shard) for shard in shards]
            per_shard = ", ".join(f"{s:.1f} s" for s in each)
            rows.append((f"{total} shards, one after the other", f"{sum(each):.1f} s",
                         f"each: {per_shard}"))  # fmt: skip
            log(f"shards: {total} shards at once")
            started = time.perf_counter()
            procs = [
                subprocess.Popen([kdocs, "test", "--force", "--shard", shard], cwd=project,
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for shard in shards
            ]  # fmt: skip
            codes = [p.wait(timeout=7200) for p in procs]
            wall = time.perf_counter() - started
            rows.append((f"{total} shards at once (one cluster, 2 cores)", f"{wall:.1f} s",
                         f"exit codes {codes}"))  # fmt: skip
        idle = timed("test", "--shard", "1/1")  # all unchanged: planning and start-up only
        rows.append(("overhead of one process (all skipped)", f"{idle:.1f} s", ""))
        work_seconds = max(whole - idle, 0.0)
        names = [f"scenario:{n}" for n in _scenario_names(project)]
        units = [Work(n, durations.get(n)) for n in names]
        total_load = sum(weights(units).values())
        for runners in RUNNERS:
            biggest = max(sum(weights(units)[n] for n in shard) for shard in assign(units, runners))
            projected = idle + work_seconds * biggest / total_load
            rows.append((f"projected: {runners} CI runner(s)", f"{projected:.1f} s",
                         "+ each runner's own setup and cluster up"))  # fmt: skip
        notes.append("projection: overhead + unsharded work x (largest shard's recorded "
                     "duration / all recorded durations), shards split as --shard splits them")
        for minor in extra:
            rows += _version_cost(project, env, kdocs, minor, default, log)
    finally:
        subprocess.run([kdocs, "cluster", "down"], cwd=project, env=env, capture_output=True)
    return rows, notes


def _scenario_names(project: Path) -> list[str]:
    return sorted(
        re.search(r"^name: (\S+)", p.read_text(), re.M)[1]
        for p in (project / "snippets").rglob("*.scenario.yaml")
    )


def _version_cost(project: Path, env: dict, kdocs: str, minor: str, default: str, log) -> list:
    """Cold build (recorded), cluster creation and one scenario's time on version `minor`."""
    release = CLUSTER_RELEASES[minor]
    rows = []
    manifest = next(cache_root().glob(f"bin/k8s-{release}_*/MANIFEST"), None)
    match = re.search(r"built (\S+) in (\d+)s", manifest.read_text()) if manifest else None
    note = "not built yet: clusters/build/build-binaries.sh with K8S_VERSION"
    if match:
        note = f"from its MANIFEST ({match[1]})"
    rows.append((f"Kubernetes {release}: cold build of its binaries",
                 f"{match[2]} s" if match else "n/a", note))  # fmt: skip
    if manifest is None:
        return rows
    one = str(next((project / "snippets").rglob("claim-0.scenario.yaml")))
    timings = {}
    for version in (minor, minor, default):
        log(f"versions: one scenario on {version}")
        done = run([kdocs, "test", "--force", "--output", "json", "--cluster-version", version,
                    one], cwd=project, env=env, timeout=3600)  # fmt: skip
        seconds = json.loads(done.stdout)["outcomes"][0]["seconds"] if done.code == 0 else None
        timings.setdefault(version, []).append((done.seconds, seconds))
    (first, unit_first), (again, unit) = timings[minor]
    _, unit_default = timings[default][0]
    rows.append((f"Kubernetes {release}: first run, its cluster created", f"{first:.1f} s",
                 f"reused next time: {again:.1f} s; creation ~{first - again:.1f} s"))  # fmt: skip
    rows.append((f"Kubernetes {release}: one scenario", f"{unit or 0:.2f} s",
                 f"on {CLUSTER_RELEASES[default]}: {unit_default or 0:.2f} s"))  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guides", type=int, default=50)
    parser.add_argument("--scenarios", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    args.shard_guides, args.shard_scenarios = args.guides, args.scenarios
    import tempfile

    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[shards {time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr,
              flush=True)  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="kdocs-shards-") as tmp:
        print("\n".join(section(args, args.work or Path(tmp), log)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
