"""The site stage end to end: real MkDocs, real macros, real schema validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kdocs import snippets
from kdocs.results import ResultStore, UnitRecord
from kdocs.site.extract import rendered_blocks
from tests.site.conftest import CONFIGMAP, REPO, Project


def blocks_match_files(project_root: Path, site: Path) -> list:
    blocks = rendered_blocks(site)
    for block in blocks:
        snippet = snippets.load(project_root / "snippets", block.snippet)
        assert block.text == snippet.shown_text(block.section), (block.page, block.snippet)
        assert block.sha256 == snippet.sha256
    return blocks


def test_site_builds_and_every_block_is_byte_identical(tmp_path: Path) -> None:
    import subprocess
    import sys

    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "kdocs.cli", "build", "--site-dir", str(site)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    blocks = blocks_match_files(REPO, site)
    for page in (REPO / "docs").rglob("*.md"):
        calls = len(re.findall(r"^\s*\{\{\s*snippet\(", page.read_text(), re.MULTILINE))
        html = page.relative_to(REPO / "docs").with_suffix("")
        html = "index.html" if html.name == "index" else f"{html}/index.html"
        assert len([b for b in blocks if b.page == html]) == calls, page
    guide = [b for b in blocks if "deploy-daemonset" in b.page]
    assert len(guide) == 6
    assert {b.section for b in guide} == {None, "priority", "scheduling"}
    contributing = [b for b in blocks if b.page.startswith("contributing/")]
    assert {b.snippet for b in contributing} == {
        "contributing/web-deployment.yaml",
        "contributing/web-deployment.scenario.yaml",
    }


CONTAINERS = """\
# Containers

!!! note "In an admonition"
    {{ snippet("cm.yaml") }}

=== "Tab one"

    {{ snippet("cm.yaml", section="data") }}

=== "Tab two"

    - a list item

        {{ snippet("cm.yaml", title="in a list in a tab") }}

1. A numbered step

    {{ snippet("cm.yaml", section="data") }}

??? tip "Collapsed"
    !!! warning "Nested"
        {{ snippet("cm.yaml") }}
"""


def test_indentation_survives_every_container(project: Project) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("containers.md", CONTAINERS)
    done = project.build()
    assert done.returncode == 0, done.stderr
    blocks = blocks_match_files(project.root, project.root / "site")
    assert len(blocks) == 5


def test_hostile_content_is_shown_literally(project: Project) -> None:
    hostile = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hostile\ndata:\n"
        "  html: \"</code></pre><script>alert('x')</script>\"\n"
        '  jinja: "{{ 7 * 7 }} {% if true %}yes{% endif %} {# c #}"\n'
        '  # --8<-- "../../etc/passwd"\n'
        '  fence: "```"\n'
    )
    project.snippet("hostile.yaml", hostile)
    project.page("hostile.md", '# H\n\n{{ snippet("hostile.yaml") }}\n')
    done = project.build()
    assert done.returncode == 0, done.stderr
    (block,) = blocks_match_files(project.root, project.root / "site")
    assert block.text == hostile
    page = (project.root / "site" / "hostile" / "index.html").read_text()
    assert "<script>alert" not in page
    assert "49" not in block.text


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ('snippet("nope.yaml")', "'nope.yaml' does not exist"),
        ('snippet("cm.yaml", section="nope")', "no section named 'nope'"),
        ('snippet("../pyproject.toml")', "leaves snippets/"),
        ('snippet("/etc/hostname")', "is absolute"),
    ],
)
def test_bad_reference_fails_naming_page_line_and_reason(
    project: Project, call: str, reason: str
) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("bad.md", "# Bad\n\nSome text.\n\n{{ " + call + " }}\n")
    done = project.build()
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "docs/bad.md:5:" in lines[0] and reason in lines[0]
    assert "Traceback" not in done.stderr


def test_invalid_snippet_fails_the_build(project: Project) -> None:
    project.snippet("cm.yaml", CONFIGMAP.replace("\ndata:", "\ndta:"))
    project.page("p.md", '# P\n\n{{ snippet("cm.yaml") }}\n')
    done = project.build()
    assert done.returncode == 1
    assert "cm.yaml:5:1" in done.stderr and "dta" in done.stderr
    assert not (project.root / "site" / "p" / "index.html").exists()


def test_call_inside_prose_fails(project: Project) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("p.md", '# P\n\nSee {{ snippet("cm.yaml") }}\n')
    done = project.build()
    assert done.returncode != 0
    assert "stand alone" in done.stderr


def test_badges_say_not_run_then_read_the_cluster_result(project: Project) -> None:
    path = project.snippet("cm.yaml", CONFIGMAP)
    project.page("p.md", '# P\n\n{{ snippet("cm.yaml") }}\n')
    assert project.build().returncode == 0
    page = (project.root / "site" / "p" / "index.html").read_text()
    assert "Kubernetes 1.30, 1.33" in page
    assert "not run" in page

    sha = snippets.load(project.root / "snippets", "cm.yaml").sha256
    store = ResultStore(project.root / ".kdocs" / "results.json", project.root)
    store.record(UnitRecord(
        snippet="cm.yaml", sha256=sha, kind="check", unit="snippets/cm.yaml",
        source="snippets/cm.yaml", passed=True, provider="kwok", kubernetes_version="v1.36.3",
        date="2026-11-27T12:00:00Z", checks=("server-side apply",),
        inputs={"snippets/cm.yaml": sha},
    ))  # fmt: skip
    store.save()
    assert project.build().returncode == 0
    page = (project.root / "site" / "p" / "index.html").read_text()
    assert "kwok · Kubernetes v1.36.3 · 2026-11-27" in page
    assert "not run" not in page

    path.write_text(CONFIGMAP.replace("hello", "hello again"))  # new bytes: old result is void
    assert project.build().returncode == 0
    assert "not run" in (project.root / "site" / "p" / "index.html").read_text()


def test_download_link_serves_the_raw_file(project: Project) -> None:
    project.snippet("dir/cm.yaml", CONFIGMAP)
    project.page("deep/p.md", '# P\n\n{{ snippet("dir/cm.yaml") }}\n')
    assert project.build().returncode == 0
    page_dir = project.root / "site" / "deep" / "p"
    href = re.search(
        r'class="kdocs-download" href="([^"]+)"', (page_dir / "index.html").read_text()
    )
    assert href is not None
    target = (page_dir / href.group(1)).resolve()
    assert target.read_bytes() == CONFIGMAP.encode()


def test_a_rendering_that_alters_the_text_fails_the_build(project: Project) -> None:
    """Force a bad rendering: pymdownx.snippets follows `--8<--` lines inside the block."""
    config = project.root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "  - pymdownx.superfences\n",
            "  - pymdownx.snippets:\n      base_path: [snippets]\n  - pymdownx.superfences\n",
        )
    )
    project.snippet("other.txt", "injected: true\n")
    project.snippet(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: |\n"
        '    --8<-- "other.txt"\n',
    )
    project.page("forced.md", '# F\n\n{{ snippet("cm.yaml") }}\n')
    done = project.build()
    assert done.returncode == 1
    assert "forced/index.html" in done.stderr
    assert "snippet 'cm.yaml'" in done.stderr and "first difference at shown line 7" in done.stderr


def test_one_snippet_on_several_pages_and_several_snippets_on_one(project: Project) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.snippet("other.yaml", CONFIGMAP.replace("name: demo", "name: other"))
    project.page("a.md", '# A\n\n{{ snippet("cm.yaml") }}\n\n{{ snippet("other.yaml") }}\n')
    project.page("deep/b.md", '# B\n\n{{ snippet("cm.yaml", section="data") }}\n')
    done = project.build()
    assert done.returncode == 0, done.stderr
    blocks = blocks_match_files(project.root, project.root / "site")
    pages = {(b.page, b.snippet) for b in blocks}
    assert pages == {
        ("a/index.html", "cm.yaml"),
        ("a/index.html", "other.yaml"),
        ("deep/b/index.html", "cm.yaml"),
    }
