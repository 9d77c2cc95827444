"""Without a cluster: which units a run plans, when it may skip them, how results merge.

These decide what a badge claims, so they are tested on their own: a site
snippet is proven by its scenarios, only site snippets get results, a skip
needs a passing result for exactly these inputs on this provider, one
scenario's outcome keeps the other scenarios' outcomes of the same bytes, a
result shows only while the files it used are unchanged (so restoring a
scenario restores its result) and two runs' saves merge.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.cluster.model import Outcome, Unit
from kdocs.cluster.plan import plan, with_topology
from kdocs.cluster.runner import _startable, start_order
from kdocs.errors import ExitCode, UnusableInputError
from kdocs.recording import record, sha256, unchanged
from kdocs.results import ResultStore
from kdocs.scenario.model import display
from tests.cluster.test_runner_helpers import make_project, write

CLUSTER = Cluster(
    provider="kwok", kubeconfig=Path("kubeconfig"), context="kwok-kdocs",
    kubernetes_version="v1.36.3", kubectl_binary=Path("kubectl"), topology="karpenter",
)  # fmt: skip
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n"


@pytest.fixture
def project(tmp_path: Path):
    return make_project(tmp_path / "project")


def names(units: list[Unit]) -> list[tuple[str, str]]:
    return [(u.kind, u.name) for u in units]


def test_no_path_plans_every_scenario_and_checks_only_unused_snippets(project) -> None:
    write(project.snippets_dir / "app" / "config.yaml", CONFIGMAP)
    units, users = plan([], project)
    assert names(units) == [
        ("scenario", "daemonset-placement"),
        ("scenario", "daemonset-preemption"),
        ("scenario", "helm-values"),
        ("scenario", "nodepool-stable"),
        ("check", "snippets/app/config.yaml"),
    ]
    guide = project.snippets_dir / "karpenter-daemonset"
    assert users[(guide / "priorityclass.yaml").resolve()] == {
        "daemonset-placement", "daemonset-preemption", "helm-values",
    }  # fmt: skip
    placement = units[0]
    assert placement.snippets == (
        guide / "priorityclass.yaml",
        guide / "nodepool-default.yaml",
        guide / "nodepool-stable.yaml",
        guide / "workload-stable.yaml",
        guide / "daemonset.yaml",
        guide / "daemonset-placement.scenario.yaml",  # a page may show the scenario too
    )
    # Karpenter's scenarios count nodes cluster-wide; the CRD one does not.
    assert [u.exclusive for u in units[:4]] == [True, True, True, False]
    assert placement.scenario is not None and placement.scenario.requires == ("karpenter",)
    helm = units[2]
    assert guide / "helm-values.embed.yaml" not in helm.snippets  # no result of its own...
    assert "snippets/karpenter-daemonset/helm-values.embed.yaml" in helm.inputs  # ...but an input


def test_a_site_snippet_given_directly_runs_the_scenarios_that_use_it(project) -> None:
    guide = project.snippets_dir / "karpenter-daemonset"
    units, _ = plan([str(guide / "priorityclass.yaml")], project)
    assert names(units) == [
        ("scenario", "daemonset-placement"),
        ("scenario", "daemonset-preemption"),
        ("scenario", "helm-values"),
    ]


def test_a_file_outside_snippets_gets_the_default_check_and_no_result(
    project, tmp_path: Path
) -> None:
    outside = write(tmp_path / "elsewhere" / "config.yaml", CONFIGMAP)
    (unit,) = plan([str(outside)], project)[0]
    assert (unit.kind, unit.snippets) == ("check", ())
    assert list(unit.inputs.values()) == [sha256(outside)]


def test_a_folder_expands_to_its_scenarios_and_snippets(project) -> None:
    write(project.snippets_dir / "app" / "config.yaml", CONFIGMAP)
    units, _ = plan([str(project.snippets_dir / "app")], project)
    assert names(units) == [("check", "snippets/app/config.yaml")]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.yaml", "no such file or folder"),
        ("notes.txt", "not a YAML file"),
        ("snippets/karpenter-daemonset/helm-values.embed.yaml", "an embed spec"),
    ],
)
def test_unusable_paths_are_exit_2_before_anything_runs(project, name: str, reason: str) -> None:
    (project.root / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UnusableInputError, match=reason) as caught:
        plan([str(project.root / name)], project)
    assert caught.value.exit_code == ExitCode.UNUSABLE


def test_a_malformed_site_scenario_stops_the_plan_with_exit_2(project) -> None:
    write(project.snippets_dir / "karpenter-daemonset" / "bad.scenario.yaml", "steps: 3\n")
    with pytest.raises(UnusableInputError, match=r"bad.scenario.yaml:1:8: .*steps"):
        plan([], project)


def test_two_site_scenarios_of_the_same_name_are_refused(project) -> None:
    guide = project.snippets_dir / "karpenter-daemonset"
    write(guide / "copy.scenario.yaml", "name: helm-values\nsteps: [{apply: daemonset.yaml}]\n")
    with pytest.raises(UnusableInputError, match="'helm-values' is already used by"):
        plan([], project)


def outcome(unit: Unit, status: str, message: str = "") -> Outcome:
    return Outcome(unit.name, unit.kind, str(unit.source), status, message)


def test_results_merge_per_snippet_and_a_failure_fails_the_snippet(project) -> None:
    store = ResultStore(project.results_file, project.root)
    units, _ = plan([], project)
    placement, preemption = units[0], units[1]
    record(store, project, CLUSTER, placement, outcome(placement, "passed"))
    record(store, project, CLUSTER, preemption, outcome(preemption, "failed", "f:1: no"))
    daemonset = store.lookup(sha256(placement.snippets[1]))
    assert daemonset is not None and not daemonset.passed
    assert [(s.name, s.passed) for s in daemonset.scenarios] == [
        ("daemonset-placement", True), ("daemonset-preemption", False),
    ]  # fmt: skip
    assert daemonset.message == "f:1: no"
    assert daemonset.recheck == f"kdocs test {display(preemption.source, project.root)}"
    record(store, project, CLUSTER, preemption, outcome(preemption, "passed"))
    daemonset = store.lookup(sha256(placement.snippets[1]))
    assert daemonset is not None and daemonset.passed and daemonset.message == ""


def test_a_result_shows_only_while_every_file_it_used_is_unchanged(project) -> None:
    store = ResultStore(project.results_file, project.root)
    units, _ = plan([], project)
    placement = units[0]
    daemonset = placement.snippets[1]
    record(store, project, CLUSTER, placement, outcome(placement, "passed"))
    scenario = placement.source
    passing = scenario.read_bytes()
    scenario.write_bytes(passing + b"# edited\n")
    edited = plan([], project)[0][0]
    record(store, project, CLUSTER, edited, outcome(edited, "failed", "f:3: no"))
    store.save()
    assert not ResultStore(project.results_file, project.root).lookup(sha256(daemonset)).passed
    scenario.write_bytes(passing)  # restored byte for byte: its recorded result is back
    restored = ResultStore(project.results_file, project.root).lookup(sha256(daemonset))
    assert restored is not None and restored.passed
    assert [s.name for s in restored.scenarios] == ["daemonset-placement"]
    scenario.unlink()  # a scenario gone proves nothing any more
    assert ResultStore(project.results_file, project.root).lookup(sha256(daemonset)) is None


def test_saves_merge_with_what_another_run_saved_meanwhile(project) -> None:
    units, _ = plan([], project)
    placement, preemption = units[0], units[1]
    mine = ResultStore(project.results_file, project.root)
    theirs = ResultStore(project.results_file, project.root)  # read before either saved
    record(mine, project, CLUSTER, placement, outcome(placement, "passed"))
    record(theirs, project, CLUSTER, preemption, outcome(preemption, "passed"))
    mine.save()
    theirs.save()
    both = ResultStore(project.results_file, project.root).lookup(sha256(placement.snippets[1]))
    assert both is not None
    assert [s.name for s in both.scenarios] == ["daemonset-placement", "daemonset-preemption"]
    assert not list(project.results_file.parent.glob(".results-*")), "no temporary file left"


def test_a_unit_is_skipped_only_for_a_passing_result_of_the_same_inputs_and_provider(
    project,
) -> None:
    store = ResultStore(project.results_file, project.root)
    units, _ = plan([], project)
    placement = units[0]
    assert unchanged(placement, store, "kwok") is None
    record(store, project, CLUSTER, placement, outcome(placement, "passed"))
    assert unchanged(placement, store, "kwok") is not None
    assert unchanged(placement, store, "kind") is None
    edited = Unit(**{**placement.__dict__, "inputs": {**placement.inputs, "x": "changed"}})
    assert unchanged(edited, store, "kwok") is None
    record(store, project, CLUSTER, placement, outcome(placement, "failed", "no"))
    assert unchanged(placement, store, "kwok") is None


def test_the_topology_file_is_an_input_of_every_unit(project) -> None:
    units, _ = plan([], project)
    placed = with_topology(units[0], project, "karpenter")
    topology = project.clusters_dir / "karpenter.yaml"
    assert placed.inputs[display(topology, project.root)] == sha256(topology)
    assert set(units[0].inputs) < set(placed.inputs)


def test_a_default_check_is_skipped_only_with_its_inputs_recorded(project) -> None:
    write(project.snippets_dir / "app" / "config.yaml", CONFIGMAP)
    store = ResultStore(project.results_file, project.root)
    units, _ = plan([], project)
    check = units[-1]
    record(store, project, CLUSTER, check, outcome(check, "passed"))
    entry = store.lookup(sha256(check.source))
    assert entry is not None and entry.checks == (
        "server-side apply", "default check of each kind", "delete",
    )  # fmt: skip
    assert unchanged(check, store, "kwok") is not None
    record(store, project, CLUSTER, check, outcome(check, "failed", "bad"))
    assert unchanged(check, store, "kwok") is None
    assert store.lookup(sha256(check.source)).checks == ()


def unit(name: str, exclusive: bool = False) -> Unit:
    return Unit(name, "scenario", Path(name), (), {}, None, exclusive)


@pytest.mark.parametrize(
    ("units", "keys", "running", "jobs", "expected"),
    [
        ([unit("a"), unit("b"), unit("c")], [set(), set(), set()], set(), 2, [0, 1]),
        ([unit("a"), unit("b"), unit("c")], [{"PC/x"}, {"PC/x"}, set()], set(), 4, [0, 2]),
        ([unit("a"), unit("b")], [{"PC/x"}, {"PC/x"}], {0}, 4, []),
        ([unit("a"), unit("x", True), unit("c")], [set(), set(), set()], set(), 4, [0]),
        ([unit("x", True), unit("c")], [set(), set()], set(), 4, [0]),
        ([unit("x", True), unit("c")], [set(), set()], {1}, 4, []),
        ([unit("x", True), unit("c")], [set(), set()], {0}, 4, []),
    ],
)
def test_units_start_in_order_unless_they_share_a_cluster_scoped_name_or_one_is_exclusive(
    units, keys, running, jobs, expected
) -> None:
    waiting = [i for i in range(len(units)) if i not in running]
    assert _startable(units, keys, waiting, running, jobs) == expected


def test_units_writing_into_one_named_namespace_share_a_conflict_key(tmp_path: Path) -> None:
    """They take turns within a run (across runs, a Lease does it: test_shared_namespaces)."""
    from types import SimpleNamespace

    from kdocs.cluster.kube import Resource
    from kdocs.cluster.runner import conflict_keys

    cluster_scoped = {"PriorityClass", "Namespace"}
    api = SimpleNamespace(
        lookup=lambda version, kind: Resource(kind.lower() + "s", kind not in cluster_scoped)
    )
    ctx = SimpleNamespace(api=api, root=tmp_path)
    files = {
        "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: kube-system}\n",
        "b.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: b, namespace: kube-system}\n",
        "c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        "d.yaml": "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: p}\n"
        "value: 1\n",
    }
    keys = {}
    for name, text in files.items():
        path = write(tmp_path / name, text)
        keys[name] = conflict_keys(ctx, Unit(name, "check", path, (), {}))  # type: ignore[arg-type]
    assert keys == {
        "a.yaml": {"Namespace/kube-system"},
        "b.yaml": {"Namespace/kube-system"},
        "c.yaml": set(),
        "d.yaml": {"PriorityClass/p"},
    }


def test_shared_units_start_first_the_longest_first_then_the_exclusive_ones() -> None:
    units = [unit("x", True), unit("short"), unit("unknown"), unit("y", True), unit("long")]
    seconds = [30.0, 2.0, None, 10.0, 6.0]
    assert start_order(units, seconds) == [2, 4, 1, 0, 3]
    assert start_order(units) == [1, 2, 4, 0, 3]  # nothing recorded: the given order


def test_a_unit_cleaning_up_frees_its_job_but_still_blocks_names_and_exclusive_units() -> None:
    units = [unit("a"), unit("b"), unit("c"), unit("x", True)]
    keys = [{"PC/x"}, set(), {"PC/x"}, set()]
    assert _startable(units, keys, [1, 2, 3], {0}, 1) == []
    assert _startable(units, keys, [1, 2, 3], {0}, 1, cleaning={0}) == [1]
    assert _startable(units, keys, [2, 3], {0}, 4, cleaning={0}) == []  # PC/x not gone yet
    assert _startable(units, keys, [3], {0}, 4, cleaning={0}) == []  # exclusive waits for it
