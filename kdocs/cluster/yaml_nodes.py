"""Reading the cluster's own YAML (topologies, component definitions) with line and column.

A typo in a topology or a component definition silently changes what a
scenario proves, so both are read strictly from composed YAML nodes, and every
problem is one line naming file:line:col (exit 2). This is the part they share.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kdocs.config import did_you_mean
from kdocs.errors import Location, UnusableInputError


def compose_file(path: Path, what: str) -> yaml.Node | None:
    """The composed YAML of `path`; unreadable or invalid YAML is one line (exit 2)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UnusableInputError(str(path), f"cannot read {what}: {error}") from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = Location(str(path), mark.line + 1, mark.column + 1) if mark else str(path)
        problem = getattr(error, "problem", None) or str(error)
        raise UnusableInputError(where, f"invalid YAML: {problem}") from None


class NodeReader:
    """Walks the composed YAML nodes of one file so that every error knows its line and column."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: yaml.Node | None, reason: str) -> UnusableInputError:
        """The error to raise about `node` (the whole file when None)."""
        if node is None:
            return UnusableInputError(str(self.path), reason)
        mark = node.start_mark
        return UnusableInputError(Location(str(self.path), mark.line + 1, mark.column + 1), reason)

    def mapping(
        self, node: yaml.Node | None, what: str, allowed: tuple[str, ...] | None = None
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """A mapping's entries by key, as (key node, value node); keys strings, unique, allowed."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag != "tag:yaml.org,2002:str":
                raise self.fail(key, f"keys of {what} must be strings")
            if key.value in result:
                raise self.fail(key, f"duplicate key {key.value!r} in {what}")
            if allowed is not None and key.value not in allowed:
                raise self.fail(
                    key,
                    f"unknown key {key.value!r} in {what}{did_you_mean(key.value, allowed)}"
                    f" (allowed: {', '.join(allowed)})",
                )
            result[key.value] = (key, value)
        return result
