"""In GitHub Actions, problems also become annotations on the pull request diff."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.site.conftest import CONFIGMAP, REPO, Project


def run(args: list[str], cwd, github: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    if github:
        env["GITHUB_ACTIONS"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_validate_defaults_to_annotations_in_github_actions(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIGMAP.replace("\ndata:", "\ndta:"))
    done = run(["validate", str(bad)], REPO, github=True)
    assert done.returncode == 1
    assert f"::error file={bad},line=5,col=1::" in done.stdout
    plain = run(["validate", str(bad)], REPO, github=False)
    assert "::error" not in plain.stdout and f"{bad}:5:1" in plain.stdout


def test_build_problems_are_annotated_with_page_and_line(project: Project) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("p.md", '# P\n\n{{ snippet("cm.yaml", section="nope") }}\n')
    done = run(["build"], project.root, github=True)
    assert done.returncode != 0
    assert "::error file=docs/p.md,line=3::snippet 'cm.yaml'" in done.stderr
