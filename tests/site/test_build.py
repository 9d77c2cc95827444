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
    assert len(guide) == 8
    assert {b.section for b in guide} == {None, "priority", "scheduling", "stable"}
    contributing = [b for b in blocks if b.page.startswith("contributing/")]
    default_checks = {
        f"contributing/default-checks/{p.name}"
        for p in (REPO / "snippets" / "contributing" / "default-checks").glob("*.yaml")
    }
    assert len(default_checks) >= 10  # the table of default checks, one example a row
    assert {b.snippet for b in contributing} == {
        "contributing/web-deployment.yaml",
        "contributing/web-deployment.scenario.yaml",
        *default_checks,
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
        ('snippet("cn.yaml")', "'cn.yaml' does not exist in snippets/ (did you mean 'cm.yaml'?)"),
        (
            'snippet("cm.yaml", section="nope")',
            "no section named 'nope'; sections in this file: 'data'",
        ),
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
    assert "docs/bad.md:5:" in lines[0] and reason in lines[0], lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '{{ snipet("cm.yaml") }}',
            "docs/p.md:10: template error: 'snipet' is undefined (did you mean 'snippet'?)",
        ),
        (
            "{% if %}",
            "docs/p.md:10: template syntax error: Expected an expression, got 'end of"
            " statement block'",
        ),
        (
            "{{ priority_clas }}",
            "docs/p.md:10: template error: 'priority_clas' is undefined"
            " (did you mean 'priority_class'?)",
        ),
    ],
)
def test_a_template_error_names_the_real_page_line(project: Project, body, expected) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    # Six lines of front matter and a blank line: Jinja alone would say line 3, not 10.
    front = "---\ntitle: P\ndescription: d\nhide: [toc]\nstatus: new\n---\n\n"
    project.page("p.md", front + "# P\n\n" + body + "\n")
    done = project.build()
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"kdocs: {expected}"], done.stderr


def test_a_plain_mkdocs_build_reports_a_template_error_without_a_traceback(
    project: Project,
) -> None:
    project.page("p.md", "---\ntitle: P\n---\n# P\n\n{{ snipet('x') }}\n")
    done = project.mkdocs_build()
    assert done.returncode == 1
    assert "docs/p.md:6: template error: 'snipet' is undefined" in done.stderr
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


def record_result(project: Project, rel: str, passed: bool, message: str = "") -> None:
    """A default check's result as `kdocs test` records it, for the snippet's current bytes."""
    sha = snippets.load(project.root / "snippets", rel).sha256
    store = ResultStore(project.root / ".kdocs" / "results.json", project.root)
    store.record(UnitRecord(
        snippet=rel, sha256=sha, kind="check", unit=f"snippets/{rel}", source=f"snippets/{rel}",
        passed=passed, provider="kwok", kubernetes_version="v1.36.3",
        date="2026-11-27T12:00:00Z", checks=("server-side apply",) if passed else (),
        message=message, inputs={f"snippets/{rel}": sha},
    ))  # fmt: skip
    store.save()


def test_a_recorded_failure_refuses_the_snippet_and_says_what_to_run(project: Project) -> None:
    project.snippet("app/cm.yaml", CONFIGMAP)
    project.page("p.md", '# P\n\n{{ snippet("app/cm.yaml") }}\n')
    record_result(project, "app/cm.yaml", passed=False, message="rollout timed out")
    done = project.build()
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "kdocs: docs/p.md:3: snippet 'app/cm.yaml': snippets/app/cm.yaml: failed on the cluster"
        " (kwok): rollout timed out; fix it, then run `kdocs test snippets/app/cm.yaml`"
    ]


def test_badges_say_not_run_then_read_the_cluster_result(project: Project) -> None:
    path = project.snippet("cm.yaml", CONFIGMAP)
    project.page("p.md", '# P\n\n{{ snippet("cm.yaml") }}\n')
    assert project.build().returncode == 0
    page = (project.root / "site" / "p" / "index.html").read_text()
    assert "Kubernetes 1.30, 1.33" in page
    assert "not run" in page

    record_result(project, "cm.yaml", passed=True)
    done = project.build()
    assert done.returncode == 0
    page = (project.root / "site" / "p" / "index.html").read_text()
    assert "kwok · Kubernetes v1.36.3 · 2026-11-27" in page
    assert "not run" not in page
    assert "changed since" not in done.stderr

    # A comment is enough to void the result: never silently, the build's last line says so.
    path.write_text(CONFIGMAP.replace("data:", "data:  # edited"))
    done = project.build()
    assert done.returncode == 0
    assert "not run" in (project.root / "site" / "p" / "index.html").read_text()
    assert done.stderr.splitlines()[-1] == (
        "kdocs: 1 snippet changed since it was proven on a cluster, badge now 'not run'"
        " (run `kdocs test`): cm.yaml"
    )


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


def force_a_bad_rendering(project: Project) -> None:
    """pymdownx.snippets follows `--8<--` lines inside the block: the page shows other text."""
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


def test_a_rendering_that_alters_the_text_fails_the_build(project: Project) -> None:
    force_a_bad_rendering(project)
    done = project.build()
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "kdocs: site/forced/index.html: snippet 'cm.yaml': the page shows other text than the"
        " file (first difference at shown line 7)"
    ]


def test_a_plain_mkdocs_build_reads_the_blocks_back_too(project: Project) -> None:
    """The guarantee is MkDocs' own, through the plugin: no kdocs command involved."""
    project.snippet("ok.yaml", CONFIGMAP)
    project.page("p.md", '# P\n\n{{ snippet("ok.yaml") }}\n')
    done = project.mkdocs_build()
    assert done.returncode == 0, done.stderr
    assert "kdocs: 1 injected blocks match their files" in done.stderr
    published = project.root / "site" / "snippets" / "ok.yaml"
    assert published.read_text() == CONFIGMAP

    force_a_bad_rendering(project)
    done = project.mkdocs_build()
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert errors == [
        "ERROR   -  site/forced/index.html: snippet 'cm.yaml': the page shows other text than"
        " the file (first difference at shown line 7)"
    ], done.stderr
    assert "Traceback" not in done.stderr


def test_plugin_options_are_checked_by_mkdocs(project: Project) -> None:
    config = project.root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("  - kdocs\n", "  - kdocs:\n      verify: maybe\n")
    )
    done = project.mkdocs_build()
    assert done.returncode == 1
    assert "Plugin 'kdocs' option 'verify': Expected type: <class 'bool'>" in done.stderr
    assert "Traceback" not in done.stderr


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


def test_the_fast_scan_reads_what_the_html_parser_reads(project: Project) -> None:
    """The read-back scans each block with regular expressions; on every page of a site with
    hostile content, containers and highlighted lines it must agree with the HTML parser."""
    from kdocs.site.extract import page_blocks

    hostile = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hostile\ndata:\n"
        "  html: \"</code></pre><script>alert('x')</script> &amp; &lt;b&gt; &#39;\"\n"
        '  jinja: "{{ 7 * 7 }}"\n'
    )
    project.snippet("cm.yaml", CONFIGMAP)
    project.snippet("hostile.yaml", hostile)
    project.page("containers.md", CONTAINERS)
    project.page(
        "h.md",
        '# H\n\n{{ snippet("hostile.yaml", title="<b> & \\"q\\"", hl_lines="2 6") }}\n\n'
        '{{ snippet("cm.yaml", section="data") }}\n',
    )
    assert project.build().returncode == 0
    pages = sorted((project.root / "site").rglob("*.html"))
    seen = 0
    for page in pages:
        text = page.read_text()
        fast = page_blocks(text)
        assert fast == page_blocks(text, parser_only=True), page
        seen += len(fast)
    assert seen == 7
    (hostile_block, _) = page_blocks((project.root / "site" / "h" / "index.html").read_text())
    assert hostile_block[0] == hostile


def test_line_numbers_are_not_copied_and_still_match(project: Project) -> None:
    """With line numbers on, the copied text skips them (the parser's path of the scan)."""
    config = project.root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "anchor_linenums: true", "anchor_linenums: true\n      linenums: true"
        )
    )
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("p.md", '# P\n\n{{ snippet("cm.yaml") }}\n')
    done = project.build()
    assert done.returncode == 0, done.stderr
    assert 'class="linenos"' in (project.root / "site" / "p" / "index.html").read_text()
    (block,) = blocks_match_files(project.root, project.root / "site")
    assert block.text.startswith("apiVersion: v1\n")  # no line number copied


WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: SIZE_TYPE}
"""


def test_kept_schema_verdicts_are_void_when_a_crd_or_the_versions_change(
    project: Project,
) -> None:
    """Unchanged rebuilds reuse the schema verdicts of the last build; anything else the
    verdict depends on must void them, or a stale badge would claim a check that fails."""
    crd = project.root / "schemas" / "crds" / "widgets.yaml"
    crd.parent.mkdir(parents=True, exist_ok=True)
    crd.write_text(WIDGET_CRD.replace("SIZE_TYPE", "integer"))
    project.snippet(
        "w.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
        "spec:\n  size: 3\n"
    )  # fmt: skip
    project.page("p.md", '# P\n\n{{ snippet("w.yaml") }}\n')
    assert project.build().returncode == 0
    assert (project.root / ".kdocs" / "schema-checks.json").is_file()
    page = project.root / "site" / "p" / "index.html"
    assert "Kubernetes 1.30, 1.33" in page.read_text()

    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"1.30", "1.33"', '"1.31"'))
    assert project.build().returncode == 0
    assert "Kubernetes 1.31" in page.read_text()

    crd.write_text(WIDGET_CRD.replace("SIZE_TYPE", "string"))
    done = project.build()
    assert done.returncode == 1
    assert "w.yaml:6" in done.stderr and "size" in done.stderr, done.stderr
