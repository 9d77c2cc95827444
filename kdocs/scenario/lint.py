"""Scenario lint: what can be known wrong in a scenario without a cluster, each as one line.

The parser (`parse.py`) already refuses a malformed scenario at its first
problem; the lint reports that problem with the exit code of `kdocs validate`
(1: read and found wrong; 2: the file cannot be read at all) and then checks
what the format alone cannot: every `${...}` in the steps and in the files
they apply, because the runner sends an unknown variable as is and finds an
unknown node only once the cluster is up and earlier steps have run.

* The variables are listed in `variables.py`. `${namespace}` is always known;
  `${node:NAME}` must name a static node of a topology (nodes Karpenter
  launches carry no fixed name); `${pod:...}` must be a label selector.
* `${node:KEY=VALUE}` must select exactly one static node, unless the topology
  launches nodes during the run (Karpenter) or the scenario applies Node
  objects itself: their labels are then known only at run time, so the lint
  says nothing rather than raise a false alarm.
* A variable that looks like a typo of these (`${namespce}`, `${nodes:x}`) is
  reported; any other `${...}` (a shell variable in a ConfigMap) is left alone.

Topologies come in as plain facts (`TopologyFacts`): the lint never imports the
cluster stage, so the site and `kdocs validate` can run it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from kdocs.catalog import is_embed_spec
from kdocs.config import did_you_mean
from kdocs.errors import InvalidInputError, KdocsError, Location, UnusableInputError
from kdocs.resource.embed import read_snippet
from kdocs.resource.limits import DEFAULT_LIMITS
from kdocs.resource.manifest import Document
from kdocs.resource.positions import JsonPath, Positions
from kdocs.scenario.model import Apply, Scenario, display
from kdocs.scenario.parse import parse_scenario, read_scenario, scenario_boundary
from kdocs.scenario.variables import ANY, KINDS, NAMESPACE, NODE, POD, USAGE, is_selector, split

_SIMPLE_SELECTOR = re.compile(r"^([^=!,\s]+)==?([^=!,\s]*)$")


class NodeFacts(Protocol):
    """A static node as a topology declares it (kdocs.cluster.topology.NodeSpec)."""

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> dict[str, str]: ...


class TopologyFacts(Protocol):
    """What a topology says before it runs (kdocs.cluster.topology.Topology)."""

    @property
    def name(self) -> str: ...

    @property
    def nodes(self) -> tuple[NodeFacts, ...]: ...

    @property
    def karpenter(self) -> object | None: ...  # set: nodes are launched during the run


def lint_scenario(
    path: Path, root: Path, snippets_dir: Path, topologies: Sequence[TopologyFacts] | None
) -> list[KdocsError]:
    """Every problem of one scenario file, in file order; [] when it lints clean.

    `topologies`: the clusters it may run on (a `${node:...}` must work on at
    least one); None when they are unknown, which skips the node checks.
    """
    return check_scenario(path, root, snippets_dir, topologies)[1]


def check_scenario(
    path: Path, root: Path, snippets_dir: Path, topologies: Sequence[TopologyFacts] | None
) -> tuple[Scenario | None, list[KdocsError]]:
    """The parsed scenario (None if it does not parse) and its lint problems, reading it once."""
    where = display(path, root)
    try:
        document = read_scenario(path, root)
    except KdocsError as error:  # the reader's own verdict: syntax 1, unreadable 2
        return None, [error]
    try:
        scenario = parse_scenario(path, root, scenario_boundary(path, snippets_dir), document)
    except UnusableInputError as error:  # checked and found wrong, as `kdocs validate` says
        return None, [InvalidInputError(error.location, error.reason)]
    checker = _Variables(scenario, topologies)
    value, positions = document
    problems = list(checker.check(where, value.get("steps"), ("steps",), positions))
    for file in scenario.files:
        for doc in _documents(file, root, only_with_variables=True):
            problems.extend(checker.check(doc.file, doc.obj, doc.prefix, doc.positions))
    return scenario, problems


class _Variables:
    """Checks `${...}` strings against the scenario's topologies."""

    def __init__(self, scenario: Scenario, topologies: Sequence[TopologyFacts] | None) -> None:
        self.scenario, self.topologies = scenario, topologies
        self._sets_node_labels: bool | None = None

    @property
    def sets_node_labels(self) -> bool:
        """A scenario that applies Nodes may add the labels it then selects (read once)."""
        if self._sets_node_labels is None:
            self._sets_node_labels = _applies_nodes(self.scenario)
        return self._sets_node_labels

    def check(
        self, where: str, value: Any, path: JsonPath, positions: Positions
    ) -> Iterator[KdocsError]:
        for at, text in _strings(value, path):
            for found in ANY.finditer(text):
                reason = self.problem(found.group(1))
                if reason:
                    line, col = positions.value(at)
                    yield InvalidInputError(Location(where, line, col), reason)

    def problem(self, body: str) -> str | None:
        kind, ref = split(body)
        if (kind, ref) == (NAMESPACE, None):
            return None
        if kind not in (NODE, POD) or not ref:
            # `${podName}` in a ConfigMap's script is not ours; `${pods:x}` or `${namespce}` is.
            looks_meant = (
                body.lower().startswith(NODE)
                or did_you_mean(body, [NAMESPACE])
                or (ref is not None and did_you_mean(kind, [NODE, POD]))
            )
            if not looks_meant:
                return None  # not ours: a shell or template variable the objects carry
            hint = did_you_mean(kind, list(KINDS))
            return f"unknown variable ${{{body}}}{hint} (variables: {USAGE})"
        if kind == POD:
            if is_selector(ref):
                return None  # the unit's pods exist only during the run
            return f"${{pod:{ref}}}: give a label selector, like ${{pod:app=web}}"
        if self.topologies is None or not self.topologies:
            return None
        if is_selector(ref):
            return self.selector_problem(ref)
        return self.name_problem(ref)

    def name_problem(self, name: str) -> str | None:
        assert self.topologies is not None
        if any(name in _names(t) for t in self.topologies):
            return None
        known = sorted({n for t in self.topologies for n in _names(t)})
        hint = did_you_mean(name, known)
        where = ", ".join(f"{t.name}: {', '.join(_names(t)) or 'none'}" for t in self.topologies)
        return f"${{node:{name}}}: no static node {name!r}{hint} (nodes of topology {where})"

    def selector_problem(self, selector: str) -> str | None:
        assert self.topologies is not None
        parts = [_SIMPLE_SELECTOR.match(p) for p in selector.split(",")]
        if self.sets_node_labels or not all(parts):
            return None  # labels set during the run, or a selector we do not evaluate
        wanted = {m.group(1): m.group(2) for m in parts if m}
        found: list[str] = []
        for topology in self.topologies:
            if topology.karpenter is not None:
                return None  # Karpenter launches nodes whose labels only the run knows
            matching = [n.name for n in topology.nodes if _has_labels(n.labels, wanted)]
            if len(matching) == 1:
                return None
            found.append(f"{topology.name}: {', '.join(matching) or 'none'}")
        values = sorted(
            {
                f"{key}={node.labels[key]}"
                for t in self.topologies
                for node in t.nodes
                for key in wanted
                if key in node.labels
            }
        )
        hint = f" (labels there: {', '.join(values)})" if values else ""
        return (
            f"${{node:{selector}}} needs exactly one node so labelled; static nodes that are"
            f" (topology {'; '.join(found)}){hint}"
        )


def _names(topology: TopologyFacts) -> list[str]:
    return [node.name for node in topology.nodes]


def _has_labels(labels: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in wanted.items())


def _applies_nodes(scenario: Scenario) -> bool:
    for step in scenario.steps:
        if isinstance(step, Apply) and (step.inline or {}).get("kind") == "Node":
            return True
    for file in scenario.files:
        if any(d.obj.get("kind") == "Node" for d in _documents(file, root=None)):
            return True
    return False


def _documents(file: Path, root: Path | None, only_with_variables: bool = False) -> list[Document]:
    """The objects a scenario applies from `file`; none for an embed spec, or a file too large
    or unreadable (the schema check reports those, once)."""
    if is_embed_spec(file) or file.stat().st_size > DEFAULT_LIMITS.max_bytes:
        return []
    if only_with_variables and b"${" not in file.read_bytes():
        return []  # the common case: nothing to substitute, nothing to parse
    name = display(file, root) if root is not None else None
    return list(read_snippet(file, name=name).documents)


def _strings(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    """Every string value (not key) under `value` containing `${`, with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))
    elif isinstance(value, str) and "${" in value:
        yield path, value
