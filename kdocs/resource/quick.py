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

Where kdocs was installed with libyaml's headers at hand, the same loop runs in C
(`_quickc.c`, ~3.5x faster on the benchmark corpus): PyYAML turning each event and its
two marks into Python objects was most of the time spent here.  It is used only when it
was linked with the libyaml version PyYAML carries (the same parser) and the file holds
no escape go-yaml reads apart (`event_parser` would switch parsers); anywhere else, the
Python loop below runs, with the same results.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml import events as ev

from kdocs.resource import scalars
from kdocs.resource.events import event_parser, may_hold_go_escapes
from kdocs.resource.limits import Limits
from kdocs.resource.scalars import DocError

QuickDocument = tuple[int, Any, tuple[int, int]]  # index, value, first and last line


class _GiveUp(Exception):
    """Not the plain case: `EventBuilder` reads this file."""


# The rules of `_documents`, numbered: bump it and `RULES` in `_quickc.c` together with
# any change of them, so that a C module built from an older copy is not used.
RULES = 1


def _accelerator() -> Any:
    """The C loop, if it was built against the libyaml PyYAML carries and from the
    rules of this file; else None."""
    try:
        from yaml._yaml import get_version

        from kdocs.resource import _quickc  # type: ignore[attr-defined]
    except ImportError:  # built without libyaml's headers (optional): the Python loop
        return None
    if getattr(_quickc, "RULES", None) != RULES or _quickc.libyaml_version() != get_version():
        return None
    return _quickc


ACCELERATOR = _accelerator()
_NO_MARK = yaml.Mark("", 0, 0, 0, None, None)  # plain()'s errors are never kept here


def quick_documents(data: bytes, limits: Limits) -> list[QuickDocument] | None:
    """Every YAML document of `data` as (index, value, lines), or None: read it in full."""
    if ACCELERATOR is not None and not may_hold_go_escapes(data):
        return ACCELERATOR.documents(
            data, scalars.plain, _NO_MARK, scalars.RESOLVED_WORDS, DocError,
            limits.max_nodes, limits.max_depth, limits.max_documents,
        )  # fmt: skip
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
    plain, number_like, words = scalars.plain, scalars.NUMBER_LIKE_START, scalars.RESOLVED_WORDS
    max_nodes, max_depth, max_documents = limits.max_nodes, limits.max_depth, limits.max_documents
    nodes = 0  # keys and values of the whole file, as EventBuilder counts them
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
        root: Any = None
        last: Any = None  # end mark of the last scalar or flow collection
        # the open collection (None: at the root), whether it is a mapping, the key
        # waiting for its value, whether it is a [flow] or {flow} one; then the enclosing ones
        cur: Any = None
        is_map, key, flow = False, None, False
        stack: list[tuple[Any, bool, Any, bool]] = []
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar:
                if event.anchor is not None or event.tag is not None:
                    raise _GiveUp  # anchors and tags: the full reader
                text = event.value
                if is_map and key is None:
                    if (
                        text in cur
                        or text == "<<"
                        or (event.implicit[0] and (not text or text[0] in number_like))
                        or (event.implicit[0] and text in words)
                    ):
                        raise _GiveUp  # a key that repeats, merges or resolves (yes:, 80:)
                    nodes += 1
                    key = text
                    continue
                nodes += 1
                value = text  # scalars.resolve for an untagged scalar, inlined
                if event.implicit[0] and (not text or text[0] in number_like or text in words):
                    value = plain(text, event.start_mark)
                last = event.end_mark
                if cur is None:
                    first = last_line = event.start_mark.line + 1
            elif kind is map_start or kind is seq_start:
                if event.anchor is not None or event.tag is not None or (is_map and key is None):
                    raise _GiveUp  # anchors, tags, a collection as a key
                if len(stack) >= max_depth:
                    raise _GiveUp  # it or its items would be deeper than max_depth
                nodes += 1
                if cur is None:
                    first = last_line = event.start_mark.line + 1
                stack.append((cur, is_map, key, flow))
                cur = {} if kind is map_start else []
                is_map, key, flow = kind is map_start, None, event.flow_style
                continue
            elif kind is map_end or kind is seq_end:
                if flow:
                    last = event.end_mark
                value = cur
                cur, is_map, key, flow = stack.pop()
            elif kind is doc_end:
                if last is not None:
                    last_line = max(last_line, last.line + (last.column > 0))
                break
            else:
                raise _GiveUp  # an alias
            # a scalar or a finished collection: into its parent
            if cur is None:
                root = value
            elif is_map:
                cur[key] = value
                key = None
            else:
                cur.append(value)
        if nodes > max_nodes:
            raise _GiveUp
        if root is not None:
            filled += 1
            if filled > max_documents:
                raise _GiveUp
        out.append((index, root, (first, last_line)))
