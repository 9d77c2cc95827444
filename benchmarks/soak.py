"""`make soak`: many `kdocs test --force` runs of one scenario against one warm kwok cluster.

One run proves a scenario; hundreds in a row prove the machinery around it
does not wear out: no run fails by chance, no namespace or object is left
behind, no kubectl outlives its run, and the control plane's memory does not
creep up. Each run is the real command line, `kdocs test --provider kwok
--force SCENARIO`, in its own process, as a user would type it.

The cluster is a kwok cluster of the soak's own: KDOCS_CACHE points at a
temporary folder whose `bin/` is a link to the real binaries, so the `kdocs`
cluster the runs reuse lives there, never disturbs (or is disturbed by) the
machine's other clusters, and its memory is the soak's alone. The project is
a temporary copy holding the scenario's folder, so the site's results file is
never written. The cluster is removed at the end, also after Ctrl-C.

Per run: exit code, duration, namespaces labelled kdocs.dev/run still there (a minute
at most is given to those being deleted: a run does not wait for them),
objects labelled kdocs.dev/owner still there, processes of the run still
alive, and the resident memory (VmRSS) of the cluster's kube-apiserver and
etcd. Written to artifacts/soak/soak-<time>.csv and .md; a summary is printed.
Exit code 0 when every run passed and nothing leaked, 1 otherwise, 2 when the
soak could not start.

    python benchmarks/soak.py [--runs N] [--scenario PATH] [--out DIR]

A test tool, not part of the kdocs package (so not in its wheel).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from kdocs.cluster.base import Cluster
from kdocs.cluster.session import OWNER_LABEL, RUN_LABEL
from kdocs.config import Settings, load_settings
from kdocs.errors import KdocsError

DEFAULT_SCENARIO = "snippets/contributing/web-deployment.scenario.yaml"
MARKER = "KDOCS_SOAK_RUN"  # in the environment of every process a run starts
MEMORY = ("kube-apiserver", "etcd")
MiB = 1024 * 1024


@dataclass
class Run:
    """One `kdocs test` run and the state of the cluster right after it."""

    run: int
    at_s: float  # since the soak's first run started: memory over time
    exit_code: int
    seconds: float
    status: str  # the scenario's outcome, or what went wrong
    leaked_namespaces: int
    leaked_objects: int
    leftover_processes: int
    apiserver_rss_mib: float
    etcd_rss_mib: float
    rss_mib: float  # the two together
    message: str = ""

    @property
    def ok(self) -> bool:
        leaks = self.leaked_namespaces + self.leaked_objects + self.leftover_processes
        return self.exit_code == 0 and self.status == "passed" and leaks == 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks/soak.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=200, help="consecutive runs (default 200)")
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO, help="a scenario of the site")
    parser.add_argument("--out", default="artifacts/soak", help="report folder")
    parser.add_argument("--timeout", type=float, default=600, help="limit of one run (s)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    settings = load_settings()
    scenario = (settings.root / args.scenario).resolve()
    if not scenario.is_file() or settings.snippets_dir.resolve() not in scenario.parents:
        print(f"soak: {args.scenario}: not a scenario file under snippets/", file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    work = Path(tempfile.mkdtemp(prefix="kdocs-soak-"))
    try:
        return soak(settings, scenario, args.runs, out, work, args.timeout)
    except KdocsError as error:
        print(f"soak: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)


def soak(
    settings: Settings, scenario: Path, runs: int, out: Path, work: Path, timeout: float
) -> int:
    """Bring the soak's cluster up, run `runs` times, report; the cluster is removed after."""
    from kdocs.cluster.providers._common import cache_root, stderr_log
    from kdocs.cluster.providers.kwok import KwokProvider

    real_bin = cache_root() / "bin"
    project = make_project(settings, scenario, work / "project")
    os.environ["KDOCS_CACHE"] = str(work / "cache")  # this process and every run
    (work / "cache").mkdir()
    (work / "cache" / "bin").symlink_to(real_bin)
    target = project / scenario.relative_to(settings.root)
    provider = KwokProvider(load_settings(project), log=stderr_log)
    rows: list[Run] = []
    before = (0.0, 0.0, 0.0)
    started = datetime.now(UTC)
    try:
        cluster = provider.up(_topology(settings))
        before = memory(provider.cluster_dir)
        print(
            f"soak: {runs} runs of {scenario.relative_to(settings.root)} on kwok "
            f"(Kubernetes {cluster.kubernetes_version}); control plane at "
            f"{before[2]:.0f} MiB (kube-apiserver + etcd)",
            file=sys.stderr,
        )
        origin = time.monotonic()
        for index in range(1, runs + 1):
            row = one_run(index, target, project, cluster, provider.cluster_dir, timeout, origin)
            rows.append(row)
            mark = "ok" if row.ok else "FAILED"
            print(
                f"soak: run {index}/{runs} {mark}: exit {row.exit_code}, {row.seconds:.1f}s, "
                f"{row.rss_mib:.0f} MiB"
                + (f", leaked {row.leaked_namespaces} ns / {row.leaked_objects} objects"
                   f" / {row.leftover_processes} processes" if not row.ok else "")
                + (f": {row.message}" if row.message and not row.ok else ""),
                file=sys.stderr, flush=True,
            )  # fmt: skip
    except KeyboardInterrupt:
        print("soak: interrupted; reporting the runs so far", file=sys.stderr)
    finally:
        provider.down()
    if not rows:
        return 130
    name = f"soak-{started.strftime('%Y%m%dT%H%M%SZ')}"
    label = str(scenario.relative_to(settings.root))
    lines, ok = summarize(rows, before[2], label, runs)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / f"{name}.csv")
    write_markdown(rows, lines, label, out / f"{name}.md")
    print("\n".join(lines))
    print(f"report: {out / name}.md, {out / name}.csv")
    return 0 if ok and len(rows) == runs else 1


def make_project(settings: Settings, scenario: Path, folder: Path) -> Path:
    """A throwaway project: the scenario's folder under snippets/, the real CRDs and topologies."""
    from kdocs.cluster.providers.kwok import BUILD_SCRIPT

    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
        [tool.kdocs]
        snippets-dir = "snippets"
        crd-dirs = {json.dumps([str(p.resolve()) for p in settings.crd_dirs])}
        clusters-dir = {json.dumps(str(settings.clusters_dir.resolve()))}
        results-file = "results.json"
        """),
        encoding="utf-8",
    )
    source = scenario.parent
    shutil.copytree(source, folder / source.relative_to(settings.root))
    # The kwok provider builds (or finds) its binaries with the project's own script.
    shutil.copytree(settings.root / BUILD_SCRIPT.parent, folder / BUILD_SCRIPT.parent)
    return folder


def one_run(
    index: int, target: Path, project: Path, cluster: Cluster, cluster_dir: Path,
    timeout: float, origin: float,
) -> Run:  # fmt: skip
    """`kdocs test --force` once, then what it left: namespaces, objects, processes, memory."""
    marker = uuid.uuid4().hex
    env = {**os.environ, MARKER: marker}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")) if p
    )
    command = [
        sys.executable, "-m", "kdocs.cli", "test", "--provider", "kwok", "--force",
        "--output", "json", str(target),
    ]  # fmt: skip
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout
        )
        code, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        code, stdout = -1, ""
        stderr = f"no end within {timeout:.0f}s {expired.stderr or ''}"
    seconds = time.monotonic() - started
    status, message = outcome(stdout, stderr)
    # A run asks for its namespaces' deletion and does not wait out the namespace
    # controller's 5 s grace: one still there a minute later is leaked.
    cluster.kubectl("wait", "--for=delete", "namespaces", "-l", RUN_LABEL, "--timeout=60s",
                    timeout=90)  # fmt: skip
    namespaces = _names(cluster, "get", "namespaces", "-l", RUN_LABEL)
    objects = _names(cluster, "get", "all", "--all-namespaces", "-l", OWNER_LABEL)
    apiserver, etcd, total = memory(cluster_dir)
    return Run(
        index, round(time.monotonic() - origin, 1), code, round(seconds, 2), status,
        len(namespaces), len(objects), len(processes_with(MARKER, marker)),
        apiserver, etcd, total, message,
    )  # fmt: skip


def outcome(stdout: str, stderr: str) -> tuple[str, str]:
    """The single unit's status and message from the JSON report, or the run's last error line."""
    try:
        (unit,) = json.loads(stdout)["outcomes"]
        return str(unit["status"]), str(unit.get("message") or "")
    except (ValueError, KeyError, TypeError):
        lines = [line for line in stderr.splitlines() if line.strip()]
        return "no report", (lines[-1].strip() if lines else "no output")[:300]


def _names(cluster: Cluster, *args: str) -> list[str]:
    done = cluster.kubectl(*args, "-o", "name", timeout=60)
    if done.returncode != 0:
        return [f"(kubectl failed: {done.stderr.strip()[:100]})"]  # counted: unknown is not clean
    return done.stdout.split()


def memory(cluster_dir: Path) -> tuple[float, float, float]:
    """VmRSS of the cluster's kube-apiserver and etcd (MiB), and their sum."""
    values = []
    for component in MEMORY:
        try:
            pid = int((cluster_dir / "pids" / f"{component}.pid").read_text().strip())
            status = Path(f"/proc/{pid}/status").read_text()
            rss = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
            kib = int(rss.split()[1])
        except (OSError, ValueError, StopIteration):
            kib = 0
        values.append(round(kib * 1024 / MiB, 1))
    return values[0], values[1], round(sum(values), 1)


def processes_with(name: str, value: str) -> list[int]:
    """Live processes whose environment holds name=value (a run's children, even reparented)."""
    wanted = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


def summarize(
    rows: list[Run], rss_before: float, label: str, planned: int
) -> tuple[list[str], bool]:
    """The summary lines, and whether the soak passed (every run ok)."""
    seconds = sorted(r.seconds for r in rows)
    codes: dict[int, int] = {}
    for row in rows:
        codes[row.exit_code] = codes.get(row.exit_code, 0) + 1
    bad = [r for r in rows if not r.ok]
    rss = [r.rss_mib for r in rows]
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    lines = [
        f"soak of {label}: {len(rows)} of {planned} runs, {len(rows) - len(bad)} ok, "
        f"{len(bad)} failed or leaked",
        "exit codes: " + ", ".join(f"{code}×{n}" for code, n in sorted(codes.items())),
        f"duration: min {seconds[0]:.1f}s, median {statistics.median(seconds):.1f}s, "
        f"p95 {p95:.1f}s, max {seconds[-1]:.1f}s, total {sum(seconds) / 60:.1f} min",
        f"leaked: {sum(r.leaked_namespaces for r in rows)} namespaces, "
        f"{sum(r.leaked_objects for r in rows)} objects, "
        f"{sum(r.leftover_processes for r in rows)} processes",
        f"kube-apiserver + etcd RSS: {rss_before:.0f} MiB before, {rss[0]:.0f} after run 1, "
        f"{rss[-1]:.0f} after run {rows[-1].run}, max {max(rss):.0f}"
        + (f" (trend {slope(rss) * 100:+.1f} MiB per 100 runs)" if len(rss) >= 10 else ""),
    ]
    for row in bad[:5]:
        lines.append(f"run {row.run}: exit {row.exit_code}, {row.status}: {row.message}")
    return lines, not bad


def slope(values: list[float]) -> float:
    """Least-squares growth per run (0 for fewer than two runs)."""
    if len(values) < 2:
        return 0.0
    xs = range(len(values))
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(values)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, values, strict=True)) / spread


def write_csv(rows: list[Run], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(Run)])
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))


def write_markdown(rows: list[Run], summary: list[str], label: str, path: Path) -> None:
    head = [f.name for f in fields(Run) if f.name != "message"]
    text = [f"# Soak: {label}", "", *[f"- {line}" for line in summary], ""]
    text += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    text += ["| " + " | ".join(str(getattr(r, name)) for name in head) + " |" for r in rows]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")


def _topology(settings: Settings) -> str:
    from kdocs.cluster.topology import available_topologies

    known = available_topologies(settings.clusters_dir)
    return "karpenter" if "karpenter" in known or not known else known[0]


if __name__ == "__main__":
    sys.exit(main())
