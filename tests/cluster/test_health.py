"""Without a cluster: what counts as a dead cluster, and whose namespaces may be swept.

The real cases (kill -9 of etcd or the API server, a SIGKILLed run) are in
tests/faults/; here a stand-in kubectl answers the way kubectl does, to pin
down the decisions themselves: a failed readiness check or no answer is a dead
cluster, an API server that refuses to show /readyz (RBAC) is a live one; a
run's owner is alive, gone, or not checkable from this machine.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.cluster.health import readiness_problem
from kdocs.cluster.owner import (
    HOST_ANNOTATION,
    PID_ANNOTATION,
    START_ANNOTATION,
    OwnerState,
    owner_annotations,
    owner_state,
)

ETCD_DOWN = (
    'Error from server (InternalError): an error on the server ("[+]ping ok\\\\n[+]log ok\\\\n'
    "[-]etcd failed: reason withheld\\\\n[+]informer-sync ok\\\\nreadyz check failed\") has "
    "prevented the request from succeeding"
)


def fake_kubectl(tmp_path: Path, stderr: str, code: int) -> Cluster:
    script = tmp_path / "kubectl"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"{stderr}\" >&2\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    config = tmp_path / "kubeconfig"
    config.write_text("")
    return Cluster("kwok", config, "ctx", "v1.36.3", script, "karpenter")


@pytest.mark.parametrize(
    ("stderr", "code", "expected"),
    [
        ("", 0, None),
        (ETCD_DOWN, 1, "/readyz: etcd failed: reason withheld"),
        ("Unable to connect to the server: dial tcp 127.0.0.1:1: connection refused", 1, "dial"),
        ("Unable to connect to the server: net/http: request canceled (Client.Timeout)", 1, "Tim"),
        ('Error from server (Forbidden): forbidden: User "x" cannot get path "/readyz"', 1, None),
    ],
    ids=["ready", "etcd down", "refused", "no answer", "forbidden"],
)
def test_what_the_probe_calls_a_dead_cluster(
    tmp_path: Path, stderr: str, code: int, expected: str | None
) -> None:
    problem = readiness_problem(fake_kubectl(tmp_path, stderr.replace('"', '\\"'), code))
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem and "\n" not in problem


def test_a_run_is_alive_while_its_process_is_and_dead_after() -> None:
    assert owner_state(owner_annotations()) is OwnerState.ALIVE
    child = subprocess.Popen(["sleep", "30"])
    try:
        mine = owner_annotations()
        host, start = mine[HOST_ANNOTATION], Path(f"/proc/{child.pid}/stat").read_text()
        theirs = {
            HOST_ANNOTATION: host, PID_ANNOTATION: str(child.pid),
            START_ANNOTATION: start.rsplit(")", 1)[1].split()[19],
        }  # fmt: skip
        assert owner_state(theirs) is OwnerState.ALIVE
        assert owner_state({**theirs, START_ANNOTATION: "1"}) is OwnerState.DEAD  # pid reused
    finally:
        child.kill()
        child.wait()
    assert owner_state(theirs) is OwnerState.DEAD


def test_an_owner_elsewhere_or_unnamed_cannot_be_judged() -> None:
    mine = owner_annotations()
    assert owner_state({**mine, HOST_ANNOTATION: "other-boot/pid:[1]"}) is OwnerState.UNKNOWN
    assert owner_state({}) is OwnerState.UNKNOWN
    assert owner_state({**mine, PID_ANNOTATION: "x"}) is OwnerState.UNKNOWN
    assert int(mine[PID_ANNOTATION]) == os.getpid()
