"""The summary of a run as text, JSON and JUnit XML: every outcome, its reason, its diagnostics."""

from __future__ import annotations

import io
import json
from xml.etree import ElementTree

from rich.console import Console

from kdocs.cluster.model import Outcome, StepRecord
from kdocs.cluster.report import write_json, write_junit, write_text

OUTCOMES = [
    Outcome("placement", "scenario", "snippets/g/p.scenario.yaml", "passed", seconds=3.5,
            steps=[StepRecord(1, 6, "apply snippets/g/ds.yaml", "passed", 0.1)]),
    Outcome("preemption", "scenario", "snippets/g/q.scenario.yaml", "failed",
            "snippets/g/q.scenario.yaml:9: step 2 (assert DaemonSet a): not within 2s: x",
            seconds=4.0, diagnostics="events:\n  Warning FailedCreate DaemonSet/a: no"),
    Outcome("snippets/g/pc.yaml", "check", "snippets/g/pc.yaml", "skipped", "unchanged"),
    Outcome("nodepool", "scenario", "snippets/g/n.scenario.yaml", "cancelled", "not started"),
    Outcome("other", "scenario", "snippets/g/o.scenario.yaml", "error", "unreachable"),
]  # fmt: skip


def test_junit_has_a_testcase_per_unit_with_failures_skips_and_errors() -> None:
    out = io.StringIO()
    write_junit(OUTCOMES, out)
    suite = ElementTree.fromstring(out.getvalue().split("?>", 1)[1])
    assert suite.attrib["tests"] == "5"
    assert (suite.attrib["failures"], suite.attrib["errors"], suite.attrib["skipped"]) == (
        "1", "2", "1",
    )  # fmt: skip
    cases = {case.attrib["name"]: case for case in suite.iter("testcase")}
    assert list(cases) == ["placement", "preemption", "snippets/g/pc.yaml", "nodepool", "other"]
    failure = cases["preemption"].find("failure")
    assert failure is not None and failure.attrib["message"] == OUTCOMES[1].message
    assert "FailedCreate" in (failure.text or "")
    assert cases["snippets/g/pc.yaml"].find("skipped") is not None
    assert cases["other"].find("error").attrib["message"] == "unreachable"
    assert "step 1 (line 6) apply snippets/g/ds.yaml" in cases["placement"].find("system-out").text
    assert cases["placement"].find("failure") is None


def test_json_has_every_outcome_and_whether_the_run_passed() -> None:
    out = io.StringIO()
    write_json(OUTCOMES, out, provider="kwok", kubernetes_version="v1.36.3")
    report = json.loads(out.getvalue())
    assert report["passed"] is False
    assert report["provider"] == "kwok"
    assert report["counts"] == {
        "passed": 1, "skipped": 1, "failed": 1, "error": 1, "cancelled": 1,
    }  # fmt: skip
    assert [o["status"] for o in report["outcomes"]] == [
        "passed", "failed", "skipped", "cancelled", "error",
    ]  # fmt: skip
    out = io.StringIO()
    write_json([OUTCOMES[0], OUTCOMES[2]], out)
    assert json.loads(out.getvalue())["passed"] is True


def test_text_shows_the_diagnostics_of_failures_and_a_table_and_tally() -> None:
    out = io.StringIO()
    write_text(OUTCOMES, Console(file=out, width=200, soft_wrap=True))
    text = out.getvalue()
    assert "── scenario preemption: snippets/g/q.scenario.yaml:9: step 2" in text
    assert "Warning FailedCreate DaemonSet/a: no" in text
    for outcome in OUTCOMES:
        assert outcome.name in text
    assert "1 passed, 1 skipped, 1 failed, 1 error, 1 cancelled" in text
