"""`kdocs new guide`: refusals leave the project untouched; the scaffold builds as it is.

The full path (its scenario run on a cluster, its badge found) is in
tests/cluster/test_new_guide.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.site.conftest import Project


def new(project: Project, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", "new", "guide", *argv],
        cwd=project.root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def files(project: Project) -> set[str]:
    return {str(p.relative_to(project.root)) for p in project.root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["Bad_Name", "--category", "basics"], "guide name 'Bad_Name' must be lowercase"),
        (["ok", "--category", "a/b"], "category 'a/b' must be lowercase"),
        (["ok", "--category", "basics", "--author", "not a login"], "is not a GitHub login"),
        (["ok"], "the following arguments are required: --category"),
    ],
)
def test_a_bad_name_is_one_line_exit_2_and_writes_nothing(project: Project, argv, reason) -> None:
    before = files(project)
    done = new(project, *argv)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and reason in done.stderr, done.stderr
    assert files(project) == before


def test_an_existing_guide_or_snippet_folder_is_refused(project: Project) -> None:
    project.snippet("taken/x.yaml", "a: 1\n")
    before = files(project)
    done = new(project, "taken", "--category", "basics")
    assert done.returncode == 2
    assert done.stderr == (
        "kdocs: snippets/taken: already exists; choose another name for the guide 'taken'\n"
    )
    assert files(project) == before


def test_the_scaffold_builds_with_its_tags_and_author_and_no_other_edit(project: Project) -> None:
    project.page("tags.md", "# Tags\n\n{{ tag_index() }}\n")
    project.page("index.md", "# Home\n\n{{ guide_list() }}\n")
    done = new(
        project, "scale-out", "--category", "basics", "--title", "Scale: out", "--author", "octocat"
    )
    assert done.returncode == 0, done.stderr
    assert {
        "docs/guides/basics/scale-out.md",
        "snippets/scale-out/settings.yaml",
        "snippets/scale-out/settings.scenario.yaml",
    } <= files(project)
    built = project.build()
    assert built.returncode == 0, built.stderr
    site = project.root / "site"
    page = (site / "guides/basics/scale-out/index.html").read_text()
    assert "<h1" in page and "Scale: out" in page and "https://github.com/octocat" in page
    assert 'data-snippet="scale-out/settings.yaml"' in page
    assert "guides/basics/scale-out/" in (site / "index.html").read_text()
    assert "Scale: out" in (site / "tags/index.html").read_text()


def test_outside_a_kdocs_project_nothing_is_written(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kdocs.cli", "new", "guide", "x", "--category", "y"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("kdocs: not inside a kdocs project")
    assert list(tmp_path.iterdir()) == []
