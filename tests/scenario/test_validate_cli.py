"""`kdocs validate` lints scenario files, through the real `kdocs` entry point in a project."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KDOCS = Path(sys.executable).parent / "kdocs"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n"
GOOD = """\
steps:
  - apply: settings.yaml
  - assert:
      object: {apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {mode: fast}}
  - error:
      object: {apiVersion: v1, kind: Pod, spec: {nodeName: "${node:fargate-1}"}}
      match: any
      for: 2s
"""
BAD = """\
steps:
  - apply: setings.yaml
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A kdocs project with one snippet, a clean scenario and the static topology."""
    (tmp_path / "pyproject.toml").write_text("[tool.kdocs]\n", encoding="utf-8")
    guide = tmp_path / "snippets" / "app"
    guide.mkdir(parents=True)
    (guide / "settings.yaml").write_text(CM, encoding="utf-8")
    (guide / "settings.scenario.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "clusters").mkdir()
    shutil.copy(ROOT / "tests/fixtures/topologies/eks-static.yaml", tmp_path / "clusters")
    return tmp_path


def kdocs(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KDOCS), "validate", "-k", "1.33", *args],
        cwd=project, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )  # fmt: skip


def test_a_scenario_file_is_linted_not_schema_checked(project: Path) -> None:
    done = kdocs(project, "snippets/app/settings.scenario.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "apiVersion" not in done.stdout
    assert done.stdout.splitlines() == ["1 scenarios: 1 clean, 0 with problems"]


def test_a_folder_counts_its_snippets_and_scenarios(project: Path) -> None:
    (project / "snippets/app/broken.scenario.yaml").write_text(BAD, encoding="utf-8")
    done = kdocs(project, "snippets")
    assert done.returncode == 1 and not done.stderr
    *problems, summary = done.stdout.splitlines()
    assert problems == [
        "snippets/app/broken.scenario.yaml:2:12: 'setings.yaml' does not exist next to the"
        " scenario; did you mean 'settings.yaml'?"
    ]
    assert summary == (
        "1 files, 1 resources: 1 valid, 0 invalid, 0 unreadable or malformed;"
        " 2 scenarios: 1 clean, 1 with problems [k8s 1.33]"
    )


def test_no_path_lints_every_scenario_of_the_site_against_its_topologies(project: Path) -> None:
    scenario = project / "snippets/app/settings.scenario.yaml"
    scenario.write_text(GOOD.replace("fargate-1", "fargate-2"), encoding="utf-8")
    done = kdocs(project)
    assert done.returncode == 1
    (problem, summary) = done.stdout.splitlines()
    assert problem.startswith("snippets/app/settings.scenario.yaml:6:60: ${node:fargate-2}:")
    assert "did you mean 'fargate-1'?" in problem and "eks-static" in problem
    assert "1 scenarios: 0 clean, 1 with problems" in summary


def test_an_unreadable_scenario_is_exit_2_and_json_counts_scenarios(project: Path) -> None:
    (project / "snippets/app/x.scenario.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    done = kdocs(project, "-o", "json", "snippets")
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["scenarios"] == 2 and report["summary"]["scenarios_clean"] == 1
    (bad,) = [f for f in report["files"] if not f["valid"]]
    assert bad["scenario"] and "binary" in bad["errors"][0]["reason"]


def test_kdocs_test_refuses_a_broken_scenario_before_any_cluster(project: Path) -> None:
    """The lint runs against the run's topology first: no cluster is asked for at all (a
    kubeconfig provider with no kubeconfig would fail the run otherwise, without outcomes)."""
    scenario = project / "snippets/app/settings.scenario.yaml"
    scenario.write_text(GOOD.replace("fargate-1", "fargate-2"), encoding="utf-8")
    done = subprocess.run(
        [str(KDOCS), "test", "--provider", "kubeconfig", "--output", "json"],
        cwd=project, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project), "CI": "true"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    (outcome,) = json.loads(done.stdout)["outcomes"]
    assert outcome["status"] == "error"
    assert outcome["message"].startswith(
        "refused offline: snippets/app/settings.scenario.yaml:6:60: ${node:fargate-2}: no static"
    )
