"""Which process owns a run's namespaces, and whether that process still lives.

A run that was SIGKILLed cannot clean up, so its namespaces stay; the next
run on the cluster sweeps them. It must never sweep those of a run still
going, even another checkout's run on a shared kind or kubeconfig cluster.
So every namespace carries its run's owner: the machine's boot id and pid
namespace (where a pid means something), the pid, and that process's start
time (a recycled pid has another). Owners on another machine or container
cannot be checked here; only their age can tell (see `OwnerState`).
"""

from __future__ import annotations

import os
from enum import Enum
from functools import cache
from pathlib import Path

HOST_ANNOTATION = "kdocs.dev/owner-host"  # boot id / pid namespace
PID_ANNOTATION = "kdocs.dev/owner-pid"
START_ANNOTATION = "kdocs.dev/owner-start"  # the pid's start time, clock ticks after boot


class OwnerState(Enum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"  # another machine or container, or a namespace of an older kdocs


def owner_annotations() -> dict[str, str]:
    """The annotations naming this process as the owner of a run's namespace."""
    pid = os.getpid()
    return {
        HOST_ANNOTATION: _host(),
        PID_ANNOTATION: str(pid),
        START_ANNOTATION: _start_time(pid) or "",
    }


def owner_state(annotations: dict[str, str]) -> OwnerState:
    """Whether the process named by `annotations` runs, is gone, or cannot be checked here."""
    pid = annotations.get(PID_ANNOTATION, "")
    host = _host()
    if host == "unknown" or annotations.get(HOST_ANNOTATION) != host or not pid.isdigit():
        return OwnerState.UNKNOWN
    started = _start_time(int(pid))
    if started is None or started != annotations.get(START_ANNOTATION):
        return OwnerState.DEAD  # gone, or the pid now belongs to another process
    return OwnerState.ALIVE


@cache
def _host() -> str:
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pid_namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return "unknown"  # no /proc: never judge another process dead
    return f"{boot}/{pid_namespace}"


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat; None when the process is gone (a zombie is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]
