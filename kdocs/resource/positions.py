"""Where every node of a YAML document is: JSON path -> 1-based (line, col).

A leaf of `kdocs.resource`: the event reader fills it, every stage asks it for
the `file:line:col` of a node it has a problem with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JsonPath = tuple[str | int, ...]
Pos = tuple[int, int]


class Positions:
    """1-based (line, col) of the nodes of one YAML document, by JSON path.

    Aliases and merge keys are stored as links (path -> path of what they copy), so
    a node reached through an alias resolves to where it is written, at no cost
    proportional to the expansion.
    """

    __slots__ = ("_values", "_keys", "_links")

    def __init__(self) -> None:
        # libyaml marks (0-based line/column), kept as they come: converting every
        # node up front costs more than the rare lookup
        self._values: dict[JsonPath, Any] = {}
        self._keys: dict[JsonPath, Any] = {}
        self._links: dict[JsonPath, JsonPath] = {}

    def _resolve(self, table: dict[JsonPath, Any], path: JsonPath) -> Pos | None:
        for _ in range(64):  # each step follows one link; links never form cycles
            hit = table.get(path)
            if hit is not None:
                return hit.line + 1, hit.column + 1
            for i in range(len(path), 0, -1):
                target = self._links.get(path[:i])
                if target is not None:
                    path = target + path[i:]
                    break
            else:
                return None
        return None

    def value(self, path: JsonPath) -> Pos:
        """Where the node at `path` starts, or its nearest existing ancestor."""
        for i in range(len(path), -1, -1):
            hit = self._resolve(self._values, path[:i])
            if hit is not None:
                return hit
        return (1, 1)

    def key(self, path: JsonPath) -> Pos:
        """Where the mapping key naming `path` is, falling back to `value`."""
        if path and isinstance(path[-1], str):
            hit = self._resolve(self._keys, path)
            if hit is not None:
                return hit
        return self.value(path)

    def shifted(self, lines: int) -> Positions:
        """The same positions `lines` further down: for a document read from a slice of
        its file that starts at a line boundary (columns are unchanged)."""
        out = Positions()
        out._values = {p: _Mark(m.line + lines, m.column) for p, m in self._values.items()}
        out._keys = {p: _Mark(m.line + lines, m.column) for p, m in self._keys.items()}
        out._links = dict(self._links)
        return out


class _Mark:
    """A 0-based line and column, like the libyaml marks `Positions` keeps."""

    __slots__ = ("line", "column")

    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


class LazyPositions(Positions):
    """Positions read the first time one is asked for: most documents are valid and
    never are (see `kdocs.resource.quick`).  `fill` gives the document's full
    `Positions`; what it gives is then used exactly as if it had been built up front."""

    __slots__ = ("_fill",)

    def __init__(self, fill: Callable[[], Positions]) -> None:
        super().__init__()
        self._fill: Callable[[], Positions] | None = fill

    def _filled(self) -> None:
        if self._fill is not None:
            found = self._fill()
            self._values, self._keys, self._links = found._values, found._keys, found._links
            self._fill = None

    def value(self, path: JsonPath) -> Pos:
        self._filled()
        return super().value(path)

    def key(self, path: JsonPath) -> Pos:
        self._filled()
        return super().key(path)
