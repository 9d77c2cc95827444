"""A scenario's steps in words (kdocs/site/steps.py), from scenarios parsed by the real
parser: what each step says, and which steps are negative controls and their checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kdocs.scenario.parse import load_scenario
from kdocs.site.steps import CONTROL, CONTROL_CHECK, STEP, scenario_words

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations: [{operator: Exists}]
      containers: [{name: app, image: "nginx:1.27"}]
"""


def words(tmp_path: Path, steps: str) -> list[tuple[str, str]]:
    folder = tmp_path / "snippets" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "web.yaml").write_text(DEPLOYMENT)
    path = folder / "demo.scenario.yaml"
    path.write_text("steps:\n" + textwrap.indent(textwrap.dedent(steps), "  "))
    scenario = load_scenario(path, tmp_path, tmp_path / "snippets")
    return [(w.role, w.words) for w in scenario_words(scenario)]


def test_a_patch_removing_a_setting_is_a_control_and_the_checks_after_it_check_it(
    tmp_path: Path,
) -> None:
    said = words(tmp_path, """\
        - apply: web.yaml
        - assert: {object: {apiVersion: apps/v1, kind: Deployment, metadata: {name: web}}}
        - delete: web.yaml
        - apply: {file: web.yaml, patch: {spec: {template: {spec: {tolerations: null}}}}}
        - assert: {object: {apiVersion: v1, kind: Pod, metadata: {labels: {app: web}}}, count: 0}
        - error:
            object: {apiVersion: v1, kind: Pod, spec: {nodeName: "${node:a=b}"}}
            match: any
            for: 10s
        - delete: web.yaml
        - assert: {object: {apiVersion: v1, kind: Pod, metadata: {labels: {app: web}}}, count: 0}
    """)  # fmt: skip
    assert [role for role, _ in said] == [
        STEP, STEP, STEP, CONTROL, CONTROL_CHECK, CONTROL_CHECK, STEP, STEP,
    ]  # fmt: skip
    assert said[0][1] == "apply web.yaml"
    assert said[1][1] == "assert the Deployment web exists (within 30 s)"
    assert said[2][1] == "delete web.yaml and wait until it is gone"
    assert said[3][1] == "apply web.yaml without spec.template.spec.tolerations"
    assert said[4][1] == "assert exactly 0 Pods labelled app=web exist (within 30 s)"
    assert said[5][1] == (
        "error: a Pod with spec.nodeName = the node labelled a=b must NOT appear for 10 s"
    )


def test_a_substitution_patch_is_not_a_control_and_shows_what_it_sets(tmp_path: Path) -> None:
    said = words(tmp_path, """\
        - apply:
            file: web.yaml
            patch: {spec: {template: {spec: {nodeSelector: {pool: x, zone: "${node:n1}"}}}}}
        - assert:
            object:
              {apiVersion: apps/v1, kind: Deployment, metadata: {name: web},
               status: {readyReplicas: 1}}
    """)  # fmt: skip
    assert said == [
        (
            STEP,
            "apply web.yaml with spec.template.spec.nodeSelector = {pool: x, zone: the node n1}",
        ),
        (STEP, "assert the Deployment web has status.readyReplicas = 1 (within 30 s)"),
    ]


def test_a_rejected_apply_is_a_control_naming_the_expected_reason(tmp_path: Path) -> None:
    said = words(tmp_path, """\
        - apply:
            file: web.yaml
            patch: {spec: {selector: {matchLabels: {app: other}}}}
            rejected: "does not match"
    """)  # fmt: skip
    assert said == [
        (
            CONTROL,
            "apply web.yaml with spec.selector.matchLabels.app = other: the API server must"
            " reject it (with 'does not match')",
        )
    ]


@pytest.mark.parametrize(
    ("step", "said"),
    [
        (
            "{assert: {object: {apiVersion: v1, kind: Pod, metadata: {labels: {app: web}},"
            ' status: {"conditions[type=Ready]": {status: "True"}}}, count: 2, during: 20s,'
            " timeout: 1m}}",
            "assert exactly 2 Pods labelled app=web have status.conditions[type=Ready].status"
            ' = "True" (within 60 s), and it keeps holding for 20 s',
        ),
        (
            "{assert: {object: {apiVersion: v1, kind: Event, reason: Preempted}, match: any}}",
            "assert at least one Event has reason = Preempted (within 30 s)",
        ),
        (
            "{assert: {object: {apiVersion: v1, kind: Pod, metadata: {labels: {app: web}},"
            " status: {phase: Running}}, match: all}}",
            "assert every Pod labelled app=web (at least one) has status.phase = Running"
            " (within 30 s)",
        ),
        (
            "{apply: {object: {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}}}}",
            "apply the ConfigMap cfg, defined in the scenario (not shown in a guide)",
        ),
        (
            "{delete: {apiVersion: v1, kind: ConfigMap, name: cfg}}",
            "delete the ConfigMap cfg and wait until it is gone",
        ),
    ],
)
def test_each_kind_of_step_reads_as_a_sentence(tmp_path: Path, step: str, said: str) -> None:
    assert words(tmp_path, f"- {step}\n") == [(STEP, said)]
