"""Scenario files -> `Scenario`: strict parsing, every problem one line naming file:line.

The format is described in `kdocs.scenario`. A malformed scenario is a broken
test, not a failed claim, so every problem is an UnusableInputError (exit 2).
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.config import did_you_mean
from kdocs.errors import InvalidInputError, KdocsError, Location, UnusableInputError
from kdocs.resource.embed import load_spec, read_snippet
from kdocs.resource.manifest import read_yaml
from kdocs.resource.positions import JsonPath, Positions
from kdocs.scenario.model import (
    COMPONENTS,
    Apply,
    Delete,
    Expect,
    Scenario,
    Step,
    display,
    merge_patch,
)

DEFAULT_TIMEOUT = 30.0
_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$"
)
_ACTIONS = ("apply", "assert", "error", "delete")


def load_scenario(path: Path, root: Path, boundary: Path) -> Scenario:
    """Parse a scenario file; every problem is an UnusableInputError naming file:line:col."""
    try:
        document = read_scenario(path, root)
    except KdocsError as error:
        raise UnusableInputError(error.location, error.reason) from None
    return parse_scenario(path, root, boundary, document)


def scenario_boundary(path: Path, snippets_dir: Path) -> Path:
    """The folder a scenario's files must stay in: snippets/ for the site's, else its own."""
    inside = snippets_dir.resolve() in path.resolve().parents
    return snippets_dir if inside else path.parent


def read_scenario(path: Path, root: Path) -> tuple[Any, Positions]:
    """The scenario file's one YAML document; the reader's errors keep their own exit code
    (a YAML syntax error is found wrong, a binary file unusable), as the lint reports them."""
    where = display(path, root)
    documents = read_yaml(path, name=where)
    if len(documents) > 1:
        line, col = documents[1][1].value(())
        raise InvalidInputError(Location(where, line, col), "a scenario is one YAML document")
    return documents[0] if documents else (None, Positions())


def parse_scenario(
    path: Path, root: Path, boundary: Path, document: tuple[Any, Positions]
) -> Scenario:
    """The scenario in a document `read_scenario` returned; format errors are UnusableInputError."""
    value, positions = document
    return _Parser(path, display(path, root), root, boundary).scenario(_Node(value, (), positions))


@dataclass(frozen=True)
class _Node:
    """A value of the scenario file and where it is (the reader's positions)."""

    value: Any
    path: JsonPath
    positions: Positions

    @property
    def line(self) -> int:
        return self.positions.value(self.path)[0]

    @property
    def where(self) -> tuple[int, int]:
        """1-based line and column of the value."""
        return self.positions.value(self.path)

    def child(self, key: str | int) -> _Node:
        return _Node(self.value[key], (*self.path, key), self.positions)


class _Parser:
    def __init__(self, path: Path, where: str, root: Path, boundary: Path) -> None:
        self.path, self.where, self.root, self.boundary = path, where, root, boundary
        self.files: list[Path] = []

    def fail(
        self, node: _Node | None, reason: str, at: tuple[int, int] | None = None
    ) -> UnusableInputError:
        line, col = at or (node.where if node is not None else (None, None))
        return UnusableInputError(Location(self.where, line, col), reason)

    def mapping(self, node: _Node | None, what: str, allowed: tuple[str, ...]) -> dict:
        if node is None or not isinstance(node.value, dict):
            raise self.fail(node, f"{what} must be a mapping")
        for name in node.value:
            if name not in allowed:
                at = node.positions.key((*node.path, name))
                hint = did_you_mean(str(name), allowed)
                listed = ", ".join(allowed)
                if what == "a step":  # the key of a step is its kind
                    reason = f"unknown step kind {name!r}{hint} (kinds: {listed})"
                else:
                    reason = f"unknown key {name!r} in {what}{hint} (allowed: {listed})"
                raise self.fail(node, reason, at)
        return {name: node.child(name) for name in node.value}

    def plain(self, node: _Node) -> Any:
        return copy.deepcopy(node.value)

    def scenario(self, node: _Node | None) -> Scenario:
        keys = ("name", "description", "exclusive", "requires", "timeout", "steps")
        top = self.mapping(node, "a scenario", keys)
        name = self.path.name.split(".scenario.")[0]
        if "name" in top:
            name = self.plain(top["name"])
            if not isinstance(name, str) or not re.fullmatch(
                r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name
            ):
                raise self.fail(top["name"], "name must be lowercase letters, digits and '-'")
        description = self.plain(top["description"]) if "description" in top else ""
        exclusive = self.plain(top["exclusive"]) if "exclusive" in top else False
        if not isinstance(exclusive, bool):
            raise self.fail(top["exclusive"], "exclusive must be true or false")
        timeout = self.duration(top["timeout"]) if "timeout" in top else DEFAULT_TIMEOUT
        requires = self.requires(top["requires"]) if "requires" in top else ()
        steps_node = top.get("steps")
        if steps_node is None or not isinstance(steps_node.value, list) or not steps_node.value:
            raise self.fail(steps_node or node, "a scenario needs a non-empty list `steps`")
        steps = tuple(self.step(steps_node.child(i), timeout) for i in range(len(steps_node.value)))
        return Scenario(
            self.path, name, str(description or ""), exclusive, timeout, steps, tuple(self.files),
            requires,
        )  # fmt: skip

    def requires(self, node: _Node) -> tuple[str, ...]:
        value = self.plain(node)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            known = ", ".join(COMPONENTS)
            raise self.fail(node, f"requires must be a list of components ({known})")
        for index, item in enumerate(value):
            if item not in COMPONENTS:
                hint = did_you_mean(item, COMPONENTS)
                known = ", ".join(COMPONENTS)
                reason = f"unknown component {item!r} in requires{hint} (known: {known})"
                raise self.fail(node.child(index), reason)
        return tuple(dict.fromkeys(value))

    def step(self, node: _Node, default_timeout: float) -> Step:
        step = self.mapping(node, "a step", _ACTIONS)
        if len(step) != 1:
            raise self.fail(node, "a step has exactly one of: apply, assert, error, delete")
        action, value = next(iter(step.items()))
        line = node.line
        if action == "apply":
            return self.apply(value, line)
        if action == "delete":
            return self.delete(value, line, default_timeout)
        return self.expect(value, line, default_timeout, must_appear=action == "assert")

    def apply(self, node: _Node, line: int) -> Apply:
        if not isinstance(node.value, dict | list):
            return Apply(line, file=self.file(node))
        spec = self.mapping(node, "apply", ("file", "patch", "object", "rejected"))
        if ("file" in spec) == ("object" in spec):
            raise self.fail(node, "apply needs exactly one of `file` or `object`")
        rejected = None
        if "rejected" in spec:
            rejected = self.plain(spec["rejected"])
            if not isinstance(rejected, str) or not rejected:
                raise self.fail(spec["rejected"], "rejected must be a non-empty reason text")
        if "object" in spec:
            if "patch" in spec:
                raise self.fail(spec["patch"], "patch applies to a file; edit the object instead")
            return Apply(line, inline=self.manifest(spec["object"], "object"), rejected=rejected)
        patch = None
        if "patch" in spec:
            patch = self.plain(spec["patch"])
            if not isinstance(patch, dict) or not patch:
                raise self.fail(spec["patch"], "patch must be a non-empty mapping (RFC 7386)")
        step = Apply(line, file=self.file(spec["file"]), patch=patch, rejected=rejected)
        if patch is not None and step.file is not None:
            loaded = read_snippet(step.file, name=display(step.file, self.root))
            # an unreadable file fails the step when it runs, naming its line
            docs = None if loaded.errors else [d.obj for d in loaded.documents]
            if docs is not None and [merge_patch(d, patch) for d in docs] == docs:
                raise self.fail(
                    spec["patch"],
                    f"the patch changes nothing in {display(step.file, self.root)}"
                    " (check its keys against the file)",
                )
        return step

    def expect(self, node: _Node, line: int, default: float, must_appear: bool) -> Expect:
        what = "assert" if must_appear else "error"
        keys = ("object", "timeout", "for", "count", "match") + (("during",) if must_appear else ())
        spec = self.mapping(node, what, keys)
        if "timeout" in spec and "for" in spec:
            raise self.fail(spec["for"], "give `timeout` or `for`, not both")
        during = self.duration(spec["during"]) if "during" in spec else 0.0
        duration = spec.get("timeout") or spec.get("for")
        timeout = self.duration(duration) if duration is not None else default
        obj = self.manifest(spec.get("object"), f"{what}.object", need_name=False)
        count = self.plain(spec["count"]) if "count" in spec else None
        match = self.plain(spec["match"]) if "match" in spec else None
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 0
        ):
            raise self.fail(spec["count"], "count must be a whole number >= 0")
        if match is not None and match not in ("any", "all"):
            raise self.fail(spec["match"], "match must be `any` or `all`")
        named = isinstance(obj.get("metadata"), dict) and "name" in obj["metadata"]
        if named and (count is not None or match is not None):
            raise self.fail(node, "an object selected by name takes no count or match")
        if not named and (count is None) == (match is None):
            raise self.fail(
                node, "an object selected by labels needs `count: N` or `match: any|all`"
            )
        return Expect(line, obj, timeout, must_appear, count, match, during)

    def delete(self, node: _Node, line: int, timeout: float) -> Delete:
        if not isinstance(node.value, dict | list):
            return Delete(line, timeout, file=self.file(node))
        spec = self.mapping(node, "delete", ("apiVersion", "kind", "name", "namespace"))
        ref = {key: self.plain(value) for key, value in spec.items()}
        for key in ("apiVersion", "kind", "name"):
            if not isinstance(ref.get(key), str) or not ref[key]:
                raise self.fail(node, f"delete needs a string `{key}` (or a file name)")
        meta = {
            "name": ref["name"],
            **({"namespace": ref["namespace"]} if "namespace" in ref else {}),
        }
        return Delete(
            line,
            timeout,
            ref={"apiVersion": ref["apiVersion"], "kind": ref["kind"], "metadata": meta},
        )

    def manifest(self, node: _Node | None, what: str, need_name: bool = True) -> dict:
        value = self.plain(node) if node is not None else None
        if not isinstance(value, dict):
            raise self.fail(node, f"{what} must be a mapping (a Kubernetes object)")
        for key in ("apiVersion", "kind"):
            if not isinstance(value.get(key), str) or not value[key]:
                raise self.fail(node, f"{what} needs a string `{key}`")
        meta = value.get("metadata", {})
        if not isinstance(meta, dict):
            raise self.fail(node, f"{what}.metadata must be a mapping")
        if need_name and not (meta.get("name") or meta.get("generateName")):
            raise self.fail(node, f"{what} needs metadata.name")
        return value

    def file(self, node: _Node) -> Path:
        rel = self.plain(node)
        if not isinstance(rel, str) or not rel.strip():
            raise self.fail(node, "a file must be a path relative to the scenario")
        if os.path.isabs(rel) or "\\" in rel:
            raise self.fail(node, f"{rel!r}: give paths relative to the scenario file")
        target = Path(os.path.normpath(self.path.parent / rel))
        boundary = self.boundary.resolve()
        real = target.resolve()
        if boundary not in real.parents:
            raise self.fail(node, f"{rel!r} leads outside {display(self.boundary, self.root)}/")
        if not real.is_file():
            hint = did_you_mean(rel, _nearby_files(self.path.parent))
            raise self.fail(node, f"{rel!r} does not exist next to the scenario{hint}")
        if target not in self.files:
            self.files.append(target)
        spec = load_spec(target)
        if spec is not None and spec.source not in self.files:
            self.files.append(spec.source)
        return target

    def duration(self, node: _Node) -> float:
        value = self.plain(node)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        found = _DURATION.match(value) if isinstance(value, str) and value else None
        if found is None or not any(found.groups()):
            raise self.fail(node, f"invalid duration {value!r} (like 30s, 2m, 1m30s)")
        hours, minutes, seconds = (float(found.group(k) or 0) for k in ("h", "m", "s"))
        total = hours * 3600 + minutes * 60 + seconds
        if total <= 0:
            raise self.fail(node, "a duration must be longer than 0s")
        return total


def _nearby_files(folder: Path) -> list[str]:
    """YAML files a scenario in `folder` could mean, as it would name them (two levels deep:
    a scenario outside snippets/ may sit in a large folder)."""
    found = [*folder.glob("*"), *folder.glob("*/*")]
    return sorted(
        p.relative_to(folder).as_posix()
        for p in found
        if p.suffix in (".yaml", ".yml") and ".scenario." not in p.name and p.is_file()
    )
