"""The session's cluster: one cluster of topology karpenter for every test that asks for `cluster`.

The provider is $KDOCS_PROVIDER (kwok when unset; CI sets kind). It is brought
up once per session and removed at the end, even when tests fail, unless it
was already running before the session (then it is somebody's, e.g. made by
`kdocs cluster up`) or KDOCS_KEEP_CLUSTER=1 (fast reruns: the next session
reuses it in seconds). pytest-xdist workers share it: each registers its pid,
and the last one out removes it. The cluster and that registry are this
checkout's own: another clone's test run has its own of both.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster, Provider
from kdocs.cluster.providers import get_provider
from kdocs.cluster.providers._common import (
    cache_root,
    checkout_cluster_name,
    default_provider_name,
    flock,
)
from kdocs.config import Settings, load_settings

TOPOLOGY = "karpenter"
ROOT = Path(__file__).resolve().parents[2]
# Durations measured by the cluster tests, printed at the end of the run (never asserted).
TIMINGS: dict[str, float] = {}


def record_timing(name: str, seconds: float) -> None:
    """Keep a duration for the end-of-run summary."""
    TIMINGS[name] = seconds


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("cluster timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name:<48} {seconds:8.1f}s")


@pytest.fixture(scope="session")
def timing():
    """`timing(name, seconds)`: report a duration at the end of the run."""
    return record_timing


@pytest.fixture(scope="session")
def cluster_settings() -> Settings:
    """The project's settings (clusters/, schemas/crds/), whatever the working directory."""
    return load_settings(ROOT)


@pytest.fixture(scope="session")
def cluster_provider(cluster_settings: Settings) -> Provider:
    """The provider named by $KDOCS_PROVIDER.

    For the kubeconfig provider, $KDOCS_CONTEXT and $KDOCS_ALLOW_CONTEXT play the
    part of --context and --allow-context (the kubeconfig is $KUBECONFIG).
    """
    name = default_provider_name()
    options = {}
    if name == "kubeconfig":
        options = {
            "context": os.environ.get("KDOCS_CONTEXT") or None,
            "allow_context": os.environ.get("KDOCS_ALLOW_CONTEXT") or None,
        }
    return get_provider(name, cluster_settings, **options)


def _live_users(users: Path) -> list[Path]:
    """Registered pids whose process still exists (a crashed worker does not keep the cluster)."""
    live = []
    for entry in users.glob("*"):
        try:
            os.kill(int(entry.name), 0)
            live.append(entry)
        except (ValueError, ProcessLookupError):
            entry.unlink(missing_ok=True)
        except PermissionError:
            live.append(entry)
    return live


@pytest.fixture(scope="session")
def cluster(cluster_provider: Provider) -> Iterator[Cluster]:
    """The running cluster of topology karpenter (see the module docstring for its lifetime)."""
    folder = cache_root() / "pytest" / cluster_provider.name / checkout_cluster_name(ROOT)
    users = folder / "users"
    created_marker = folder / "created-by-tests"
    with flock(folder / "lock"):
        users.mkdir(parents=True, exist_ok=True)
        if not _live_users(users):
            if cluster_provider.current() is None:
                created_marker.touch()
            else:
                created_marker.unlink(missing_ok=True)
        (users / str(os.getpid())).touch()
        started = time.monotonic()
        try:
            running = cluster_provider.up(TOPOLOGY)
        except BaseException:
            (users / str(os.getpid())).unlink(missing_ok=True)
            raise
        record_timing(f"session cluster up ({cluster_provider.name})", time.monotonic() - started)
    try:
        yield running
    finally:
        with flock(folder / "lock"):
            (users / str(os.getpid())).unlink(missing_ok=True)
            last = not _live_users(users)
            keep = os.environ.get("KDOCS_KEEP_CLUSTER", "") not in ("", "0")
            if last and created_marker.exists() and not keep:
                started = time.monotonic()
                cluster_provider.down()
                created_marker.unlink(missing_ok=True)
                record_timing(
                    f"session cluster down ({cluster_provider.name})", time.monotonic() - started
                )
