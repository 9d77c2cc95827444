"""`kdocs status` on a project whose results hold every state: proven, failed, stale
(the snippet, or the scenario, changed since it was proven), not run, and a snippet
only validated offline. Text and JSON, exit 0; an unusable results file is exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.proof_fixture import CLUSTER, configmap, record_run, scenario
from tests.site.conftest import Project

NAMES = ("proven", "failed", "stale", "fresh")


def status(project: Project, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", "status", *argv],
        cwd=project.root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def states(project: Project) -> Project:
    calls = []
    for name in NAMES:
        project.snippet(f"app/{name}.yaml", configmap(name))
        project.snippet(
            f"app/{name}.scenario.yaml", scenario(name, f"{name}.yaml", f"the {name} claim")
        )
        calls.append(f'{{{{ snippet("app/{name}.yaml") }}}}\n')
    project.snippet("app/plain.yaml", configmap("plain"))
    calls.append('{{ snippet("app/plain.yaml") }}\n')
    project.page("guide.md", "# Guide\n\n" + "\n".join(calls))
    for name in ("proven", "failed", "stale"):
        files = [f"app/{name}.yaml", f"app/{name}.scenario.yaml"]
        passed = name != "failed"
        record_run(project.root, name, files, passed, "" if passed else "assert timed out")
    stale = project.root / "snippets/app/stale.yaml"
    stale.write_text("# a comment-only edit\n" + stale.read_text())
    return project


def test_json_gives_each_snippet_and_scenario_its_state(states: Project) -> None:
    done = status(states, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    snippets = {s["rel"]: s for s in report["snippets"]}
    assert {rel: s["state"] for rel, s in snippets.items() if not rel.endswith("scenario.yaml")} \
        == {"app/proven.yaml": "proven", "app/failed.yaml": "failed", "app/stale.yaml": "stale",
            "app/fresh.yaml": "validated", "app/plain.yaml": "validated"}  # fmt: skip
    proven = snippets["app/proven.yaml"]["units"]
    assert [(u["name"], u["state"], u["cluster"], u["seconds"]) for u in proven] == [
        ("proven", "proven", CLUSTER, 12.4)
    ]
    assert snippets["app/failed.yaml"]["units"][0]["message"] == "assert timed out"
    assert snippets["app/fresh.yaml"]["units"][0]["state"] == "not run"
    plain = snippets["app/plain.yaml"]["units"]
    assert [(u["kind"], u["name"], u["state"]) for u in plain] == [
        ("check", "default check", "not run")
    ]
    scenarios = {s["name"]: s for s in report["scenarios"]}
    assert {n: s["state"] for n, s in scenarios.items()} == {
        "proven": "proven", "failed": "failed", "stale": "stale", "fresh": "not run",
    }  # fmt: skip
    roles = [step["role"] for step in scenarios["proven"]["steps"]]
    assert roles == ["step", "step", "step", "control", "control-check"]
    page = report["pages"][0]
    assert page["page"] == "docs/guide.md"
    assert [(s["snippet"], s["line"]) for s in page["snippets"]] == [
        ("app/proven.yaml", 3), ("app/failed.yaml", 5), ("app/stale.yaml", 7),
        ("app/fresh.yaml", 9), ("app/plain.yaml", 11),
    ]  # fmt: skip


def test_a_changed_scenario_no_longer_proves_its_snippet(states: Project) -> None:
    path = states.root / "snippets/app/proven.scenario.yaml"
    path.write_text(path.read_text().replace("for: 3s", "for: 4s"))
    report = json.loads(status(states, "--json").stdout)
    snippets = {s["rel"]: s for s in report["snippets"]}
    assert snippets["app/proven.yaml"]["state"] == "stale"
    assert {s["name"]: s["state"] for s in report["scenarios"]}["proven"] == "stale"


def test_text_lists_the_page_its_snippets_their_scenarios_and_a_summary(states: Project) -> None:
    done = status(states)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "docs/guide.md"
    assert lines[1:3] == [
        "  app/proven.yaml (line 3): proven",
        f"    scenario proven: proven ({CLUSTER}, Kubernetes v1.36.3, 2026-11-29, 12 s)",
    ]
    assert "    scenario failed: failed (" in done.stdout
    assert "assert timed out" in done.stdout
    assert "    scenario stale: stale (changed since the run of 2026-11-29 on" in done.stdout
    assert "  app/plain.yaml (line 11): validated\n    default check: not run\n" in done.stdout
    assert "  proven (snippets/app/proven.scenario.yaml): proven (" in done.stdout
    assert "5 steps, 1 negative control\n" in done.stdout
    assert lines[-1] == (
        "kdocs: 9 snippets (2 failed, 2 proven, 2 stale, 3 validated), 4 scenarios"
    )


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "\xff"}'])
def test_an_unreadable_results_file_is_one_line_and_exit_2(states: Project, content) -> None:
    (states.root / ".kdocs" / "results.json").write_bytes(content)
    done = status(states)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "results.json" in done.stderr and "unreadable results file" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("command", ["status", "build"])
def test_a_page_that_is_not_utf8_is_one_line_at_its_byte_and_exit_2(states, command) -> None:
    (states.root / "docs" / "notes.md").write_bytes(b"# Notes\n\nCaf\xe9 au lait\n")
    done = subprocess.run(
        [sys.executable, "-m", "kdocs.cli", command], cwd=states.root, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == "kdocs: docs/notes.md:3:4: not UTF-8 text (byte 0xe9)"
    assert "Traceback" not in done.stderr


def test_a_bad_flag_is_exit_2(states: Project) -> None:
    done = status(states, "--output", "yaml")
    assert done.returncode == 2
    assert "invalid choice: 'yaml'" in done.stderr
