"""The CI workflow: cluster with kind, test against it, build the site and keep it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "docs.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def job(workflow) -> dict:
    (only,) = workflow["jobs"].values()
    return only


@pytest.fixture(scope="module")
def steps(job) -> list[dict]:
    return job["steps"]


def index_of(steps: list[dict], predicate) -> int:
    found = [i for i, step in enumerate(steps) if predicate(step)]
    assert found, "no such step"
    return found[0]


def uses(action: str):
    return lambda step: str(step.get("uses", "")).startswith(action + "@")


def runs(pattern: str):
    return lambda step: re.search(pattern, str(step.get("run", ""))) is not None


def test_triggers_and_runner(workflow, job):
    triggers = workflow.get("on") or workflow.get(True)  # YAML 1.1 reads `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    assert str(job["runs-on"]).startswith("ubuntu")
    assert workflow["permissions"] == {"contents": "read"}


def test_the_tools_are_set_up_with_pinned_versions(steps, job):
    assert index_of(steps, uses("actions/checkout")) == 0
    python = steps[index_of(steps, uses("actions/setup-python"))]
    assert str(python["with"]["python-version"]) == "3.11"
    index_of(steps, uses("actions/setup-go"))
    install = steps[index_of(steps, runs(r"go install .*sigs\.k8s\.io/kind@"))]["run"]
    version = job["env"]["KIND_VERSION"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", version), "kind must be pinned to a release"
    assert "sigs.k8s.io/kind@${KIND_VERSION}" in install
    for step in steps:
        if "uses" in step:
            assert re.search(r"@v\d+", step["uses"]), f"{step['uses']} is not pinned"


def test_the_cluster_is_kind_with_the_karpenter_topology_and_tests_use_it(steps, job):
    assert job["env"]["KDOCS_PROVIDER"] == "kind"  # read by tests/cluster/conftest.py
    up = index_of(steps, runs(r"kdocs cluster up --provider kind --topology karpenter"))
    tests = index_of(steps, runs(r"(^|\s)(\.venv/bin/)?pytest(\s|$)"))
    lint = index_of(steps, runs(r"ruff check kdocs macros tests"))
    go = index_of(steps, uses("actions/setup-go"))
    kind = index_of(steps, runs(r"go install .*kind"))
    assert go < kind < up < tests
    assert lint <= tests
    down = steps[index_of(steps, runs(r"kdocs cluster down --provider kind"))]
    assert down.get("if") == "always()"


def test_the_site_is_built_and_uploaded(steps):
    docs = index_of(steps, runs(r"make docs"))
    upload = index_of(steps, uses("actions/upload-artifact"))
    tests = index_of(steps, runs(r"pytest"))
    assert tests < docs < upload
    assert steps[upload]["with"]["path"].rstrip("/") == "site"


def test_no_step_touches_a_users_kubeconfig(steps):
    for step in steps:
        assert ".kube/config" not in str(step.get("run", ""))
