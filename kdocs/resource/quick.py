"""The reader's fast path: a file's values without positions, for plain YAML only.

Why: building a position for every node (a JSON path tuple and a dict entry per
node) was about half of reading a file, and reading is most of `kdocs validate`;
yet only a document that has a problem is ever asked where a node is.  So a file
is read here first, values only; `kdocs.resource.manifest` gives its documents
positions that `EventBuilder` (the full reader) fills the first time one is asked
for (`kdocs.resource.positions.LazyPositions`).

Why it cannot change a verdict: this reader gives up (returns None) on anything
but the plain case — an anchor, alias, tag, ``<<`` merge key, a key that resolves
(``yes:``, ``80:``, ``~:``) or repeats, a scalar `kdocs.resource.scalars` refuses,
a limit it comes near, a YAML error — and the file is then read by `EventBuilder`
alone, as before.  In the plain case the two compute values, node counts and
document lines by the same rules (and the same parser, `event_parser`), so a file
this reader accepts is one `EventBuilder` reads without error into the same
values; `tests/resource/test_quick.py` checks both on every corpus it has.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml import events as ev

from kdocs.resource import scalars
from kdocs.resource.events import event_parser
from kdocs.resource.limits import Limits
from kdocs.resource.scalars import DocError

QuickDocument = tuple[int, Any, tuple[int, int]]  # index, value, first and last line


class _GiveUp(Exception):
    """Not the plain case: `EventBuilder` reads this file."""


def quick_documents(data: bytes, limits: Limits) -> list[QuickDocument] | None:
    """Every YAML document of `data` as (index, value, lines), or None: read it in full."""
    parser = event_parser(data)
    try:
        return _documents(parser, limits)
    except (_GiveUp, DocError, yaml.YAMLError, RecursionError, MemoryError):
        return None
    finally:
        parser.dispose()


def _documents(parser: Any, limits: Limits) -> list[QuickDocument]:
    out: list[QuickDocument] = []
    # locals, not module attributes: this loop runs once per YAML event
    get_event = parser.get_event
    stream_end, doc_start, doc_end = ev.StreamEndEvent, ev.DocumentStartEvent, ev.DocumentEndEvent
    scalar, map_start, seq_start = ev.ScalarEvent, ev.MappingStartEvent, ev.SequenceStartEvent
    map_end, seq_end = ev.MappingEndEvent, ev.SequenceEndEvent
    resolve, number_like, words = scalars.resolve, scalars.NUMBER_LIKE_START, scalars.RESOLVED_WORDS
    max_nodes, max_depth, max_documents = limits.max_nodes, limits.max_depth, limits.max_documents
    nodes = 0  # per file, as EventBuilder counts them
    index = -1
    filled = 0
    while True:
        event = get_event()
        kind = type(event)
        if kind is stream_end:
            return out
        if kind is not doc_start:
            continue
        index += 1
        first = last_line = event.start_mark.line + 1
        # one frame per open collection: [value, is_map, waiting key, flow]
        stack: list[list[Any]] = []
        root: Any = None
        last: Any = None  # end mark of the last scalar or flow collection
        while True:
            event = get_event()
            kind = type(event)
            if kind is doc_end:
                if last is not None:
                    last_line = max(last_line, last.line + (last.column > 0))
                break
            if kind is map_end or kind is seq_end:
                frame = stack.pop()
                if frame[3]:
                    last = event.end_mark
                value = frame[0]
                if not stack:
                    root = value
                    continue
            else:
                if event.anchor is not None or event.tag is not None:
                    raise _GiveUp  # anchors, aliases' targets and tags: the full reader
                top = stack[-1] if stack else None
                if top is not None and top[1] and top[2] is None:  # a mapping key
                    text = event.value if kind is scalar else None
                    if (
                        text is None
                        or text in top[0]
                        or text == "<<"
                        or (event.implicit[0] and (not text or text[0] in number_like))
                        or (event.implicit[0] and text in words)
                    ):
                        raise _GiveUp  # a key that resolves, repeats, merges or is no scalar
                    nodes += 1
                    top[2] = text
                    continue
                if len(stack) > max_depth:
                    raise _GiveUp
                nodes += 1
                if nodes > max_nodes:
                    raise _GiveUp
                if top is None:
                    first = last_line = event.start_mark.line + 1
                if kind is scalar:
                    value = resolve(event)
                    last = event.end_mark
                elif kind is map_start:
                    stack.append([{}, True, None, event.flow_style])
                    continue
                elif kind is seq_start:
                    stack.append([[], False, None, event.flow_style])
                    continue
                else:
                    raise _GiveUp  # an alias
                if top is None:
                    root = value
                    continue
            top = stack[-1]
            if top[1]:
                top[0][top[2]] = value
                top[2] = None
            else:
                top[0].append(value)
        if root is not None:
            filled += 1
            if filled > max_documents:
                raise _GiveUp
        out.append((index, root, (first, last_line)))
