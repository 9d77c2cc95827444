"""The guide's scenarios have teeth: a snippet that lost what the guide claims makes them fail.

Each case copies the guide, breaks one thing the way a careless edit would,
and runs the scenario that proves the claim. The scenario must fail at the
step that checks that claim, with the difference in its message. A negative
control whose patch no longer removes what matters must fail too.
"""

from __future__ import annotations

import re
import shutil
import time

import pytest

from kdocs.cluster.base import Cluster
from kdocs.config import load_settings
from tests.cluster.conftest import record_timing
from tests.cluster.test_runner_helpers import (
    GUIDE,
    StaticProvider,
    kdocs_test,
    leftovers,
    make_project,
    outcomes,
    units_lock,
)

pytestmark = pytest.mark.cluster

# case -> (scenario file, file to break, (old, new) text, what the failure must say)
CASES = {
    "toleration-for-another-key": (
        "daemonset-placement.scenario.yaml",
        "daemonset.yaml",
        ("        - operator: Exists\n", "        - key: other\n          operator: Exists\n"),
        r"step 3 \(assert Pod \(app.kubernetes.io/name=node-agent\) count=1\): not within 3s: "
        r"0 of 2 Pod match, expected 1; node-agent-\w+: spec.nodeName: expected \"stable-1\"",
    ),
    "affinity-not-excluding-fargate": (
        "daemonset-placement.scenario.yaml",
        "daemonset.yaml",
        ("                      - fargate\n", "                      - ec2\n"),
        r"step 6 \(error Pod \(app.kubernetes.io/name=node-agent\) match=any\): "
        r"this must not happen, but did: Pod node-agent-\w+ matches",
    ),
    "priority-as-low-as-the-fillers": (
        "daemonset-preemption.scenario.yaml",
        "priorityclass.yaml",
        ("value: 1000000\n", "value: 0\n"),
        r"step 10 \(assert Pod \(app.kubernetes.io/name=node-agent\) count=1\): not within 3s: "
        r"0 of \d+ Pod match, expected 1",
    ),
    "control-that-keeps-the-priority": (
        "daemonset-preemption.scenario.yaml",
        "daemonset-preemption.scenario.yaml",
        ("              priorityClassName: null\n", "              dnsPolicy: Default\n"),
        # The agent preempts at once; step 5 may glimpse it pending, step 6 never lets it
        # run on default-1.
        r"step [56] \(",
    ),
}


@pytest.fixture(scope="module")
def broken_run(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run over copies of the guide, each broken in one way, with 3s step timeouts."""
    root = tmp_path_factory.mktemp("broken")
    make_project(root, guide=False)
    for case, (scenario, target, (old, new), _) in CASES.items():
        folder = root / "snippets" / case
        shutil.copytree(GUIDE, folder)
        for path in folder.iterdir():  # only the scenario and the two files it applies
            if path.name not in (scenario, "daemonset.yaml", "priorityclass.yaml"):
                path.unlink()
        broken = folder / target
        text = broken.read_text(encoding="utf-8")
        assert text.count(old) == 1, (case, old)
        broken.write_text(text.replace(old, new), encoding="utf-8")
        path = folder / scenario
        text = re.sub(r"^timeout: .*$", "timeout: 3s", path.read_text(encoding="utf-8"), flags=re.M)
        text = re.sub(r"^name: .*$", f"name: {case}", text, count=1, flags=re.M)
        path.write_text(text, encoding="utf-8")
    settings = load_settings(root)
    with units_lock():
        started = time.monotonic()
        code, report = kdocs_test(settings, provider=StaticProvider(cluster))
        record_timing("kdocs test, broken copies of the guide", time.monotonic() - started)
        report["leftovers"] = leftovers(cluster, [o["namespace"] for o in report["outcomes"]])
    report["code"] = code
    return report


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_claim_fails_its_scenario_at_the_step_that_checks_it(
    broken_run: dict, case: str
) -> None:
    outcome = outcomes(broken_run)[case]
    assert outcome["status"] == "failed", outcome
    scenario, _, _, expected = CASES[case]
    assert outcome["message"].startswith(f"snippets/{case}/{scenario}:"), outcome["message"]
    assert re.search(expected, outcome["message"]), outcome["message"]
    assert outcome["diagnostics"]


def test_broken_copies_fail_the_run_and_leave_nothing_behind(broken_run: dict) -> None:
    assert broken_run["code"] == 1
    assert broken_run["leftovers"] == []


def test_a_control_that_keeps_what_it_must_remove_fails_after_a_sound_setup(
    broken_run: dict,
) -> None:
    """The node was filled and the control applied: the failure is the control's own."""
    outcome = outcomes(broken_run)["control-that-keeps-the-priority"]
    assert [s["status"] for s in outcome["steps"]][:4] == ["passed"] * 4


def test_the_cases_break_files_the_guide_has() -> None:
    for scenario, target, (old, _), _ in CASES.values():
        assert (GUIDE / scenario).is_file()
        assert (GUIDE / target).read_text(encoding="utf-8").count(old) == 1
