"""Site builds by instructions executed: the one figure the shared machine's load cannot move.

A full `kdocs build` is within a few points of its goal (1.15× plain MkDocs), and on
this machine the time of one small build varies by 30 % from run to run (paired
ratios of 0.66-1.60 were seen for the same code on one morning). A "no" or a
"yes" of the time rows can then be the day's noise. Valgrind's cachegrind
(`--cache-sim=no`) counts the instructions a process executes; the same build
counted twice differs by ~0.2 %. Instructions are not time (a cache miss, a page
fault or a wait counts nothing), so this decides no goal: it says whether the
time rows' verdict is the code or the day.

Each of the site section's four builds runs once under valgrind, with the process
tree followed (`--trace-children=yes`: mkdocs-macros' `git` commands count) and
given one CPU. On one CPU kdocs checks a small site's snippets in the build's own
process: cachegrind gives a forked child a copy of its parent's counters, so a
child that does not exec cannot be counted apart, and a run with one is refused
(`ForkedChild`) instead of being counted twice. Needs valgrind (Debian:
`valgrind`); without it the section says so.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import bench_site

BUILDS = ("plain", "macros", "unchanged", "full")
_PID = re.compile(r"^==(\d+)== ", re.MULTILINE)
_COMMAND = re.compile(r"^==\d+== Command: (.*)$", re.MULTILINE)
_PARENT = re.compile(r"^==\d+== Parent PID: (\d+)$", re.MULTILINE)
_REFS = re.compile(r"^==\d+== I\s+refs:\s+([\d,]+)$", re.MULTILINE)


class ForkedChild(RuntimeError):
    """A process of the tree forked without exec: its count holds its parent's too."""


@dataclass
class Counts:
    pages: int
    instructions: dict[str, int]  # build (BUILDS) -> instructions of its process tree

    def ratio(self, build: str) -> float:
        return self.instructions[build] / self.instructions["plain"]


def tree_instructions(logs: Path) -> int:
    """The instructions of a process tree, from valgrind's `--log-file=<logs>/%p.log`."""
    processes: dict[str, tuple[str, str | None, int | None]] = {}
    for log in sorted(logs.glob("*.log")):
        text = log.read_text(errors="replace")
        pid, command = _PID.search(text), _COMMAND.search(text)
        if pid is None or command is None:
            raise RuntimeError(f"{log}: not a valgrind log")
        parent, refs = _PARENT.search(text), _REFS.search(text)
        processes[pid[1]] = (
            command[1],
            parent[1] if parent else None,
            int(refs[1].replace(",", "")) if refs else None,
        )
    total = 0
    for pid, (command, parent, refs) in processes.items():
        if parent in processes and processes[parent][0] == command:
            raise ForkedChild(f"process {pid} is a fork of {parent} without exec ({command})")
        if refs is None:
            raise RuntimeError(f"process {pid} ({command}) left no instruction count")
        total += refs
    return total


def count(cmd: list[str], cwd: Path, logs: Path) -> int:
    """Run `cmd` once under cachegrind on one CPU; the instructions of its process tree."""
    logs.mkdir(parents=True)
    cpu = min(os.sched_getaffinity(0))
    env = dict(os.environ, PYTHONHASHSEED="0")  # the same dict orders, run after run
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
         "--cachegrind-out-file=/dev/null", f"--log-file={logs}/%p.log", *cmd],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, timeout=3600,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} under valgrind: exit {done.returncode}: "
                           f"{done.stderr.strip()[-500:]}")  # fmt: skip
    return tree_instructions(logs)


def measure(root: Path, pages: int) -> Counts:
    """The site section's four builds of `pages` generated pages, counted once each."""
    kdocs_root, plain_root = bench_site.generate(root, pages)
    macros_root = bench_site.generate_macros_only(root, pages)
    out = root / f"out-{pages}"
    logs = root / "valgrind-logs"
    kdocs_cmd = [str(c) for c in bench_site.kdocs_build_cmd(out)]
    mkdocs_cmd = [str(c) for c in bench_site.mkdocs_build_cmd(out)]
    # a first build outside valgrind keeps the verdicts an unchanged build reads
    subprocess.run(kdocs_cmd, cwd=kdocs_root, check=True, capture_output=True)
    runs = {"plain": (mkdocs_cmd, plain_root), "macros": (mkdocs_cmd, macros_root),
            "unchanged": (kdocs_cmd, kdocs_root), "full": (kdocs_cmd, kdocs_root)}  # fmt: skip
    counts: dict[str, int] = {}
    for build in BUILDS:
        cmd, cwd = runs[build]
        if build == "full":
            bench_site.forget_verdicts(kdocs_root)
        counts[build] = count(cmd, cwd, logs / f"{build}-{pages}")
    bench_site.require_badges(out, pages)
    return Counts(pages, counts)


def section(args: argparse.Namespace, work: Path, log) -> list[str]:
    out = ["## 2b. Site build by instructions executed (valgrind)", ""]
    if shutil.which("valgrind") is None:
        return out + ["Not measured: valgrind is not installed (Debian: `valgrind`).", ""]
    out += [
        "One run of each build under cachegrind, on one CPU, every process of the tree"
        " counted (see bench_instructions.py). Repeatable to ~0.2 %; not time, so it"
        " decides no goal.",
        "",
        "| pages | plain `mkdocs build` | macros plugin alone | `kdocs build`, unchanged |"
        " `kdocs build`, full |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for pages in args.instruction_pages:
        log(f"instructions: {pages} pages")
        counts = measure(work, pages)
        args.measured.setdefault("instructions", {})[pages] = counts
        cells = [f"{counts.instructions['plain'] / 1e6:,.0f} M"]
        cells += [f"{counts.instructions[b] / 1e6:,.0f} M ({counts.ratio(b):.3f}×)"
                  for b in BUILDS[1:]]  # fmt: skip
        out.append(f"| {pages} | " + " | ".join(cells) + " |")
    return out + [""]
