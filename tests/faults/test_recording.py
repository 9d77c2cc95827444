"""A result is recorded only for a unit that ran to its end, and as passed only if every check did.

Without a cluster: the runner's seams that talk to the API server (opening and
closing the unit's namespace, the steps themselves) are replaced by stand-ins
that end a unit each way it can end. What reaches the results file decides
the badge and whether the next run skips the unit, so: a pass needs every
check to have run and the cleanup to have succeeded; a failure of the guide
is recorded; an interrupt, an unreachable cluster or a bug in kdocs records
nothing and leaves an earlier pass of the same bytes in place.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kdocs.cluster import health, runner
from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.defaults import DEFAULT_CHECKS
from kdocs.cluster.model import Cancelled, StepFailed
from kdocs.cluster.session import Session
from kdocs.commands import test as test_command
from kdocs.errors import KdocsError
from kdocs.recording import sha256
from kdocs.results import ResultStore
from tests.cluster.test_runner_helpers import StaticProvider, kdocs_test, make_project, write

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"
SCENARIO = """\
name: config
steps:
  - apply: config.yaml
  - assert:
      object:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: config
"""
# kubectl is never run: anything not replaced below fails as an unreachable cluster.
CLUSTER = Cluster(
    provider="kwok", kubeconfig=Path("/nonexistent/kubeconfig"), context="kwok-fake",
    kubernetes_version="v1.36.3", kubectl_binary=Path("/nonexistent/kubectl"),
    topology="karpenter",
)  # fmt: skip


def _raise(error: BaseException) -> Callable[..., None]:
    def end(*_args: object) -> None:
        raise error

    return end


def _return(*_args: object) -> None:
    return None


# How a unit ends -> (its checks, what close() reports, what must be recorded).
ENDINGS: dict[str, tuple[Callable[..., None], list[str], str]] = {
    "every check ran": (_return, [], "passed"),
    "a check found the claim wrong": (_raise(StepFailed("f:1: no")), [], "failed"),
    "a file it uses is unreadable": (_raise(KdocsError("f", "unreadable")), [], "failed"),
    "the cleanup failed": (_return, ["delete namespace x: forbidden"], "failed"),
    "interrupted (kubectl killed)": (_raise(Cancelled()), [], "nothing"),
    "the cluster went away": (_raise(ClusterUnavailableError(None, "gone")), [], "nothing"),
    "a bug in kdocs": (_raise(RuntimeError("bug")), [], "nothing"),
}


@pytest.fixture
def project(tmp_path: Path):
    settings = make_project(tmp_path / "project", guide=False)
    app = settings.snippets_dir / "app"
    write(app / "config.yaml", CONFIGMAP.format(name="config"))
    write(app / "config.scenario.yaml", SCENARIO)
    write(app / "other.yaml", CONFIGMAP.format(name="other"))  # no scenario: the default check
    return settings


def end_units_with(
    monkeypatch: pytest.MonkeyPatch, checks: Callable[..., None], cleanup: list[str]
) -> None:
    """Every unit runs `checks` (scenario steps or default check), then cleans up with `cleanup`."""
    monkeypatch.setattr(Session, "open", lambda self: setattr(self, "opened", True))
    monkeypatch.setattr(Session, "close", lambda self: list(cleanup))
    monkeypatch.setattr(runner, "run_scenario", checks)
    # The default check answers with the lines of what it waited for.
    monkeypatch.setattr(runner, "default_check", lambda *args: checks(*args) or [])
    monkeypatch.setattr(runner, "conflict_keys", lambda ctx, unit: set())
    monkeypatch.setattr(health, "namespaces_not_deleting", lambda cluster, run_id: None)
    monkeypatch.setattr(health, "readiness_problem", lambda cluster, timeout=5.0: None)
    monkeypatch.setattr(test_command, "sweep_orphans", lambda cluster: health.Swept())


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_only_a_unit_that_ran_to_its_end_is_recorded_and_passes_only_if_every_check_did(
    project, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    app = project.snippets_dir / "app"
    snippets = {"scenario": app / "config.yaml", "check": app / "other.yaml"}
    with monkeypatch.context() as patched:  # an earlier run that passed, for these bytes
        end_units_with(patched, _return, [])
        code, _ = kdocs_test(project, provider=StaticProvider(CLUSTER))
    assert code == 0
    first = ResultStore(project.results_file)
    before = {kind: first.lookup(sha256(path)) for kind, path in snippets.items()}
    assert all(entry is not None and entry.passed for entry in before.values())
    assert before["check"].checks == DEFAULT_CHECKS

    checks, cleanup, expected = ENDINGS[ending]
    end_units_with(monkeypatch, checks, cleanup)
    code, report = kdocs_test(project, "--force", provider=StaticProvider(CLUSTER))
    store = ResultStore(project.results_file)
    statuses = {o["kind"]: o["status"] for o in report["outcomes"]}
    for kind, snippet in snippets.items():
        entry = store.lookup(sha256(snippet))
        assert entry is not None
        if expected == "nothing":
            assert entry == before[kind], f"{ending}: recorded over an earlier pass"
            assert statuses[kind] in ("error", "cancelled")
        elif expected == "failed":
            assert not entry.passed and entry.message, ending
            assert entry.date >= before[kind].date
            assert entry.checks in ((), ("server-side apply",)), entry.checks
        else:
            assert entry.passed and statuses[kind] == "passed"
    if expected == "passed":
        assert code == 0, report
    elif expected == "failed":
        assert code == 1, report
    else:
        assert code != 0, report
