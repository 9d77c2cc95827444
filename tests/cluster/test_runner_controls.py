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
        r"step 10 \(assert Pod \(app.kubernetes.io/name=node-agent\) count=1\): not within 20s: "
        r"0 of \d+ Pod match, expected 1; node-agent-\w+: spec.nodeName: expected \"kwok-",
    ),
    "affinity-not-excluding-fargate": (
        "daemonset-placement.scenario.yaml",
        "daemonset.yaml",
        ("                      - fargate\n", "                      - ec2\n"),
        # The DaemonSet controller then wants 3 pods too (the Fargate node instead of the
        # system node, which is `ec2`): the check that none is on the Fargate node fails.
        r"step 13 \(assert Pod \(app.kubernetes.io/name=node-agent\) count=0\): "
        r"not within 20s: 1 of \d+ Pod match, expected 0",
    ),
    "stable-nodepool-without-its-taint": (
        "daemonset-placement.scenario.yaml",
        "nodepool-stable.yaml",
        ("      taints:\n        - key: nodepool/stable\n          effect: NoSchedule\n", ""),
        r"step 6 \(assert Node \(karpenter.sh/nodepool=stable,nodepool=stable\) count=1\): "
        r"not within 20s: 0 of 1 Node match, expected 1; kwok-[-\w]+: spec.taints",
    ),
    # Negative control 3 edited to expect the opposite: a workload without the toleration
    # does get a stable node. Karpenter launches none, so the edited scenario fails.
    "expects-a-stable-node-without-the-toleration": (
        "daemonset-placement.scenario.yaml",
        "daemonset-placement.scenario.yaml",
        ("      count: 1  # the one of the setup\n", "      count: 2\n"),
        r"step 27 \(assert NodeClaim \(karpenter.sh/nodepool=stable\) count=2\): "
        r"not within 20s: 1 of 1 NodeClaim match, expected 2",
    ),
    # The same control edited to expect Karpenter to place the pod (its Nominated event)
    # rather than to report that it cannot: no such event comes.
    "expects-karpenter-to-place-the-workload-without-the-toleration": (
        "daemonset-placement.scenario.yaml",
        "daemonset-placement.scenario.yaml",
        ("        reason: FailedScheduling\n", "        reason: Nominated\n"),
        r"step 26 \(assert Event \(any\) match=any\): not within 20s: none of \d+ Event matches",
    ),
    "priority-as-low-as-the-workload": (
        "daemonset-preemption.scenario.yaml",
        "priorityclass.yaml",
        ("value: 1000000\n", "value: 0\n"),
        r"step 19 \(assert Event \(any\) match=any\): not within 20s: none of \d+ Event matches",
    ),
    "control-that-keeps-the-priority": (
        "daemonset-preemption.scenario.yaml",
        "daemonset-preemption.scenario.yaml",
        ("              priorityClassName: null\n", "              dnsPolicy: Default\n"),
        # The agents preempt at once: step 7 may glimpse them pending, but then they run
        # (step 13) and Karpenter launches nodes for the evicted pods (step 12), or the
        # Preempted events are there (step 16), whichever is checked first.
        r"step (7|12|13|16) \(",
    ),
    # Negative control 1 edited to expect the opposite: Karpenter launches a node for the
    # DaemonSet's pending pods. It never does, so the edited scenario fails.
    "expects-a-node-for-the-daemonset": (
        "daemonset-preemption.scenario.yaml",
        "daemonset-preemption.scenario.yaml",
        ("      count: 2  # still the two of the setup\n", "      count: 3\n"),
        r"step 12 \(assert NodeClaim \(karpenter.sh/nodepool=default\) count=3\): "
        r"not within 20s: 2 of 2 NodeClaim match, expected 3",
    ),
}
# What the scenarios apply besides themselves.
FILES = (
    "daemonset.yaml", "priorityclass.yaml", "nodepool-default.yaml", "nodepool-stable.yaml",
    "workload-stable.yaml",
)  # fmt: skip


@pytest.fixture(scope="module")
def broken_run(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run over copies of the guide, each broken in one way, with 20s step timeouts.

    20s: Karpenter must be able to launch the nodes a scenario sets up before its
    broken step (about 5-10s here); a failing step then waits that long.
    """
    if not cluster.has_component("karpenter"):
        pytest.skip(f"not provable on {cluster.label}: the guide's scenarios require Karpenter")
    root = tmp_path_factory.mktemp("broken")
    make_project(root, guide=False)
    for case, (scenario, target, (old, new), _) in CASES.items():
        folder = root / "snippets" / case
        shutil.copytree(GUIDE, folder)
        for path in folder.iterdir():  # only the scenario and the files it applies
            if path.name not in (scenario, *FILES):
                path.unlink()
        broken = folder / target
        text = broken.read_text(encoding="utf-8")
        assert text.count(old) == 1, (case, old)
        broken.write_text(text.replace(old, new), encoding="utf-8")
        path = folder / scenario
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^timeout: .*$", "timeout: 20s", text, flags=re.M)
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


def test_a_failed_karpenter_scenario_shows_what_karpenter_did(broken_run: dict) -> None:
    """NodePools' and NodeClaims' conditions, Karpenter's log lines about the scenario's pods
    (it logs each pod it provisions for as namespace/name), the pending pods' events."""
    outcome = outcomes(broken_run)["priority-as-low-as-the-workload"]
    text = outcome["diagnostics"]
    assert "\nnodepools:\n  default: " in text and "NodeClassReady=True" in text, text
    assert "\nnodeclaims:\n  default-" in text and "[nodepool default, node kwok-" in text, text
    assert "Karpenter's log about this scenario" in text, text
    assert outcome["namespace"] in text.split("Karpenter's log about this scenario")[1], text
    assert "events:\n" in text and "FailedScheduling" in text, text


def test_broken_copies_fail_the_run_and_leave_nothing_behind(broken_run: dict) -> None:
    assert broken_run["code"] == 1
    assert broken_run["leftovers"] == []


def test_a_control_that_keeps_what_it_must_remove_fails_after_a_sound_setup(
    broken_run: dict,
) -> None:
    """The nodes were filled and the control applied: the failure is the control's own."""
    outcome = outcomes(broken_run)["control-that-keeps-the-priority"]
    assert [s["status"] for s in outcome["steps"]][:6] == ["passed"] * 6
