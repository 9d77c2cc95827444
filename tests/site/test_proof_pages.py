"""The proof pages' wiring in a real MkDocs build: where a badge links in either URL
style, and a proven_note() naming a folder without scenarios is one page:line error."""

from __future__ import annotations

import pytest

from kdocs.site.links import page_url_to
from tests.proof_fixture import configmap, record_run, scenario
from tests.site.conftest import Project


@pytest.mark.parametrize(
    ("page_url", "link"),
    [
        ("", "proof/#scenario-x"),
        ("guides/basics/web/", "../../../proof/#scenario-x"),
        ("index.html", "proof.html#scenario-x"),
        ("guides/basics/web.html", "../../proof.html#scenario-x"),
    ],
)
def test_a_badge_links_to_the_proof_page_in_either_url_style(page_url: str, link: str) -> None:
    assert page_url_to(page_url, "proof.md", "scenario-x") == link


def test_a_note_for_a_folder_without_scenarios_is_one_line_at_its_page_line(
    project: Project,
) -> None:
    project.snippet("demo/cm.yaml", configmap("cm"))
    project.snippet("demo/cm.scenario.yaml", scenario("cm", "cm.yaml", "it holds a"))
    project.page("guide.md", '---\ntitle: G\n---\n# Guide\n\n{{ proven_note("dmeo") }}\n')
    done = project.build()
    assert done.returncode == 1, done.stderr
    assert "docs/guide.md:6: no scenario under snippets/dmeo/ (folders with scenarios: demo)" in (
        done.stderr
    )


def test_a_note_lists_the_folders_scenarios_and_their_state(project: Project) -> None:
    project.snippet("demo/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    project.snippet(
        "demo/cm.scenario.yaml",
        "description: the map exists\nsteps:\n  - apply: cm.yaml\n"
        "  - apply: {file: cm.yaml, patch: {metadata: {name: ''}}, rejected: name}\n",
    )
    (project.root / "docs" / "proof.md").write_text("# Proof\n\n{{ proof_page() }}\n")
    project.page("guide.md", '# Guide\n\n!!! note "Proven"\n    {{ proven_note("demo") }}\n')
    done = project.build()
    assert done.returncode == 0, done.stderr
    html = (project.root / "site" / "guide" / "index.html").read_text()
    assert '<a href="../proof/#scenario-cm">cm</a> (not run): the map exists' in html
    assert (
        '<li>negative control: apply cm.yaml with metadata.name = "": the API server must reject'
        " it (with 'name')</li>" in html
    )


def test_a_scenario_changed_since_its_run_is_shown_stale_not_proven(project: Project) -> None:
    project.snippet("app/proven.yaml", configmap("proven"))
    project.snippet("app/proven.scenario.yaml", scenario("proven", "proven.yaml", "it holds a"))
    (project.root / "docs" / "proof.md").write_text("# Proof\n\n{{ proof_page() }}\n")
    project.page("guide.md", '# Guide\n\n{{ snippet("app/proven.yaml") }}\n')
    record_run(project.root, "proven", ["app/proven.yaml", "app/proven.scenario.yaml"], True)
    proof_html = project.root / "site" / "proof" / "index.html"
    assert project.build().returncode == 0
    assert '<span class="kdocs-state kdocs-state--proven">proven</span>' in proof_html.read_text()
    path = project.root / "snippets" / "app" / "proven.scenario.yaml"
    path.write_text(path.read_text().replace("for: 3s", "for: 4s"))
    done = project.build()
    assert done.returncode == 0, done.stderr
    html = proof_html.read_text()
    assert "kdocs-state--proven" not in html
    assert '<span class="kdocs-state kdocs-state--stale">stale: changed since it was proven' in html
    assert "must NOT appear for 4 s" in html  # the steps of the bytes on disk, not of the run
    guide = (project.root / "site" / "guide" / "index.html").read_text()
    assert 'href="../tested/' not in guide  # no "What is tested" page: no link to it
    assert "kdocs-badge--not-run" in guide
