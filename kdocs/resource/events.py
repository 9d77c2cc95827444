"""YAML events to plain values plus the position of every node: the engine of the reader.

It lives apart from `kdocs.resource.manifest` (which documents the limits and the
public reading API) only to keep each module small.  It walks libyaml's event stream
instead of using PyYAML's composer, which recurses in C and crashes the process
on deeply nested input, so every limit is checked as the event that crosses it
arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml
from yaml import events as ev
from yaml._yaml import CParser

from kdocs.errors import InvalidInputError, KdocsError, Location, UnusableInputError
from kdocs.resource import scalars
from kdocs.resource.limits import Limits
from kdocs.resource.positions import JsonPath, Positions
from kdocs.resource.scalars import TAG_PREFIX, DocError

# --- building values and positions from the event stream -----------------------------


class _Frame:
    """A collection being built."""

    __slots__ = ("value", "path", "is_map", "key", "merging", "anchor", "start", "height",
                 "merges", "flow", "merge_at")  # fmt: skip

    def __init__(self, value: Any, path: JsonPath, anchor: str | None, start: int) -> None:
        self.value = value
        self.path = path
        self.is_map = isinstance(value, dict)
        self.key: str | None = None  # key waiting for its value
        self.merging = False  # the waiting key is a `<<` merge key
        self.anchor = anchor
        self.start = start  # node count before this collection
        self.height = 0  # how many levels below this node its deepest descendant is
        self.merges: list[tuple[Any, JsonPath]] = []
        self.flow = False  # a [flow] or {flow} collection: its end mark is its last line
        self.merge_at: tuple[int, Any] | None = None  # keys before the `<<` key, its mark


class _GoEscapesParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's own parser with go-yaml's double-quoted escapes (kubectl's): ``\\'`` is a
    quote, ``\\/`` is an error. libyaml has them the other way round; this slower
    parser reads only the files that hold one of the two."""

    ESCAPE_REPLACEMENTS = {
        **{k: v for k, v in yaml.scanner.Scanner.ESCAPE_REPLACEMENTS.items() if k != "/"},
        "'": "'",
    }

    def __init__(self, data: bytes) -> None:
        yaml.reader.Reader.__init__(self, data)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


def may_hold_go_escapes(data: bytes) -> bool:
    """Could a scalar of `data` hold ``\\/`` or ``\\'``, which go-yaml and libyaml read
    apart?  False: libyaml alone reads it as kubectl does, whatever else it holds."""
    return b"\\'" in data or b"\\/" in data


def event_parser(data: bytes) -> Any:
    """libyaml's event parser (C speed), or the Python one where their escapes differ."""
    if may_hold_go_escapes(data) and _escapes_differ(data):
        return _GoEscapesParser(data)
    return CParser(data)


def _escapes_differ(data: bytes) -> bool:
    """Does a double-quoted scalar hold ``\\/`` or ``\\'``, the escapes go-yaml and libyaml
    read differently?  Elsewhere (a plain regex ``pattern: ^a\\/b$`` in a CRD, a
    single-quoted or block scalar) a backslash is just a character to both, and the
    file stays on the C parser, which is what most of a CRD bundle's time was.

    libyaml refuses ``\\'`` (the Python parser then decides, as go-yaml would); a
    ``\\/`` it accepts is found from each double-quoted scalar's marks, which count
    characters.  A doubt (a mark off by one) only errs towards the Python parser."""
    text: str | None = None
    parser = CParser(data)
    try:
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is ev.StreamEndEvent:
                return False
            if kind is ev.ScalarEvent and event.style == '"' and "/" in event.value:
                if text is None:
                    text = data.decode("utf-8", "replace")
                start, end = event.start_mark.index, event.end_mark.index
                if "\\/" in text[max(0, start - 1) : end + 1]:
                    return True
    except yaml.YAMLError:
        return True  # \\' where libyaml stops, or a syntax error either parser reports
    finally:
        parser.dispose()


_MERGE = "<<"
_NUMBER_LIKE_START = scalars.NUMBER_LIKE_START
_RESOLVED_WORDS = scalars.RESOLVED_WORDS
_DocResult = tuple[Any, Positions, tuple[int, int], list[KdocsError]]


class EventBuilder:
    """Turns libyaml events into (index, value, positions, lines, errors) per document."""

    def __init__(self, data: bytes, name: str, limits: Limits) -> None:
        self.data, self.name, self.limits = data, name, limits
        self.nodes = 0
        self.alias_nodes = 0
        self.pending: yaml.YAMLError | None = None  # syntax error met while skipping

    def _limit(self, mark: Any, reason: str) -> UnusableInputError:
        return UnusableInputError(Location(self.name, mark.line + 1, mark.column + 1), reason)

    def documents(self) -> Iterator[tuple[int, Any, Positions, tuple[int, int], list]]:
        parser = event_parser(self.data)
        index = -1
        filled = 0  # documents that are not empty: a trailing `---` costs nothing
        try:
            while True:
                event = parser.get_event()
                if isinstance(event, ev.StreamEndEvent):
                    return
                if isinstance(event, ev.DocumentStartEvent):
                    index += 1
                    result = self._document(parser, event)
                    if result[0] is not None or result[3]:
                        filled += 1  # (empty ones are still bounded by max_nodes)
                        if filled > self.limits.max_documents:
                            raise self._limit(
                                event.start_mark,
                                f"more than {self.limits.max_documents} YAML documents "
                                "(limit max_documents)",
                            )
                    yield (index, *result)
                    if self.pending is not None:
                        raise self.pending
        finally:
            parser.dispose()

    def positions_of(self, index: int) -> Positions:
        """The positions of document `index` alone, the documents before it only parsed:
        for a file `kdocs.resource.quick` read without error, so building it cannot fail
        and gives what `documents` would have (anchors and counts do not cross documents
        there: it has no alias)."""
        parser = event_parser(self.data)
        try:
            at = -1
            while True:
                event = parser.get_event()
                if isinstance(event, ev.StreamEndEvent):
                    return Positions()
                if isinstance(event, ev.DocumentStartEvent):
                    at += 1
                    if at == index:
                        positions = Positions()
                        self._build(parser, positions, [0, 0])
                        return positions
        finally:
            parser.dispose()

    def _document(self, parser: Any, start: Any) -> _DocResult:
        positions = Positions()
        lines = [start.start_mark.line + 1, start.start_mark.line + 1]
        try:
            root = self._build(parser, positions, lines)
        except DocError as err:
            error = InvalidInputError(Location(self.name, *err.pos), err.reason)
            try:  # the rest of the document is not used, but must be consumed
                while not isinstance(parser.get_event(), ev.DocumentEndEvent):
                    pass
            except yaml.YAMLError as syntax:
                self.pending = syntax
            return None, positions, (lines[0], lines[1]), [error]
        return root, positions, (lines[0], lines[1]), []

    def _build(self, parser: Any, positions: Positions, lines: list[int]) -> Any:
        values, keys, links = positions._values, positions._keys, positions._links
        anchors: dict[str, tuple[Any, JsonPath, int, int]] = {}
        stack: list[_Frame] = []
        limits = self.limits
        # locals, not module attributes: this loop runs once per YAML event
        doc_end, scalar, alias = ev.DocumentEndEvent, ev.ScalarEvent, ev.AliasEvent
        map_start, map_end = ev.MappingStartEvent, ev.MappingEndEvent
        seq_start, seq_end = ev.SequenceStartEvent, ev.SequenceEndEvent
        resolve, number_like, words = scalars.resolve, _NUMBER_LIKE_START, _RESOLVED_WORDS
        max_nodes, max_depth = limits.max_nodes, limits.max_depth
        root: Any = None
        last: Any = None  # end mark of the last scalar or flow collection
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is doc_end:
                if last is not None:
                    lines[1] = max(lines[1], last.line + (last.column > 0))
                return root
            top = stack[-1] if stack else None
            if kind is map_end or kind is seq_end:
                frame = stack.pop()
                if frame.merges:
                    self._merge(frame, positions)
                if frame.flow:
                    last = event.end_mark
                if frame.anchor is not None:
                    size = self.nodes - frame.start
                    anchors[frame.anchor] = (frame.value, frame.path, size, frame.height)
                if stack:
                    self._attach(stack[-1], frame.path, frame.value, frame.height + 1)
                else:
                    root = frame.value
                continue
            mark = event.start_mark
            if top is not None and top.is_map and top.key is None:
                text = event.value if kind is scalar else None
                if (
                    text is None
                    or event.tag is not None
                    or (event.implicit[0] and (not text or text[0] in number_like or text in words))
                    or text in top.value
                    or text == _MERGE
                ):
                    self._key(top, event, positions)  # the rare and the wrong cases
                else:
                    self.nodes += 1
                    top.key = text
                    keys[top.path + (text,)] = mark
                continue
            if top is None:
                path: JsonPath = ()
                lines[0] = lines[1] = mark.line + 1
            elif top.is_map:
                path = top.path + (top.key,)
            else:
                path = top.path + (len(top.value),)
            depth, height = len(path), 0
            if kind is alias:
                if event.anchor not in anchors:
                    raise DocError(mark, f"unknown alias *{event.anchor}")
                value, target, size, height = anchors[event.anchor]
                self.nodes += size
                self.alias_nodes += size
                if self.alias_nodes > limits.max_alias_nodes:
                    raise self._limit(
                        mark,
                        f"aliases expand to more than {limits.max_alias_nodes} nodes "
                        "(limit max_alias_nodes)",
                    )
                links[path] = target
                last = event.end_mark
            else:
                self.nodes += 1
            if self.nodes > max_nodes:
                raise self._limit(
                    mark, f"more than {limits.max_nodes} YAML nodes (limit max_nodes)"
                )
            if depth + height > max_depth:
                raise self._limit(
                    mark, f"nested deeper than {limits.max_depth} levels (limit max_depth)"
                )
            values[path] = mark
            if kind is scalar:
                value = resolve(event)
                last = event.end_mark
                if event.anchor is not None:
                    anchors[event.anchor] = (value, path, 1, 0)
            elif kind is map_start or kind is seq_start:
                want = "map" if kind is map_start else "seq"
                if event.tag not in (None, "!", TAG_PREFIX + want):
                    raise DocError(mark, f"unsupported YAML tag {event.tag}")
                container: Any = {} if want == "map" else []
                frame = _Frame(container, path, event.anchor, self.nodes - 1)
                frame.flow = bool(event.flow_style)
                stack.append(frame)
                continue
            elif kind is not alias:
                continue
            if top is None:
                root = value
            elif not top.is_map and not height:  # the common cases, inlined for speed
                top.value.append(value)
                if not top.height:
                    top.height = 1
            elif not top.merging and not height:
                top.value[top.key] = value
                top.key = None
                if not top.height:
                    top.height = 1
            else:
                self._attach(top, path, value, height + 1)

    def _key(self, top: _Frame, event: Any, positions: Positions) -> None:
        mark = event.start_mark
        if type(event) is not ev.ScalarEvent:
            raise DocError(mark, "a mapping key must be a string, not a list, mapping or alias")
        self.nodes += 1
        text = event.value
        merging = text == _MERGE and event.implicit[0] and event.tag is None
        name = text if merging else scalars.key(event)
        path = top.path + (name,)
        if name in top.value or (merging and top.merge_at is not None):
            first = positions._keys.get(path)
            at = f" (first at line {first.line + 1})" if first is not None else ""
            same = f" (kubectl reads {text!r} as {name!r})" if name != text else ""
            raise DocError(mark, f"duplicate key {name!r}{same}{at}")
        if merging:
            top.merge_at = (len(top.value), mark)
        top.key, top.merging = name, merging
        positions._keys[path] = mark

    @staticmethod
    def _attach(top: _Frame, path: JsonPath, value: Any, height: int) -> None:
        if height > top.height:
            top.height = height
        if not top.is_map:
            top.value.append(value)
            return
        if top.merging:
            top.merges.append((value, path))
        else:
            top.value[top.key] = value
        top.key, top.merging = None, False

    @staticmethod
    def _merge(frame: _Frame, positions: Positions) -> None:
        """Apply `<<` merge keys: explicit keys win, then earlier merge sources.

        go-yaml v2 (kubectl) lets a merge replace the keys written *before* it,
        where YAML lets every explicit key win: that case is refused, not guessed.
        """
        explicit = set(frame.value)
        count, mark = frame.merge_at
        before = set(list(frame.value)[:count])
        for source, path in frame.merges:
            parts = list(enumerate(source)) if isinstance(source, list) else [(None, source)]
            for i, part in parts:
                part_path = path if i is None else path + (i,)
                if not isinstance(part, dict):
                    raise DocError(
                        positions.value(part_path),
                        "merge key << needs a mapping, an alias to one, or a list of those",
                    )
                for key, value in part.items():
                    if key in before:
                        raise DocError(
                            mark,
                            f"merge key << comes after key {key!r} and also sets it: kubectl "
                            "lets the merge win, YAML the key; put << first in the mapping",
                        )
                    if key not in explicit and key not in frame.value:
                        frame.value[key] = value
                        positions._links[frame.path + (key,)] = part_path + (key,)
