"""`make bench`: kdocs side by side with the tools people use today; writes a Markdown table.

    .venv/bin/python benchmarks/bench.py [--out benchmarks/results.md] [--smoke]
        [--sizes 1000,10000] [--pages 1,50,500] [--instruction-pages 1,50] [--repeat 3]
        [--edits 5] [--skip validate,site,instructions,cluster,preview,shards] [--cold-build]

Sections (see each bench_*.py): 1. schema validation throughput (kdocs,
kubeconform, kubernetes-validate on the same corpus and schemas); 2. site build
(`kdocs build` against `mkdocs build`); 2b. the same builds by instructions
executed, under valgrind (bench_instructions.py); 3. cluster stage; 4. live
preview; 5. sharding and cluster versions (bench_shards.py).
Each section leaves what it measured in ``args.measured``; issue 14's goal table
(goal_table.py), first in the results, is made from it: every goal from this run.
Numbers are whole-process wall times on this machine; nothing here fails on a
number.  ``--smoke`` runs every section but the cluster, the sharding and the
instructions (minutes under valgrind; tests/benchmarks/test_instructions.py counts
a small tree instead) on a tiny input, to keep the harness working (tests/benchmarks/).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_cluster  # noqa: E402
import bench_instructions  # noqa: E402
import bench_shards  # noqa: E402
import bench_site  # noqa: E402
import bench_validate  # noqa: E402
import corpus  # noqa: E402
import goal_table  # noqa: E402
from measure import load, machine  # noqa: E402

SECTIONS = ("validate", "site", "instructions", "cluster", "preview", "shards")
# Builds of small sites take 1-3 s: one disturbance on the shared machine moves a ratio by
# 0.3 or more (seen: 1.21x then 1.33x, 1.32-1.85, for the same code), so their medians
# take more pairs (15: with 7, the medians of one code read 1.15x and 1.27x on one day);
# larger sites take 5 (each pair at 500 pages is ~80 s): with 3, one code read 1.07x and
# 1.25x (full) in two runs of one day, its instruction counts equal to 0.1 %.
SMALL_SITE, SMALL_SITE_REPEAT = 100, 15
LARGE_SITE_REPEAT = 5


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny inputs, one run each, no cluster (keeps the harness working)",
    )
    parser.add_argument("--sizes", type=_ints, default=[1, 1000, 10000], help="corpus sizes")
    parser.add_argument("--pages", type=_ints, default=[1, 50, 500], help="site sizes")
    parser.add_argument(
        "--instruction-pages",
        type=_ints,
        default=[1, 50],
        help="site sizes counted by instructions under valgrind (~2.5 min at 50 pages)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each command")
    parser.add_argument("--edits", type=int, default=5, help="saves timed in the preview")
    parser.add_argument("--preview-pages", type=int, default=50)
    parser.add_argument("--skip", default="", help=f"comma-separated, of {','.join(SECTIONS)}")
    parser.add_argument(
        "--cold-build",
        action="store_true",
        help="rebuild the cluster binaries with an empty Go build cache",
    )
    parser.add_argument(
        "--kubernetes-validate-max",
        type=int,
        default=1000,
        help="largest corpus kubernetes-validate runs on (10,000 documents take ~3 minutes)",
    )
    args = parser.parse_args(argv)
    args.skip = {s for s in args.skip.split(",") if s}
    if args.smoke:
        args.sizes, args.pages, args.repeat, args.edits = [40], [1, 3], 1, 1
        args.preview_pages = 2
        args.skip |= {"cluster", "shards", "instructions"}
    return args


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def validation(args: argparse.Namespace, work: Path, log) -> list[str]:
    out = ["## 1. Schema validation throughput", ""]
    try:
        built = bench_validate.build_kubeconform()
        log(f"kubeconform {built.version}: {built.note} ({built.path})")
    except SystemExit as err:
        built = None
        out += [f"kubeconform could not be built: {err}", ""]
    bench_validate.project(work)
    bench_validate.precompile()
    rows = []
    for size in args.sizes:
        log(f"validation: generating {size} documents")
        made = corpus.generate(work / f"corpus-{size}", size)
        log(f"validation: {size} documents in {len(made.files)} files, {len(made.invalid)} invalid")
        rows += bench_validate.measure(
            made, work, args.repeat, built, size <= args.kubernetes_validate_max
        )
        args.measured["validate"] = rows
        log(f"validation: {size} done (load {load()})")
    out += [
        "| documents | tool | Kubernetes versions | wall time, median | documents/s | "
        "peak memory | invalid found = corpus's? |",
        "| ---: | --- | --- | ---: | ---: | ---: | --- |",
    ]
    floors = [r for r in rows if r.tool.startswith("python")]
    rows = [r for r in rows if r not in floors]
    for row in rows:
        note = f" ({row.note})" if row.note else ""
        out.append(
            f"| {row.docs:,} | {row.tool} | {row.versions} | {row.series.times()} | "
            f"{fmt_rate(row.rate)} | {row.series.peak_mib:.0f} MiB | {row.invalid}{note} |"
        )
    out += ["", "kdocs ÷ kubeconform, documents per second (above 1: kdocs is faster):", ""]
    out += [
        "| documents | one version | one version, bundled schemas | "
        "8 versions (kubeconform: 8 runs) | 8 versions, bundled schemas |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in args.sizes:
        mine = [r for r in rows if r.docs == size]
        cells = []
        for one in (True, False):
            same = [r for r in mine if (r.versions == bench_validate.ONE_VERSION) == one]
            k = [r for r in same if r.tool == "kdocs validate"]
            for bundled in (False, True):
                c = [
                    r
                    for r in same
                    if r.tool.startswith("kubeconform") and ("bundled" in r.tool) == bundled
                ]
                cells.append(f"{k[0].rate / c[0].rate:.2f}" if k and c else "n/a")
        out.append(f"| {size:,} | " + " | ".join(cells) + " |")
    out += goals(rows, floors)
    if built is not None:
        out += ["", f"kubeconform {built.version}, built from its Go module "
                f"(benchmarks/kubeconform/go.mod); {built.note}."]  # fmt: skip
    return out + [""]


def goals(rows: list, floors: list) -> list[str]:
    """Issue 14's two validation goals, from runs made in turns (kdocs, kubeconform, ...)."""
    out = ["", "Goals, kdocs ÷ kubeconform on bundled schemas, one version, whole processes, "
           "each kdocs run against the kubeconform run next to it:", "",
           "| documents | pairs | wall time ratio, median (min-max) | documents/s ratio, "
           "median (min-max) | goal | met |",
           "| ---: | ---: | ---: | ---: | --- | --- |"]  # fmt: skip
    for size in sorted({r.docs for r in rows}):
        mine = {r.tool: r for r in rows if r.docs == size and r.versions == "1.33"}
        if "kdocs validate" not in mine or "kubeconform, bundled schemas" not in mine:
            continue
        kdocs, theirs = mine["kdocs validate"], mine["kubeconform, bundled schemas"]
        ratios = sorted(bench_validate.paired_ratios(kdocs.series, theirs.series))
        middle = statistics.median(ratios)
        if size == 1:
            goal, met = "time ≤ 2×", "yes" if middle <= 2 else "no"
        elif size == 10000:
            goal, met = "documents/s ≥ 1.0×", "yes" if 1 / middle >= 1.0 else "no"
        else:
            goal, met = "(none at this size)", ""
        out.append(
            f"| {size:,} | {len(ratios)} | {middle:.2f}× ({ratios[0]:.2f}-{ratios[-1]:.2f}) | "
            f"{1 / middle:.2f} ({1 / ratios[-1]:.2f}-{1 / ratios[0]:.2f}) | {goal} | {met} |"
        )
    if floors:
        one = {r.tool: r for r in rows if r.docs == 1 and r.versions == "1.33"}
        bundled = one.get("kubeconform, bundled schemas")
        out += ["", "Python's start-up, run in the same turns as the 1-document rows "
                "(the floor under any Python tool):", "",
                "| command | wall time, median (min-max) | n | ÷ kubeconform bundled, paired |",
                "| --- | ---: | ---: | ---: |"]  # fmt: skip
        for row in floors:
            times = sorted(r.seconds for r in row.series.runs)
            spread = f"{times[0] * 1000:.0f}-{times[-1] * 1000:.0f}"
            ratio = "n/a"
            if bundled is not None and len(bundled.series.runs) == len(times):
                ratios = bench_validate.paired_ratios(row.series, bundled.series)
                ratio = f"{statistics.median(ratios):.2f}×"
            out.append(f"| `{row.tool}` | {row.series.median * 1000:.0f} ms ({spread}) | "
                       f"{len(times)} | {ratio} |")  # fmt: skip
    return out


def site(args: argparse.Namespace, work: Path, log) -> list[str]:
    out = ["## 2. Site build", ""]
    out += [
        "| pages | snippets | `mkdocs build`, plain pages, median | `kdocs build` (unchanged"
        " rebuild), median | kdocs over MkDocs | plain `mkdocs build` with the kdocs plugin |"
        " `kdocs build`, no kept schema verdicts | plain pages, macros plugin alone (no kdocs) |"
        " first run: mkdocs / kdocs | peak memory: mkdocs / kdocs / plugin / no kept verdicts |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for pages in args.pages:
        log(f"site: {pages} pages")
        small = pages < SMALL_SITE and not args.smoke
        large = max(args.repeat, LARGE_SITE_REPEAT) if not args.smoke else args.repeat
        repeat = max(args.repeat, SMALL_SITE_REPEAT) if small else large
        row = bench_site.measure_build(work / "sites", pages, repeat)
        args.measured.setdefault("site", {})[pages] = row
        base = row.mkdocs.median

        def ratio(series, base=base) -> str:
            return f"{spread(series)}, {series.median / base:.2f}x"

        out.append(
            f"| {pages} | {pages * 3} | {spread(row.mkdocs)} | {spread(row.kdocs)} | "
            f"{row.overhead * 100:+.0f} % ({row.kdocs.median - base:+.2f} s) | "
            f"{ratio(row.plugin)} | {ratio(row.uncached)} | {ratio(row.macros)} | "
            f"{row.first_mkdocs:.2f} s / {row.first_kdocs:.2f} s | "
            f"{row.mkdocs.peak_mib:.0f} / {row.kdocs.peak_mib:.0f} / {row.plugin.peak_mib:.0f}"
            f" / {row.uncached.peak_mib:.0f} MiB |"
        )
        log(f"site: {pages} done (load {load()})")
    return out + [""]


def spread(series) -> str:
    """Median with min-max: on a shared machine the spread says how far to trust it."""
    times = [r.seconds for r in series.runs]
    return f"{series.median:.2f} s ({min(times):.2f}-{max(times):.2f}, n={len(times)})"


def cluster(args: argparse.Namespace, work: Path, log) -> list[str]:
    out = ["## 3. Cluster stage (kwok provider)", ""]
    log("cluster: starting")
    steps, notes = bench_cluster.measure(work / "cluster", args.cold_build)
    args.measured["cluster"] = steps
    out += ["| step | command | wall time | note |", "| --- | --- | ---: | --- |"]
    for step in steps:
        seconds = f"{step.seconds:.2f} s" if step.seconds is not None else "n/a"
        out.append(f"| {step.what} | `{step.command}` | {seconds} | {step.note} |")
    out += [""] + [f"- {n}" for n in notes]
    return out + [""]


def preview(args: argparse.Namespace, work: Path, log) -> list[str]:
    out = ["## 4. Live preview", ""]
    out += [
        "| server | pages | edit saved in | start to first page | save to page updated, median | "
        "min / max | edits |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for tool in ("kdocs", "mkdocs"):
        log(f"preview: {tool} serve")
        row = bench_site.measure_preview(work / "preview", args.preview_pages, args.edits, tool)
        where = "a snippet file" if tool == "kdocs" else "the page (fenced block)"
        if row.latencies:
            median = f"{statistics.median(row.latencies):.2f} s"
            spread = f"{min(row.latencies):.2f} / {max(row.latencies):.2f} s"
        else:
            median = spread = "n/a"
        failed = f", {row.failures} never showed" if row.failures else ""
        out.append(
            f"| `{tool} serve` | {row.pages} | {where} | {row.started:.2f} s | {median} | "
            f"{spread} | {len(row.latencies)}{failed} |"
        )
    return out + [""]


def header(args: argparse.Namespace, began: datetime, load_before: str) -> list[str]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent,
                            capture_output=True, text=True).stdout.strip() or "unknown"  # fmt: skip
    info = machine()
    out = ["# kdocs benchmarks", "",
           f"Produced by `make bench` on {began:%Y-%m-%d %H:%M} UTC, commit {commit}"
           + (" (smoke run: tiny inputs, not a measurement)" if args.smoke else "") + ".", "",
           "| machine | |", "| --- | --- |"]  # fmt: skip
    out += [f"| {k} | {v} |" for k, v in info.items()]
    out += [f"| load average (1, 5, 15 min) before | {load_before} |"]
    out += [f"| options | `{' '.join(sys.argv[1:]) or '(none)'}` |"]
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.measured = {}  # what each section measured, for the goal table (goal_table.py)
    began = datetime.now(UTC)
    load_before = load()
    loads = [float(load_before.split()[0])]
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[bench {time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr,
              flush=True)  # fmt: skip

    body: list[str] = []
    failures: list[str] = []
    runners = {"validate": validation, "site": site, "cluster": cluster, "preview": preview,
               "shards": bench_shards.section,
               "instructions": bench_instructions.section}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="kdocs-bench-") as tmp:
        for name in SECTIONS:
            if name in args.skip:
                continue
            work = Path(tmp) / name
            work.mkdir()
            try:
                body += runners[name](args, work, log)
            except (SystemExit, Exception) as error:  # one broken section never hides the rest
                log(f"{name}: failed: {error}")
                failures.append(name)
                body += [f"## {name}: could not be measured", "", "```", str(error)[-1500:],
                         "```", ""]  # fmt: skip
            loads.append(float(load().split()[0]))
    lines = header(args, began, load_before)
    lines += [f"| load average after | {load()} |",
              f"| total time of the run | {time.perf_counter() - started:.0f} s |", ""]  # fmt: skip
    lines += goal_table.table(args.measured, f"{min(loads):.1f}-{max(loads):.1f} (1-minute, "
                              "sampled after each section)")  # fmt: skip
    text = "\n".join(lines + body).rstrip() + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
