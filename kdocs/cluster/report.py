"""What a `kdocs test` run tells people and CI: progress as it goes, then a summary.

Progress goes to stderr (so `--output json|junit` keeps stdout machine
readable); the summary table, JSON or JUnit XML goes to stdout. A failure is
always reported with the one-line reason, then the diagnostics collected while
the cluster still held the failure (kdocs.cluster.diagnose). Only the model is
imported here, so the runner and the writers never import each other.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, replace
from typing import IO, Protocol
from xml.etree import ElementTree

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kdocs.cluster.model import STATUSES, Outcome, StepRecord, Unit

_STYLE = {
    "passed": "green",
    "skipped": "dim",
    "failed": "red",
    "error": "red",
    "cancelled": "yellow",
}
_MARK = {"passed": "✓", "skipped": "–", "failed": "✗", "error": "!", "cancelled": "⨯"}


class Progress(Protocol):
    """Told about each unit and step while a run goes (from worker threads)."""

    def started(self, unit: Unit, namespace: str) -> None: ...

    def step(self, unit: Unit, record: StepRecord, total: int) -> None: ...

    def finished(self, outcome: Outcome) -> None: ...

    def note(self, message: str) -> None: ...


class QuietProgress:
    def started(self, unit: Unit, namespace: str) -> None:
        pass

    def step(self, unit: Unit, record: StepRecord, total: int) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        pass

    def note(self, message: str) -> None:
        pass


class ConsoleProgress:
    """One line per unit start, step and end, safe to call from several threads."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()

    def note(self, message: str) -> None:
        with self._lock:
            self.console.print(Text(message, style="dim"))

    def started(self, unit: Unit, namespace: str) -> None:
        with self._lock:
            self.console.print(Text(f"▶ {unit.kind} {unit.name}  ({namespace})", style="bold"))

    def step(self, unit: Unit, record: StepRecord, total: int) -> None:
        mark = _MARK.get(record.status, "?")
        line = f"  {mark} {unit.name} [{record.index}/{total}] {record.description}"
        with self._lock:
            self.console.print(
                Text(f"{line}  {record.seconds:.1f}s", style=_STYLE.get(record.status, ""))
            )

    def finished(self, outcome: Outcome) -> None:
        head = f"{_MARK[outcome.status]} {outcome.kind} {outcome.name}: {outcome.status}"
        with self._lock:
            self.console.print(
                Text(f"{head} ({outcome.seconds:.1f}s)", style=f"bold {_STYLE[outcome.status]}")
            )
            if outcome.message and outcome.status != "passed":
                self.console.print(Text("  " + outcome.message, style=_STYLE[outcome.status]))


class LabelledProgress:
    """Another progress, each unit's name and note followed or led by `label`: passes that
    run at the same time (one per Kubernetes version) stay apart on one console."""

    def __init__(self, inner: Progress, label: str) -> None:
        self.inner, self.label = inner, label

    def note(self, message: str) -> None:
        self.inner.note(f"{self.label} {message}")

    def started(self, unit: Unit, namespace: str) -> None:
        self.inner.started(replace(unit, name=f"{unit.name} {self.label}"), namespace)

    def step(self, unit: Unit, record: StepRecord, total: int) -> None:
        self.inner.step(replace(unit, name=f"{unit.name} {self.label}"), record, total)

    def finished(self, outcome: Outcome) -> None:
        self.inner.finished(replace(outcome, name=f"{outcome.name} {self.label}"))


def summary_table(outcomes: list[Outcome]) -> Table:
    table = Table(title="kdocs test", show_lines=False)
    for column in ("", "kind", "name", "source", "time", "checked, or why not"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        style = _STYLE[outcome.status]
        table.add_row(
            Text(_MARK[outcome.status], style=style),
            outcome.kind,
            Text(outcome.name, style=style),
            outcome.source,
            f"{outcome.seconds:.1f}s",
            outcome.message,  # a passed default check says what it waited for
        )
    return table


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    return {status: sum(o.status == status for o in outcomes) for status in STATUSES}


def write_text(outcomes: list[Outcome], console: Console) -> None:
    """Diagnostics of each failure, then the table and a one-line tally."""
    for outcome in outcomes:
        if outcome.diagnostics and not outcome.passed:
            console.print(Text(f"── {outcome.kind} {outcome.name}: {outcome.message}", style="red"))
            console.print(Text(outcome.diagnostics))
    if outcomes:
        console.print(summary_table(outcomes))
    tally = counts(outcomes)
    console.print(", ".join(f"{n} {status}" for status, n in tally.items() if n) or "nothing to do")


def write_json(outcomes: list[Outcome], out: IO[str], **meta: str) -> None:
    payload = {
        **meta,
        "passed": all(o.passed for o in outcomes),
        "counts": counts(outcomes),
        "outcomes": [asdict(o) for o in outcomes],
    }
    json.dump(payload, out, indent=2)
    out.write("\n")


def write_junit(outcomes: list[Outcome], out: IO[str]) -> None:
    """JUnit XML: one testcase per unit, failures with the reason and the diagnostics."""
    tally = counts(outcomes)
    suite = ElementTree.Element(
        "testsuite",
        name="kdocs test",
        tests=str(len(outcomes)),
        failures=str(tally["failed"]),
        errors=str(tally["error"] + tally["cancelled"]),
        skipped=str(tally["skipped"]),
        time=f"{sum(o.seconds for o in outcomes):.3f}",
    )
    for outcome in outcomes:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"kdocs.{outcome.kind}",
            name=outcome.name,
            file=outcome.source,
            time=f"{outcome.seconds:.3f}",
        )
        if outcome.status == "skipped":
            ElementTree.SubElement(case, "skipped", message=outcome.message)
        elif outcome.status == "failed":
            failure = ElementTree.SubElement(case, "failure", message=outcome.message)
            failure.text = outcome.diagnostics
        elif outcome.status in ("error", "cancelled"):
            ElementTree.SubElement(case, "error", message=outcome.message or outcome.status)
        steps = "\n".join(
            f"[{s.status}] step {s.index} (line {s.line}) {s.description} {s.seconds:.1f}s"
            for s in outcome.steps
        )
        if steps:
            ElementTree.SubElement(case, "system-out").text = steps
    ElementTree.indent(suite)
    out.write(ElementTree.tostring(suite, encoding="unicode", xml_declaration=True))
    out.write("\n")
