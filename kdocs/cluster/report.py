"""What a `kdocs test` run tells people and CI: progress as it goes, then a summary.

Progress goes to stderr (so `--output json|junit` keeps stdout machine
readable); the summary table, JSON or JUnit XML goes to stdout. A failure is
always reported with the one-line reason, then the diagnostics the runner
collected (events, pods, object states), because "scenario failed" alone sends
the reader to a cluster that is already cleaned up.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import IO, TYPE_CHECKING, Any, Protocol
from xml.etree import ElementTree

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kdocs.cluster.base import Cluster
from kdocs.cluster.checks import StepFailed, event_line, events, get_json
from kdocs.cluster.match import show

if TYPE_CHECKING:
    from kdocs.cluster.unit import Unit

STATUSES = ("passed", "skipped", "failed", "error", "cancelled")
_STYLE = {
    "passed": "green",
    "skipped": "dim",
    "failed": "red",
    "error": "red",
    "cancelled": "yellow",
}
_MARK = {"passed": "✓", "skipped": "–", "failed": "✗", "error": "!", "cancelled": "⨯"}


@dataclass
class StepRecord:
    index: int
    line: int
    description: str
    status: str  # "passed" | "failed" | "cancelled"
    seconds: float


@dataclass
class Outcome:
    """The end of one unit: a scenario or the default check of one snippet."""

    name: str
    kind: str  # "scenario" | "check"
    source: str  # the scenario file or snippet, as shown in messages
    status: str  # one of STATUSES
    message: str = ""
    seconds: float = 0.0
    namespace: str = ""
    checks: tuple[str, ...] = ()
    steps: list[StepRecord] = field(default_factory=list)
    diagnostics: str = ""

    @property
    def passed(self) -> bool:
        return self.status in ("passed", "skipped")


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


# --- diagnostics: what a failure report shows of the cluster ------------------------


def pod_lines(cluster: Cluster, namespace: str) -> tuple[list[str], set[str]]:
    """Every pod of the namespace (node, phase, each condition not True), and their nodes."""
    try:
        found = get_json(cluster, "pods", "-n", namespace)
    except StepFailed as error:
        return [f"(pods unavailable: {error})"], set()
    lines, nodes = [], set()
    for pod in (found or {}).get("items") or []:
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        nodes |= {n for n in (spec.get("nodeName"), status.get("nominatedNodeName")) if n}
        bad = [
            f"{c.get('type')}={c.get('status')}"
            + (f" {c.get('reason')}: {c.get('message', '')}" if c.get("reason") else "")
            for c in status.get("conditions") or []
            if c.get("status") != "True"
        ]
        detail = f" [{'; '.join(bad)}]" if bad else ""
        where = spec.get("nodeName") or "(unscheduled)"
        lines.append(f"{pod['metadata']['name']} on {where}: {status.get('phase')}{detail}")
    return lines, nodes


def diagnostics(cluster: Cluster, namespace: str, states: list[str]) -> str:
    """What a reader needs to see why a step failed: events, pods, objects, their nodes' events."""
    parts = []
    found = events(cluster, namespace)
    if found:
        parts.append("events:\n" + "\n".join("  " + event_line(e) for e in found[-25:]))
    pods, nodes = pod_lines(cluster, namespace)
    if pods:
        parts.append("pods:\n" + "\n".join("  " + line for line in pods[:40]))
    if states:
        parts.append("objects:\n" + "\n".join("  " + s for s in states))
    node_events = [
        e
        for e in events(cluster, None, **{"involvedObject.kind": "Node"})
        if (e.get("involvedObject") or {}).get("name") in nodes
    ]
    if node_events:
        parts.append("node events:\n" + "\n".join("  " + event_line(e) for e in node_events[-10:]))
    return "\n".join(parts)


def state_line(obj: dict[str, Any]) -> str:
    """One live object in a line: kind/name, node (pods) and status."""
    meta = obj.get("metadata") or {}
    node = (obj.get("spec") or {}).get("nodeName")
    where = f" on {node}" if node else ""
    status = dict(obj.get("status") or {})
    if obj.get("kind") != "Pod":
        status.pop("conditions", None)  # long and rarely the reason; pod conditions are
    return f"{obj.get('kind')}/{meta.get('name')}{where} status={show(status, 400)}"
