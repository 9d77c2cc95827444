"""Two kwok clusters created at the same moment from two cache roots both come up, each its own.

kwokctl chooses its ports by probing from 32767 down, so two creations at once
choose the same ones, and one cluster's kubeconfig then points at the other's
API server: "reaching the wrong cluster" (here TLS refuses it, as the CAs
differ). Creations therefore take turns machine-wide, and that must hold for
processes using different $KDOCS_CACHE roots too, as the benchmarks and a
second checkout do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from kdocs.cluster.providers.kwok import KwokProvider
from tests.faults.conftest import ROOT, SETTINGS, TOPOLOGY, kwok_only

pytestmark = [pytest.mark.cluster, kwok_only]

CREATE = textwrap.dedent("""\
    import json, sys, time
    from pathlib import Path
    from kdocs.cluster.providers.kwok import KwokProvider
    from kdocs.config import load_settings

    name, start = sys.argv[1], float(sys.argv[2])
    provider = KwokProvider(load_settings(Path.cwd()), cluster_name=name)
    provider.binaries()  # warm already; out of the race
    time.sleep(max(0.0, start - time.time()))
    try:
        provider.up("karpenter")
        print(json.dumps({"ok": True}))
    except Exception as error:
        print(json.dumps({"ok": False, "error": str(error)}))
""")


def server_port(kubeconfig: Path) -> int:
    config = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
    return int(config["clusters"][0]["cluster"]["server"].rsplit(":", 1)[1])


def secure_port(pid: int) -> int:
    """The --secure-port an API server process was started with."""
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return int(next(a for a in args if a.startswith("--secure-port=")).split("=", 1)[1])


def test_simultaneous_creations_from_two_cache_roots_get_their_own_ports(
    tmp_path: Path,
) -> None:
    bin_root = KwokProvider(SETTINGS).binaries().parent  # shared, like the benchmarks do
    providers: list[KwokProvider] = []
    procs = []
    start = time.time() + 3
    try:
        for index in range(2):
            cache = tmp_path / f"cache{index}"
            cache.mkdir()
            (cache / "bin").symlink_to(bin_root)
            name = f"kdocs-faults-race{index}-{os.getpid()}"
            providers.append(KwokProvider(SETTINGS, cluster_name=name, workdir=cache / "kwok"))
            env = {**os.environ, "KDOCS_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
            procs.append(subprocess.Popen(
                [sys.executable, "-c", CREATE, name, str(start)], cwd=ROOT, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            ))  # fmt: skip
        answers = []
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=600)
            answers.append(json.loads(stdout.strip().splitlines()[-1]) if stdout else stderr)
        assert answers == [{"ok": True}, {"ok": True}], answers
        ports = []
        for provider in providers:
            cluster = provider.current()
            assert cluster is not None and cluster.topology == TOPOLOGY
            apiserver = int((provider.cluster_dir / "pids" / "kube-apiserver.pid").read_text())
            ports.append(secure_port(apiserver))
            assert server_port(cluster.kubeconfig) == ports[-1], "its kubeconfig names another"
            assert cluster.kubectl("get", "--raw", "/readyz").returncode == 0
        assert ports[0] != ports[1]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for provider in providers:
            provider.down()
