"""Scenario files: what parses, and every malformed one fails on its line with exit code 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kdocs.catalog import scenario_files
from kdocs.cluster.payload import documents
from kdocs.config import load_settings
from kdocs.errors import ExitCode, UnusableInputError
from kdocs.scenario.model import Apply, Delete, Expect, merge_patch
from kdocs.scenario.parse import load_scenario

ROOT = Path(__file__).resolve().parents[2]
DAEMONSET = (ROOT / "snippets/karpenter-daemonset/daemonset.yaml").read_text(encoding="utf-8")
HELM_VALUES = ROOT / "snippets/karpenter-daemonset/helm-values.yaml"


@pytest.fixture
def snippets(tmp_path: Path) -> Path:
    """A snippets folder with a guide folder holding the DaemonSet and the Helm fragment."""
    guide = tmp_path / "snippets" / "guide"
    guide.mkdir(parents=True)
    (guide / "daemonset.yaml").write_text(DAEMONSET, encoding="utf-8")
    (guide / "helm-values.yaml").write_bytes(HELM_VALUES.read_bytes())
    (guide / "helm-values.embed.yaml").write_bytes(
        HELM_VALUES.with_name("helm-values.embed.yaml").read_bytes()
    )
    (tmp_path / "outside.yaml").write_text(DAEMONSET, encoding="utf-8")
    return tmp_path / "snippets"


def write(snippets: Path, text: str, name: str = "s.scenario.yaml") -> Path:
    path = snippets / "guide" / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(snippets: Path, path: Path):
    return load_scenario(path, snippets.parent, snippets)


def fails(snippets: Path, text: str) -> str:
    path = write(snippets, text)
    with pytest.raises(UnusableInputError) as caught:
        load(snippets, path)
    assert caught.value.exit_code == ExitCode.UNUSABLE
    return str(caught.value)


FULL = """\
name: placement
description: a pod on every node
exclusive: true
timeout: 1m30s
steps:
  - apply: daemonset.yaml
  - apply:
      file: daemonset.yaml
      patch: {spec: {template: {spec: {tolerations: null}}}}
  - apply:
      object: {apiVersion: v1, kind: Pod, metadata: {name: filler}}
  - apply: {file: daemonset.yaml, patch: {metadata: {name: Bad_Name}}, rejected: Invalid value}
  - assert:
      object: {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: node-agent}}
  - assert:
      count: 3
      timeout: 10s
      object: {apiVersion: v1, kind: Pod, metadata: {labels: {app: x}}}
  - error:
      for: 5s
      match: any
      object: {apiVersion: v1, kind: Pod, spec: {nodeName: fargate-1}}
  - delete: {apiVersion: apps/v1, kind: DaemonSet, name: node-agent}
  - delete: daemonset.yaml
"""


def test_a_full_scenario_parses_into_typed_steps(snippets: Path) -> None:
    scenario = load(snippets, write(snippets, FULL))
    assert (scenario.name, scenario.description, scenario.exclusive) == (
        "placement", "a pod on every node", True,
    )  # fmt: skip
    assert scenario.timeout == 90
    kinds = [type(step).__name__ for step in scenario.steps]
    assert kinds == ["Apply"] * 4 + ["Expect"] * 3 + ["Delete"] * 2
    first, patched, inline, rejected = scenario.steps[:4]
    assert isinstance(first, Apply) and first.file == snippets / "guide/daemonset.yaml"
    assert isinstance(patched, Apply) and patched.patch is not None
    assert isinstance(inline, Apply) and inline.inline and inline.inline["kind"] == "Pod"
    assert isinstance(rejected, Apply) and rejected.rejected == "Invalid value"
    named, counted, error = scenario.steps[4:7]
    assert isinstance(named, Expect) and named.must_appear and named.timeout == 90
    assert isinstance(counted, Expect) and (counted.count, counted.timeout) == (3, 10)
    assert isinstance(error, Expect) and not error.must_appear and error.match == "any"
    assert error.timeout == 5
    ref, by_file = scenario.steps[7:]
    assert isinstance(ref, Delete) and ref.ref == {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "node-agent"},
    }  # fmt: skip
    assert isinstance(by_file, Delete) and by_file.file == snippets / "guide/daemonset.yaml"
    assert [step.line for step in scenario.steps] == [6, 7, 10, 12, 13, 15, 19, 23, 24]


def test_the_name_defaults_to_the_file_name_and_the_timeout_to_30s(snippets: Path) -> None:
    path = write(snippets, "steps: [{apply: daemonset.yaml}]\n", "my-claim.scenario.yaml")
    scenario = load(snippets, path)
    assert (scenario.name, scenario.timeout, scenario.exclusive) == ("my-claim", 30, False)


def test_inputs_hash_the_scenario_every_file_and_embed_specs(snippets: Path) -> None:
    path = write(snippets, "steps: [{apply: daemonset.yaml}, {apply: helm-values.yaml}]\n")
    inputs = load(snippets, path).inputs(snippets.parent)
    assert sorted(inputs) == [
        "snippets/guide/daemonset.yaml",
        "snippets/guide/helm-values.embed.yaml",
        "snippets/guide/helm-values.yaml",
        "snippets/guide/s.scenario.yaml",
    ]
    assert all(len(digest) == 64 for digest in inputs.values())


def test_a_fragment_is_applied_embedded_and_patched_after_embedding(snippets: Path) -> None:
    path = write(
        snippets,
        """\
        steps:
          - apply:
              file: helm-values.yaml
              patch: {spec: {template: {spec: {tolerations: null}}}}
        """,
    )
    (step,) = load(snippets, path).steps
    assert isinstance(step, Apply)
    (host,) = documents(step, snippets.parent)
    assert host["kind"] == "DaemonSet" and host["metadata"]["name"] == "chart-node-agent"
    pod = host["spec"]["template"]["spec"]
    assert "tolerations" not in pod
    assert pod["priorityClassName"] == "qovery-standard-priority"
    assert pod["containers"][0]["name"] == "agent"


def test_merge_patch_follows_rfc_7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "l": [3], "n": {"x": None}}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "l": [3], "n": {}}
    assert target["c"] == {"d": "e", "f": "g"}  # never changes its input


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("steps: []\n", ":1:8:", "needs a non-empty list `steps`"),
        ("name: x\n", ":1:1:", "needs a non-empty list `steps`"),
        ("- apply: a.yaml\n", ":1:1:", "a scenario must be a mapping"),
        ("steps:\n  - apply: daemonset.yaml\nstep: 1\n", ":3:1:", "unknown key 'step'"),
        ("name: Bad_Name\nsteps: [{apply: daemonset.yaml}]\n", ":1:7:", "name must be lowercase"),
        ("exclusive: yes please\nsteps: [{apply: daemonset.yaml}]\n", ":1:12:", "true or false"),
        ("timeout: soon\nsteps: [{apply: daemonset.yaml}]\n", ":1:10:", "invalid duration 'soon'"),
        ("timeout: 0s\nsteps: [{apply: daemonset.yaml}]\n", ":1:10:", "longer than 0s"),
        (
            "steps:\n  - apply: daemonset.yaml\n    delete: daemonset.yaml\n",
            ":2:5:", "exactly one of: apply, assert, error, delete",
        ),
        ("steps:\n  - wait: 5s\n", ":2:5:", "unknown step kind 'wait' (kinds: apply, assert"),
        ("steps:\n  - aply: x.yaml\n", ":2:5:", "step kind 'aply'; did you mean 'apply'?"),
        ("steps:\n  - apply: ../../outside.yaml\n", ":2:12:", "leads outside snippets/"),
        ("steps:\n  - apply: /etc/passwd\n", ":2:12:", "relative to the scenario file"),
        ("steps:\n  - apply: missing.yaml\n", ":2:12:", "does not exist next to the scenario"),
        (
            "steps:\n  - apply: daemonset.yml\n",
            ":2:12:", "does not exist next to the scenario; did you mean 'daemonset.yaml'?",
        ),
        (
            "requires: [karpentr]\nsteps: [{apply: daemonset.yaml}]\n",
            ":1:12:", "unknown component 'karpentr' in requires; did you mean 'karpenter'?",
        ),
        (
            "steps:\n  - apply: {file: daemonset.yaml, object: {apiVersion: v1, kind: Pod}}\n",
            ":2:12:", "exactly one of `file` or `object`",
        ),
        ("steps:\n  - apply: {file: daemonset.yaml, patch: [1]}\n", ":2:42:", "non-empty mapping"),
        (
            "steps:\n  - apply:\n      file: daemonset.yaml\n"
            "      patch: {spec: {tolerationz: null}}\n",
            ":4:14:", "the patch changes nothing in snippets/guide/daemonset.yaml",
        ),
        (
            "steps:\n  - apply: {object: {apiVersion: v1, kind: Pod}}\n",
            ":2:21:", "object needs metadata.name",
        ),
        ("steps:\n  - assert: {object: {kind: Pod}}\n", ":2:22:", "needs a string `apiVersion`"),
        (
            "steps:\n  - assert:\n"
            "      object: {apiVersion: v1, kind: Pod, metadata: {labels: {a: b}}}\n",
            ":3:7:", "needs `count: N` or `match: any|all`",
        ),
        (
            "steps:\n  - assert:\n      count: 1\n"
            "      object: {apiVersion: v1, kind: Pod, metadata: {name: p}}\n",
            ":3:7:", "selected by name takes no count or match",
        ),
        (
            "steps:\n  - error:\n      count: -1\n      object: {apiVersion: v1, kind: Pod}\n",
            ":3:14:", "count must be a whole number >= 0",
        ),
        (
            "steps:\n  - error:\n      match: some\n      object: {apiVersion: v1, kind: Pod}\n",
            ":3:14:", "match must be `any` or `all`",
        ),
        (
            "steps:\n  - error:\n      for: 1s\n      timeout: 2s\n"
            "      object: {apiVersion: v1, kind: Pod, metadata: {name: p}}\n",
            ":3:12:", "give `timeout` or `for`, not both",
        ),
        ("steps:\n  - delete: {apiVersion: v1, kind: Pod}\n", ":2:13:", "needs a string `name`"),
        (
            "requires: [karpenter, cilium]\nsteps: [{apply: daemonset.yaml}]\n",
            ":1:23:", "unknown component 'cilium' in requires (known: karpenter)",
        ),
        ("requires: karpenter\nsteps: [{apply: daemonset.yaml}]\n", ":1:11:", "must be a list"),
        (
            "steps:\n  - error:\n      during: 5s\n"
            "      object: {apiVersion: v1, kind: Pod, metadata: {name: p}}\n",
            ":3:7:", "unknown key 'during' in error",
        ),
        (
            "steps:\n  - assert:\n      during: soon\n"
            "      object: {apiVersion: v1, kind: Pod, metadata: {name: p}}\n",
            ":3:15:", "invalid duration 'soon'",
        ),
        ("steps:\n  - apply: [daemonset.yaml\n", ":3:1:", "invalid YAML"),
        ("steps:\n  - apply: daemonset.yaml\nsteps: []\n", ":3:1:", "duplicate key 'steps'"),
    ],
)  # fmt: skip
def test_a_malformed_scenario_is_one_line_naming_file_line_and_column(
    snippets: Path, text: str, where: str, reason: str
) -> None:
    message = fails(snippets, text)
    assert message.startswith(f"snippets/guide/s.scenario.yaml{where}"), message
    assert reason in message
    assert "\n" not in message


def test_a_scenario_outside_snippets_may_use_files_of_its_own_folder_only(tmp_path: Path) -> None:
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "bad.yaml").write_text(DAEMONSET, encoding="utf-8")
    (tmp_path / "secret.yaml").write_text(DAEMONSET, encoding="utf-8")
    good = folder / "ok.scenario.yaml"
    good.write_text("steps: [{apply: bad.yaml}]\n", encoding="utf-8")
    assert load_scenario(good, tmp_path, folder).files == (folder / "bad.yaml",)
    escape = folder / "escape.scenario.yaml"
    escape.write_text("steps: [{apply: ../secret.yaml}]\n", encoding="utf-8")
    with pytest.raises(UnusableInputError, match="leads outside fixtures/"):
        load_scenario(escape, tmp_path, folder)


def test_a_symlink_out_of_snippets_is_refused(snippets: Path, tmp_path: Path) -> None:
    (snippets / "guide" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    message = fails(snippets, "steps: [{apply: link.yaml}]\n")
    assert "leads outside snippets/" in message


def test_every_scenario_of_the_site_parses() -> None:
    settings = load_settings(ROOT)
    found = scenario_files(settings)
    assert found, "the guide's claims have scenarios"
    for path in found:
        scenario = load_scenario(path, settings.root, settings.snippets_dir)
        assert scenario.steps and scenario.description


def test_requires_and_during_parse(snippets: Path) -> None:
    path = write(
        snippets,
        """\
        requires: [karpenter]
        steps:
          - assert:
              count: 2
              during: 20s
              object: {apiVersion: karpenter.sh/v1, kind: NodeClaim, metadata: {labels: {a: b}}}
        """,
    )
    scenario = load(snippets, path)
    assert scenario.requires == ("karpenter",)
    (step,) = scenario.steps
    assert isinstance(step, Expect) and step.during == 20.0 and step.count == 2
    assert step.describe(snippets.parent) == "assert NodeClaim (a=b) count=2 during=20s"
    plain = load(snippets, write(snippets, "steps: [{apply: daemonset.yaml}]\n", "p.scenario.yaml"))
    assert plain.requires == ()
