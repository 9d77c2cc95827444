"""The scenario lint: each rule finds its problem at file:line:col; no valid scenario is refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kdocs.cluster.topology import available_topologies, load_topology, topology_path
from kdocs.errors import ExitCode
from kdocs.scenario.lint import lint_scenario

ROOT = Path(__file__).resolve().parents[2]
KDOCS = Path(sys.executable).parent / "kdocs"
# Real topologies: one of static nodes only, one where Karpenter launches nodes.
STATIC = load_topology(ROOT / "tests/fixtures/topologies/eks-static.yaml")
KARPENTER = load_topology(ROOT / "clusters/karpenter.yaml")
POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n"


@pytest.fixture
def snippets(tmp_path: Path) -> Path:
    guide = tmp_path / "snippets" / "guide"
    guide.mkdir(parents=True)
    (guide / "pod.yaml").write_text(POD, encoding="utf-8")
    return tmp_path / "snippets"


def lint(snippets: Path, text: str, topologies=(STATIC,), name: str = "s.scenario.yaml"):
    path = snippets / "guide" / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    chosen = list(topologies) if topologies is not None else None
    return [str(e) for e in lint_scenario(path, snippets.parent, snippets, chosen)], [
        e.exit_code for e in lint_scenario(path, snippets.parent, snippets, chosen)
    ]


def assert_on(pod_node: str, snippets: Path, topologies=(STATIC,)):
    """A scenario whose one assert expects the pod on `pod_node` (a `${...}` string)."""
    return lint(
        snippets,
        f"""\
        steps:
          - apply: pod.yaml
          - assert:
              object:
                apiVersion: v1
                kind: Pod
                metadata: {{name: p}}
                spec: {{nodeName: "{pod_node}"}}
        """,
        topologies,
    )


WHERE = "snippets/guide/s.scenario.yaml"


def test_a_format_problem_is_found_wrong_exit_1_at_line_and_column(snippets: Path) -> None:
    lines, codes = lint(snippets, "timeout: 10x\nsteps: [{apply: pod.yaml}]\n")
    assert lines == [f"{WHERE}:1:10: invalid duration '10x' (like 30s, 2m, 1m30s)"]
    assert codes == [ExitCode.FAILED]


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("steps:\n  - asert: {}\n", "2:5", "unknown step kind 'asert'; did you mean 'assert'?"),
        ("steps:\n  - apply: pods.yaml\n", "2:12", "did you mean 'pod.yaml'?"),
        ("requires: [karpentr]\nsteps: [{apply: pod.yaml}]\n", "1:12", "did you mean 'karpenter'"),
        ("steps: [{apply: pod.yaml}]\ndescriptoin: x\n", "2:1", "did you mean 'description'"),
        ("steps:\n  - apply: pod.yaml\n---\nsteps: []\n", "4:1", "one YAML document"),
    ],
)  # fmt: skip
def test_each_format_rule_names_its_spot(snippets: Path, text: str, where: str, words: str) -> None:
    lines, codes = lint(snippets, text)
    assert len(lines) == 1 and lines[0].startswith(f"{WHERE}:{where}: ") and words in lines[0]
    assert codes == [ExitCode.FAILED]


def test_an_unreadable_scenario_is_unusable_exit_2(snippets: Path) -> None:
    path = snippets / "guide" / "s.scenario.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (problem,) = lint_scenario(path, snippets.parent, snippets, [STATIC])
    assert problem.exit_code == ExitCode.UNUSABLE and "binary" in str(problem)


def test_an_unknown_static_node_lists_the_nodes_and_the_nearest(snippets: Path) -> None:
    lines, codes = assert_on("${node:fargat-1}", snippets)
    assert lines == [
        f"{WHERE}:8:26: ${{node:fargat-1}}: no static node 'fargat-1'; did you mean 'fargate-1'?"
        " (nodes of topology eks-static: default-1, default-2, stable-1, fargate-1)"
    ]
    assert codes == [ExitCode.FAILED]
    assert assert_on("${node:fargate-1}", snippets) == ([], [])


def test_a_node_known_to_one_of_several_topologies_is_fine(snippets: Path) -> None:
    assert assert_on("${node:system-1}", snippets, (STATIC, KARPENTER)) == ([], [])
    lines, _ = assert_on("${node:system-1}", snippets, (STATIC,))
    assert "no static node 'system-1'" in lines[0]


def test_a_label_selector_must_pick_exactly_one_static_node(snippets: Path) -> None:
    assert assert_on("${node:karpenter.sh/nodepool=stable}", snippets) == ([], [])
    (none,), _ = assert_on("${node:karpenter.sh/nodepool=stabel}", snippets)
    assert "needs exactly one node so labelled" in none and "eks-static: none" in none
    assert "karpenter.sh/nodepool=stable" in none  # the values that exist
    (two,), _ = assert_on("${node:karpenter.sh/nodepool=default}", snippets)
    assert "eks-static: default-1, default-2" in two


def test_labels_known_only_at_run_time_are_never_a_false_alarm(snippets: Path) -> None:
    # Karpenter launches nodes with labels from the NodePools the scenario applies.
    assert assert_on("${node:karpenter.sh/nodepool=anything}", snippets, (KARPENTER,)) == ([], [])
    # A selector the lint does not evaluate (set-based) is left to the run.
    assert assert_on("${node:karpenter.sh/nodepool in (a,b)}", snippets) == ([], [])
    # A scenario that applies a Node may set the label it then selects.
    lines, _ = lint(
        snippets,
        """\
        steps:
          - apply: {object: {apiVersion: v1, kind: Node, metadata: {name: node-x, labels: {x: y}}}}
          - assert:
              object: {apiVersion: v1, kind: Pod, spec: {nodeName: "${node:x=y}"}}
              match: any
        """,
    )
    assert lines == []


def test_without_topologies_the_node_checks_are_skipped(snippets: Path) -> None:
    assert assert_on("${node:nowhere}", snippets, None) == ([], [])


def test_a_variable_typo_is_found_and_a_foreign_variable_left_alone(snippets: Path) -> None:
    (typo,), _ = assert_on("${namespce}", snippets)
    assert typo.startswith(
        f"{WHERE}:8:26: unknown variable ${{namespce}}; did you mean 'namespace'?"
    )
    (nodes,), _ = assert_on("${nodes:fargate-1}", snippets)
    assert "unknown variable ${nodes:fargate-1}" in nodes
    assert assert_on("${HOME}/bin and ${namespace}", snippets) == ([], [])
    assert assert_on("${podName} in a script", snippets) == ([], [])


def test_a_pod_variable_takes_a_label_selector(snippets: Path) -> None:
    assert assert_on("${pod:app=web}", snippets) == ([], [])
    (plain,), codes = assert_on("${pod:web-0}", snippets)
    assert plain.startswith(f"{WHERE}:8:26: ${{pod:web-0}}: give a label selector")
    assert codes == [ExitCode.FAILED]
    (typo,), _ = assert_on("${pods:app=web}", snippets)
    assert "unknown variable ${pods:app=web}; did you mean 'pod'?" in typo


def test_variables_in_the_files_a_scenario_applies_are_checked_where_they_are(
    snippets: Path,
) -> None:
    (snippets / "guide" / "pinned.yaml").write_text(
        POD.replace("spec: {", "spec: {nodeName: '${node:stable-2}', "), encoding="utf-8"
    )
    lines, _ = lint(snippets, "steps:\n  - apply: pinned.yaml\n  - delete: pinned.yaml\n")
    assert len(lines) == 1, lines  # one file, reported once however often it is used
    assert lines[0].startswith("snippets/guide/pinned.yaml:4:18: ${node:stable-2}: no static node")


def test_every_scenario_of_the_repository_lints_clean() -> None:
    """No false alarm on a valid scenario: the site's, and the one `kdocs new guide` writes."""
    topologies = [
        load_topology(topology_path(ROOT / "clusters", n))
        for n in available_topologies(ROOT / "clusters")
    ]
    found = sorted(
        p
        for folder in ("snippets", "tests", "docs", "clusters")
        for suffix in ("*.scenario.yaml", "*.scenario.yml")
        for p in (ROOT / folder).rglob(suffix)
    )
    assert len(found) >= 5, found  # the guide's scenarios and the contributor page's
    for path in found:
        assert lint_scenario(path, ROOT, ROOT / "snippets", topologies) == [], path


def test_the_scaffolded_scenario_lints_clean(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.kdocs]\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    done = subprocess.run(
        [str(KDOCS), "new", "guide", "first-guide", "--category", "basics"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (scenario,) = (tmp_path / "snippets").glob("**/*.scenario.yaml")
    assert lint_scenario(scenario, tmp_path, tmp_path / "snippets", [KARPENTER, STATIC]) == []


def test_the_site_refuses_a_shown_scenario_the_lint_finds_wrong(snippets: Path) -> None:
    """A page showing a scenario gets the lint's line; the site reads no topology."""
    from kdocs.config import load_settings
    from kdocs.errors import KdocsError
    from kdocs.pipeline import SitePipeline

    (snippets.parent / "pyproject.toml").write_text("[tool.kdocs]\n", encoding="utf-8")
    lint(snippets, "steps:\n  - delete: {apiVersion: v1, kind: Pod, name: '${namespaec}'}\n")
    site = SitePipeline(load_settings(snippets.parent))
    with pytest.raises(KdocsError) as caught:
        site.verify("guide/s.scenario.yaml")
    assert str(caught.value).startswith(f"{WHERE}:2:47: unknown variable ${{namespaec}}")
    assert caught.value.exit_code == ExitCode.FAILED
    (snippets / "guide" / "ok.scenario.yaml").write_text(
        "steps:\n  - delete: {apiVersion: v1, kind: Pod, name: '${node:anywhere}'}\n",
        encoding="utf-8",
    )
    assert site.verify("guide/ok.scenario.yaml").static is not None  # node names: not here
