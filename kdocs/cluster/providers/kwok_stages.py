"""Extra KWOK stages (<clusters dir>/kwok/stages/*.yaml) on top of kwokctl's defaults.

kwokctl writes its default stages (node-initialize, node heartbeat, pod-ready,
pod-complete, pod-delete) into <cluster>/kwok.yaml only when it is given no
stage at all: one stage in its configuration replaces them all. So the
cluster is created with the defaults, the extra stages are appended to that
kwok.yaml, and the KWOK controller, which reads the file only when it starts,
is restarted exactly as kwokctl started it (same arguments, folder,
environment, log and pid file). This runs before any node exists, under the
machine-wide creation lock: its port is taken back before anyone can pick it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from kdocs.cluster.base import ClusterUnavailableError

CONTROLLER = "kwok-controller"


def stage_documents(stages_dir: Path) -> str:
    """The stage files of `stages_dir`, sorted, as YAML documents ("" when there are none)."""
    texts = []
    for path in sorted(stages_dir.glob("*.yaml")):
        try:
            texts.append(path.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError) as error:
            raise ClusterUnavailableError(str(path), f"cannot read KWOK stage: {error}") from None
    return "".join(f"---\n{text}\n" for text in texts)


def add_stages(cluster_dir: Path, stages_dir: Path, timeout: float = 30.0) -> list[str]:
    """Append the extra stages to the cluster's kwok.yaml and restart its KWOK controller."""
    documents = stage_documents(stages_dir)
    if not documents:
        return []
    config = cluster_dir / "kwok.yaml"
    config.write_text(config.read_text(encoding="utf-8").rstrip("\n") + "\n" + documents)
    pid_file = cluster_dir / "pids" / f"{CONTROLLER}.pid"
    try:
        pid = int(pid_file.read_text().strip())
        argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
        cwd = os.readlink(f"/proc/{pid}/cwd")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except (OSError, ValueError) as error:
        raise ClusterUnavailableError(
            str(pid_file), f"cannot restart {CONTROLLER}: {error}"
        ) from None
    env = dict(item.decode(errors="replace").split("=", 1) for item in environ if b"=" in item)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _running(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with open(cluster_dir / "logs" / f"{CONTROLLER}.log", "ab") as log:
        child = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    pid_file.write_text(str(child.pid))
    return [line.split(":", 1)[1].strip() for line in documents.splitlines()
            if line.startswith("  name:")]  # fmt: skip


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
