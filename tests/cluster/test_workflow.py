"""The CI workflow: the suite on kind; shards prove the guides, one job merges and publishes.

actionlint (pinned, built from its Go module and cached like the cluster
binaries) checks the workflow as GitHub would, and is shown to fail on a
broken copy of it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from kdocs.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "docs.yml"
HASHED = "hashFiles('snippets/**', 'clusters/**', 'pyproject.toml')"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def job(workflow) -> dict:
    """The job that runs the project's own test suite."""
    return workflow["jobs"]["suite"]


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


def test_the_tools_are_set_up_with_pinned_versions(steps, workflow):
    assert index_of(steps, uses("actions/checkout")) == 0
    python = steps[index_of(steps, uses("actions/setup-python"))]
    assert str(python["with"]["python-version"]) == "3.11"
    index_of(steps, uses("actions/setup-go"))
    install = steps[index_of(steps, runs(r"go install .*sigs\.k8s\.io/kind@"))]["run"]
    version = workflow["env"]["KIND_VERSION"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", version), "kind must be pinned to a release"
    assert "sigs.k8s.io/kind@${KIND_VERSION}" in install
    for each in workflow["jobs"].values():
        for step in each["steps"]:
            if "uses" in step:
                assert re.search(r"@v\d+", step["uses"]), f"{step['uses']} is not pinned"


def test_the_cluster_is_kind_with_the_karpenter_topology_and_tests_use_it(steps, workflow):
    assert workflow["env"]["KDOCS_PROVIDER"] == "kind"  # read by tests/cluster/conftest.py
    up = index_of(steps, runs(r"kdocs cluster up --provider kind --topology karpenter"))
    tests = index_of(steps, runs(r"(^|\s)(\.venv/bin/)?pytest(\s|$)"))
    lint = index_of(steps, runs(r"ruff check kdocs macros tests"))
    go = index_of(steps, uses("actions/setup-go"))
    kind = index_of(steps, runs(r"go install .*kind"))
    assert go < kind < up < tests
    assert lint <= tests
    down = steps[index_of(steps, runs(r"kdocs cluster down --provider kind"))]
    assert down.get("if") == "always()"


def test_each_shard_restores_earlier_results_proves_its_share_and_uploads_it(workflow):
    prove = workflow["jobs"]["prove"]
    shards = prove["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(workflow["env"]["SHARDS"]) + 1))
    versions = prove["strategy"]["matrix"]["kubernetes"]
    assert tuple(versions) == load_settings(ROOT).cluster_versions  # the same matrix as locally
    images = {i["kubernetes"]: i["image"] for i in prove["strategy"]["matrix"]["include"]}
    assert set(images) == set(versions)
    assert all(re.fullmatch(rf"kindest/node:v{re.escape(v)}\.\d+", images[v]) for v in versions)
    assert prove["env"]["KDOCS_KIND_IMAGE"] == "${{ matrix.image }}"
    assert prove["strategy"]["fail-fast"] is False  # a failing shard must not cancel the others
    steps = prove["steps"]
    restore = index_of(steps, uses("actions/cache/restore"))
    assert steps[restore]["with"]["key"] == f"kdocs-results-${{{{ {HASHED} }}}}"
    assert steps[restore]["with"]["restore-keys"] == "kdocs-results-"
    assert steps[restore]["with"]["path"] == ".kdocs/results.json"
    up = index_of(steps, runs(r"kdocs cluster up --provider kind"))
    test = index_of(steps, runs(r"kdocs test --shard \"\$\{\{ matrix.shard \}\}/\$\{SHARDS\}\""))
    assert '--cluster-version "${{ matrix.kubernetes }}"' in steps[test]["run"]
    upload = index_of(steps, uses("actions/upload-artifact"))
    assert restore < up < test < upload
    assert steps[upload]["if"] == "${{ !cancelled() }}"  # a failed shard's results still go
    path = "results.shard-${{ matrix.shard }}-of-${{ env.SHARDS }}.v${{ matrix.kubernetes }}.json"
    assert steps[upload]["with"]["path"] == f".kdocs/{path}"


def test_one_job_merges_the_shards_and_builds_only_a_complete_site(workflow):
    site = workflow["jobs"]["site"]
    assert site["needs"] == "prove" and site["if"] == "${{ !cancelled() }}"
    steps = site["steps"]
    restore = index_of(steps, uses("actions/cache/restore"))
    download = index_of(steps, uses("actions/download-artifact"))
    assert steps[download]["with"]["pattern"] == "results-shard-*"
    merge = index_of(steps, runs(r"kdocs results merge \.kdocs/shards/\*\.json"))
    save = index_of(steps, uses("actions/cache/save"))
    assert steps[save]["with"]["key"] == steps[restore]["with"]["key"]
    build = index_of(steps, runs(r"kdocs build --require-complete"))
    upload = index_of(steps, uses("actions/upload-artifact"))
    assert restore < download < merge < save < build < upload
    assert steps[upload]["with"]["path"].rstrip("/") == "site"


def test_main_publishes_the_site_to_github_pages(workflow):
    main_only = "github.ref == 'refs/heads/main' && github.event_name == 'push'"
    site = workflow["jobs"]["site"]["steps"]
    pages = site[index_of(site, uses("actions/upload-pages-artifact"))]
    assert pages["if"] == main_only
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "site" and deploy["if"] == main_only
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    index_of(deploy["steps"], uses("actions/deploy-pages"))


def actionlint() -> str:
    """The pinned actionlint, built once into the cache (warm: a MANIFEST check)."""
    built = subprocess.run(
        [ROOT / "clusters" / "build" / "build-component.sh", "actionlint"],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    return str(Path(built.stdout.strip().splitlines()[-1]) / "actionlint")


def lint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", "-oneline", *map(str, files)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip


def test_actionlint_finds_nothing_wrong_with_the_workflow():
    done = lint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("change", "found"),
    [(("needs: prove", "needs: proof"), "proof"),
     (("matrix.shard }}/", "matrix.shards }}/"), "shards"),
     (("pattern: results-shard-*", "patern: results-shard-*"), "patern"),
     (("if: ${{ !cancelled() }}", "if: ${{ !canceled() }}"), "canceled")],
)  # fmt: skip
def test_actionlint_fails_on_a_broken_copy_of_the_workflow(tmp_path, change, found):
    broken = tmp_path / ".github" / "workflows" / "docs.yml"
    broken.parent.mkdir(parents=True)
    text = WORKFLOW.read_text(encoding="utf-8")
    assert change[0] in text
    broken.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    done = lint(broken)
    assert done.returncode == 1, done.stdout + done.stderr
    assert found in done.stdout and "docs.yml" in done.stdout, done.stdout


def test_no_step_touches_a_users_kubeconfig(steps):
    for step in steps:
        assert ".kube/config" not in str(step.get("run", ""))
