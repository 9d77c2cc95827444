"""Every class of faulty manifest is caught by `kdocs test`, naming the file and the reason.

Each fixture under tests/fixtures/faulty/ is the guide's DaemonSet (or NodePool)
with one fault. The reason must be the one the API server or a controller gave,
since that is what tells a reader what to fix. A sound copy of the same
DaemonSet passes the same default check, so the check is not failing everything.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from kdocs.cluster.base import Cluster
from kdocs.config import load_settings
from tests.cluster.conftest import record_timing
from tests.cluster.test_runner_helpers import (
    FAULTY,
    ROOT,
    StaticProvider,
    kdocs_test,
    leftovers,
    outcomes,
    units_lock,
    write,
)

pytestmark = pytest.mark.cluster

# fixture file -> what the API server (or the DaemonSet controller) said about it
REASONS = {
    "toleration-operator-exist.yaml": (
        'spec.template.spec.tolerations[0].operator: Unsupported value: "Exist": '
        'supported values: "Equal", "Exists"'
    ),
    "selector-mismatch.yaml": "`selector` does not match template `labels`",
    "notin-without-values.yaml": (
        "nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified "
        "when `operator` is 'In' or 'NotIn'"
    ),
    "invalid-name.yaml": (
        'The DaemonSet "Node_Agent" is invalid: metadata.name: Invalid value: "Node_Agent": '
        "a lowercase RFC 1123 subdomain"
    ),
    "invalid-quantity.yaml": "quantities must match the regular expression",
    "missing-priorityclass.yaml": (
        "DaemonSet node-agent needs PriorityClass no-such-priority, which this snippet does not "
        "define and the cluster lacks"
    ),
    "nodepool-in-without-values.yaml": (
        "spec.template.spec.requirements: Invalid value: requirements with operator 'In' "
        "must have a value defined"
    ),
}
SOUND = """\
# The guide's DaemonSet without its priorityClassName (no PriorityClass here): sound.
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: node-agent
  template:
    metadata:
      labels:
        app.kubernetes.io/name: node-agent
    spec:
      tolerations:
        - operator: Exists
      containers:
        - name: agent
          image: fluent/fluent-bit:3.2.2
"""


@pytest.fixture(scope="module")
def faulty_run(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One `kdocs test` of every faulty fixture plus a sound control, in parallel."""
    folder = tmp_path_factory.mktemp("faulty")
    settings = replace(load_settings(ROOT), results_file=folder / "results.json")
    sound = write(folder / "sound-daemonset.yaml", SOUND)
    paths = [str(FAULTY / name) for name in sorted(REASONS)] + [str(sound)]
    with units_lock():
        started = time.monotonic()
        code, report = kdocs_test(settings, *paths, provider=StaticProvider(cluster))
        record_timing("kdocs test, every faulty fixture", time.monotonic() - started)
        report["leftovers"] = leftovers(cluster, [o["namespace"] for o in report["outcomes"]])
    report["code"] = code
    report["sound"] = str(sound)
    report["results_written"] = settings.results_file.exists()
    return report


@pytest.mark.parametrize("name", sorted(REASONS))
def test_a_faulty_manifest_fails_naming_the_file_and_the_reason(
    faulty_run: dict, name: str
) -> None:
    outcome = outcomes(faulty_run)[f"tests/fixtures/faulty/{name}"]
    assert outcome["status"] == "failed"
    message = outcome["message"]
    assert message.startswith(f"tests/fixtures/faulty/{name}: "), message
    assert REASONS[name] in message, message
    assert "\n" not in message


def test_the_sound_control_passes_the_same_check(faulty_run: dict) -> None:
    outcome = outcomes(faulty_run)[faulty_run["sound"]]
    assert outcome["status"] == "passed", outcome
    assert outcome["checks"] == ["server-side apply", "default check of each kind", "delete"]
    assert outcome["message"] == "DaemonSet node-agent: ready on 2 of 2 eligible nodes"


def test_the_run_fails_cleans_up_and_records_nothing_for_files_outside_snippets(
    faulty_run: dict,
) -> None:
    assert faulty_run["code"] == 1
    assert faulty_run["leftovers"] == []
    assert not faulty_run["results_written"]


def test_an_object_nobody_defines_is_named_before_anything_is_applied(faulty_run: dict) -> None:
    """Without that, the DaemonSet controller's FailedCreate event repeats until the timeout."""
    outcome = outcomes(faulty_run)["tests/fixtures/faulty/missing-priorityclass.yaml"]
    assert "define it in this snippet, or test it with a scenario" in outcome["message"]
    assert outcome["seconds"] < 30
    assert "FailedCreate" not in outcome["diagnostics"]
