"""Timing and memory of whole processes, and a description of the machine.

`run` starts a command, samples the memory of its whole process tree every 20 ms
(a tool that forks workers is charged for all of them, pages they share counted
once: the sum of their PSS), and reaps it with `os.wait4`, whose ``ru_maxrss``
catches a peak shorter than a sample interval in the largest single process.
Peak memory is the larger of the two.
Wall time is measured around the whole process: interpreter or runtime start-up,
imports and schema loading included, as a user waits for it.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Run:
    seconds: float
    peak_mib: float
    code: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # user + system seconds of the process and the children it waited for


@dataclass
class Series:
    """Several runs of the same command."""

    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def best(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def peak_mib(self) -> float:
        return max(r.peak_mib for r in self.runs)

    @property
    def last(self) -> Run:
        return self.runs[-1]

    def times(self) -> str:
        """'1.23 s (min 1.20, n=3)' or '1.23 s' for one run."""
        if len(self.runs) == 1:
            return f"{self.median:.2f} s"
        return f"{self.median:.2f} s (min {self.best:.2f}, n={len(self.runs)})"


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                out.extend(int(c) for c in handle.read().split())
    except OSError:
        pass
    return out


def _pss(pid: int) -> int:
    """Proportional set size: pages shared with a parent or sibling (a forked worker's
    copy-on-write memory) count once over the tree, not once per process."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    with open(f"/proc/{pid}/statm") as handle:  # no smaps_rollup: resident size
        return int(handle.read().split()[1]) * PAGE


def _tree_rss(pid: int) -> int:
    total, pending, seen = 0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            total += _pss(current)
        except (OSError, IndexError, ValueError):
            continue
        pending.extend(_children(current))
    return total


def run(
    cmd: Sequence[str | os.PathLike],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
) -> Run:
    """Run `cmd` to completion; never raises for a non-zero exit."""
    out_file = _tmp_file()
    err_file = _tmp_file()
    began = time.perf_counter()
    proc = subprocess.Popen(
        [str(c) for c in cmd], cwd=cwd, env=env, stdout=out_file, stderr=err_file,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    deadline = began + timeout
    status = rusage = None
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            _, status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.002)
    elapsed = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    peak_bytes = max(peak[0], rusage.ru_maxrss * 1024)
    out_file.seek(0)
    err_file.seek(0)
    stdout = out_file.read().decode("utf-8", "replace")
    stderr = err_file.read().decode("utf-8", "replace")
    out_file.close()
    err_file.close()
    cpu = rusage.ru_utime + rusage.ru_stime
    return Run(elapsed, peak_bytes / 2**20, proc.returncode, stdout, stderr, cpu)


def _tmp_file():
    import tempfile

    return tempfile.TemporaryFile()


def repeat(cmd: Sequence[str | os.PathLike], times: int, **kwargs) -> Series:
    """`times` runs of `cmd` (after none: the first run is a measured one, not a warm-up)."""
    return Series([run(cmd, **kwargs) for _ in range(max(1, times))])


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> dict[str, str]:
    """What the results depend on: CPU, cores, memory, load, versions."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        if match:
            mem = f"{int(match[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    info = {
        "CPU": model,
        "cores (nproc)": str(os.cpu_count()),
        "memory": mem,
        "kernel": platform.release(),
        "Python": platform.python_version(),
    }
    go = shutil.which("go")
    if go:
        done = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True)
        info["Go"] = done.stdout.strip()
    return info
