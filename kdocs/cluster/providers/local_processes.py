"""The local processes of a kwok cluster: taking turns on ports, finding and stopping them.

Apart from kwok.py (the provider's life cycle) because these know only pids,
/proc and one machine-wide lock, not clusters: each is testable on its own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from kdocs.cluster.base import ClusterUnavailableError

# The machine-wide lock kwokctl creations take turns on (see ports_lock).
CREATE_LOCK = "kdocs-kwokctl-create"


@contextlib.contextmanager
def ports_lock(name: str = CREATE_LOCK, poll: float = 0.1) -> Iterator[None]:
    """Held by one kwokctl create at a time among every process that shares these ports.

    Every kwokctl probes the same ports (from 32767 down), so two creations at
    once pick the same ones and a cluster's kubeconfig can end up pointing at
    the other's API server. A lock file under $KDOCS_CACHE is not enough (a
    benchmark or another checkout uses another cache root), so the lock is an
    abstract Unix socket name: it has exactly the ports' scope (the network
    namespace), needs no file any user could own, and dies with its holder.
    """
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        while True:
            try:
                holder.bind(f"\0{name}")
                break
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise ClusterUnavailableError(
                        None, f"cannot take the kwokctl creation lock: {error}"
                    ) from None
                time.sleep(poll)  # taken: another creation is picking its ports
        yield
    finally:
        holder.close()


def stop_processes(pids: list[int], timeout: float = 10.0) -> None:
    """SIGKILL (the cluster is thrown away, as kwokctl itself does) and wait until they are gone."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    wait_gone(pids, timeout)


def wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    """Return once none of `pids` is alive (zombies count as gone), or after `timeout`."""
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def runs_from(proc: Path, folder: Path) -> bool:
    """Whether process `proc` (a /proc entry) was started from `folder` (its argv[0] is inside).

    kwokctl starts every component as <cluster>/bin/<name>; clients that merely use
    the cluster (kubectl --kubeconfig=<cluster>/kubeconfig.yaml) are not matched, and
    path boundaries matter: the folder of cluster "kdocs" is a prefix of "kdocs-dev"'s.
    """
    try:
        argv0 = (proc / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
    except OSError:
        return False
    return argv0.startswith(f"{folder}/")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
