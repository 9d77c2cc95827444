"""Read YAML files into Kubernetes documents that remember where every node is.

Like kubeconform's ``pkg/resource``: a file becomes a list of `Document`s
(one per YAML document, ``kind: *List`` expanded into its items), each with the
plain JSON-like value and a `Positions` map from JSON path to 1-based
``(line, col)``, so that a schema error can name ``file:line:col`` of the node.

Why events and not ``yaml.compose_all``: PyYAML's C composer recurses in C and
crashes the interpreter (SIGSEGV) on ~100,000 nested ``[`` — no exception to
catch.  We read libyaml's event stream (``yaml.CParser``, C speed, every event
carries its start mark) and build values, positions, anchors and merge keys
iteratively, so every limit is checked the moment it is crossed.

Most files are plain YAML (no anchor, alias, tag or merge key): those are read
first without positions (`kdocs.resource.quick`), and a document's positions are
read the first time it is asked where a node is (`LazyPositions`), which only a
document with a problem is.  Values, positions and errors are the same either way.

Scalars follow what ``kubectl`` (go-yaml v2) reads, not PyYAML where they differ:
``yes/no/on/off`` are booleans, ``0x1F``/``0o17``/``017``/``0b1`` integers, but
``8080:80`` (YAML 1.1 sexagesimal) and timestamps stay strings.  Mapping keys are
their scalar text.

Limits (all per file, all in `kdocs.resource.limits.Limits`; crossing one is an
`UnusableInputError`, exit 2):

* ``max_bytes`` (5 MiB): file size, checked before reading the whole file.
* ``max_depth`` (100): length of the JSON path of any node (root is 0), counting
  what an alias brings in where it is used.
* ``max_documents`` (1000): YAML documents in the file; empty ones (a trailing ``---``)
  do not count (they count against ``max_nodes``).
* ``max_nodes`` (1,000,000): scalars and collections, keys included, with every
  alias counted as the size of what it refers to.
* ``max_alias_nodes`` (10,000): nodes brought in through aliases; counted at each
  alias while building, so a "billion laughs" file stops at the alias that crosses
  it, after work and memory proportional to the limit, not to the expansion.

Other refusals, one line each:

* NUL byte (binary) or bytes that are not UTF-8: `UnusableInputError` with line:col.
* YAML syntax errors, tabs as indentation: `InvalidInputError` with line:col; the
  documents before the error are kept.
* Per document (the rest of the file is still read), `InvalidInputError`: duplicate
  key (at the second key), unknown alias, complex or unsupported-tag node, number
  JSON cannot hold, a document that is a scalar or list, missing or non-string
  ``apiVersion``/``kind``.  Documents that are empty (``---`` alone, comments,
  ``null``) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from kdocs.errors import InvalidInputError, KdocsError, Location, UnusableInputError
from kdocs.resource.events import EventBuilder, may_hold_go_escapes
from kdocs.resource.limits import DEFAULT_LIMITS, Limits
from kdocs.resource.positions import JsonPath, LazyPositions, Positions
from kdocs.resource.quick import quick_documents
from kdocs.resource.split import PieceFinder, check_separators
from kdocs.resource.text import check_text, line_col, read_bytes


@dataclass(frozen=True)
class Document:
    """One Kubernetes object read from a file (a List item is its own Document)."""

    file: str
    index: int  # 0-based number of the YAML document in the file
    prefix: JsonPath  # () or ("items", i) for an item of a List
    obj: dict[str, Any]
    positions: Positions = field(repr=False)
    lines: tuple[int, int]  # first and last line of the YAML document
    text: str = field(default="", repr=False)  # its exact text as kubectl cuts the file

    @property
    def api_version(self) -> str:
        return self.obj["apiVersion"]

    @property
    def kind(self) -> str:
        return self.obj["kind"]

    @property
    def name(self) -> str:
        meta = self.obj.get("metadata")
        if isinstance(meta, dict):
            for key in ("name", "generateName"):
                if isinstance(meta.get(key), str):
                    return meta[key]
        return ""

    def location(self, path: JsonPath, *, key: bool = False) -> Location:
        """file:line:col of the node at `path` (relative to this object)."""
        full = self.prefix + tuple(path)
        line, col = self.positions.key(full) if key else self.positions.value(full)
        return Location(self.file, line, col)


@dataclass
class ManifestFile:
    """What reading one file gave: its documents, and the problems found on the way."""

    path: str
    documents: list[Document]
    errors: list[KdocsError]


def read_manifests(
    path: Path | str, limits: Limits = DEFAULT_LIMITS, *, name: str | None = None
) -> ManifestFile:
    """Read one file; never raises for bad input (problems land in `.errors`).

    `name` is what messages call the file (default: `path` as given).
    """
    name = str(path) if name is None else name
    try:
        data = read_bytes(path, limits, name)
    except KdocsError as err:
        return ManifestFile(name, [], [err])
    return parse_manifests(data, name, limits)


def load_documents(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> list[Document]:
    """Read one file and raise its first problem; for callers that want all or nothing."""
    result = read_manifests(path, limits)
    if result.errors:
        raise result.errors[0]
    return result.documents


def read_yaml(
    path: Path | str, limits: Limits = DEFAULT_LIMITS, *, name: str | None = None
) -> list[tuple[Any, Positions]]:
    """Every non-empty YAML document of a file, whatever its shape, with positions.

    For YAML that is not a Kubernetes object (fragments, sidecars); raises the
    first problem as a KdocsError.
    """
    name = str(path) if name is None else name
    data = read_bytes(path, limits, name)
    out: list[tuple[Any, Positions]] = []
    try:
        check_text(data, name, limits)
        for _index, root, positions, _lines, doc_errors in EventBuilder(
            data, name, limits
        ).documents():
            if doc_errors:
                raise doc_errors[0]
            if root is not None:
                out.append((root, positions))
    except yaml.YAMLError as err:
        raise _yaml_error(err, data, name) from None
    except (RecursionError, MemoryError) as err:
        raise UnusableInputError(name, f"cannot read file: {err.__class__.__name__}") from None
    return out


def parse_manifests(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> ManifestFile:
    """Parse bytes already read; `name` is the file name used in every message."""
    out = ManifestFile(name, [], [])
    try:
        check_text(data, name, limits)
        check_separators(data, name)
        pieces = PieceFinder(data, name)
        quick = quick_documents(data, limits)
        if quick is not None:  # plain YAML: positions are read only if one is asked for
            for index, root, lines in quick:
                if root is None:
                    continue
                try:
                    text = pieces.text(*lines)
                    positions = LazyPositions(
                        partial(_positions_of, data, name, limits, index, lines[0])
                    )
                    out.documents.extend(_objects(name, index, root, positions, lines, text))
                except InvalidInputError as err:
                    out.errors.append(err)
            return out
        builder = EventBuilder(data, name, limits)
        for index, root, positions, lines, doc_errors in builder.documents():
            if doc_errors:
                out.errors.extend(doc_errors)
                continue
            if root is None:
                continue  # empty document: `---` alone, comments only, or null
            try:
                text = pieces.text(*lines)
                out.documents.extend(_objects(name, index, root, positions, lines, text))
            except InvalidInputError as err:
                out.errors.append(err)
    except KdocsError as err:
        out.errors.append(err)
    except yaml.YAMLError as err:
        out.errors.append(_yaml_error(err, data, name))
    except (RecursionError, MemoryError) as err:  # belt and braces: never a traceback
        out.errors.append(UnusableInputError(name, f"cannot read file: {err.__class__.__name__}"))
    return out


# Where libyaml starts a new line other than at "\n" (a lone or CRLF "\r", NEL, LS, PS):
# with none of these in a file, its line N starts after the (N-1)th "\n".
_OTHER_LINE_BREAKS = (b"\r", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")


def _positions_of(data: bytes, name: str, limits: Limits, index: int, first_line: int) -> Positions:
    """Read when a document is first asked where a node is: the file from the line its
    root starts on (a document of a quickly read file holds no anchor, alias or tag, so
    it reads alone as it reads in the file), else the whole file up to it."""
    plain_lines = not any(other in data for other in _OTHER_LINE_BREAKS)
    if first_line > 1 and plain_lines and not may_hold_go_escapes(data):
        start = -1
        for _ in range(first_line - 1):
            start = data.find(b"\n", start + 1)
        try:
            alone = EventBuilder(data[start + 1 :], name, limits).positions_of(0)
            return alone.shifted(first_line - 1)
        except (KdocsError, yaml.YAMLError):  # not expected; the whole file is exact anyway
            pass
    return EventBuilder(data, name, limits).positions_of(index)


def _yaml_error(err: yaml.YAMLError, data: bytes, name: str) -> InvalidInputError:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    if mark is not None:
        line, col = mark.line + 1, mark.column + 1
        if data.splitlines()[mark.line : mark.line + 1] and _char_at(data, mark) == "\t":
            problem = "tab character used for indentation (YAML indents with spaces only)"
        context = getattr(err, "context", None)
        if "unknown escape character '/'" in problem:
            problem = "\\/ in a double-quoted string: kubectl's YAML has no such escape; write /"
            context = None
        if context and "tab" not in problem:
            problem = f"{problem} ({context})"
        return InvalidInputError(Location(name, line, col), f"invalid YAML: {problem}")
    if isinstance(err, yaml.reader.ReaderError):  # a character YAML does not allow
        line, col = line_col(data, min(err.position, len(data)))
        reason = f"invalid YAML: {err.reason} (character #x{err.character:04x})"
        return InvalidInputError(Location(name, line, col), reason)
    return InvalidInputError(name, f"invalid YAML: {problem}")


def _char_at(data: bytes, mark: Any) -> str:
    text = data.splitlines()[mark.line].decode("utf-8", "replace")
    return text[mark.column] if mark.column < len(text) else ""


# --- documents -> Kubernetes objects -----------------------------------------------


def _objects(
    name: str, index: int, root: Any, positions: Positions, lines: tuple[int, int], text: str
) -> list[Document]:
    """Check that a document is a Kubernetes object; expand `kind: *List` into items."""
    if not isinstance(root, dict):
        what = "a list" if isinstance(root, list) else f"a scalar ({type(root).__name__})"
        raise InvalidInputError(
            Location(name, *positions.value(())),
            f"document {index + 1} is {what}, not a Kubernetes object "
            "(a mapping with apiVersion and kind)",
        )
    out: list[Document] = []
    pending: list[tuple[JsonPath, dict[str, Any]]] = [((), root)]
    while pending:
        prefix, obj = pending.pop()
        doc = Document(name, index, prefix, obj, positions, lines, text)
        for field_name in ("apiVersion", "kind"):
            value = obj.get(field_name)
            if field_name not in obj:
                raise InvalidInputError(doc.location(()), f"missing {field_name}")
            if not isinstance(value, str) or not value:
                raise InvalidInputError(
                    doc.location((field_name,)), f"{field_name} must be a non-empty string"
                )
        items = obj.get("items")
        if obj["kind"].endswith("List") and isinstance(items, list):
            for i in range(len(items) - 1, -1, -1):
                item_prefix = prefix + ("items", i)
                if not isinstance(items[i], dict):
                    raise InvalidInputError(
                        Location(name, *positions.value(item_prefix)),
                        f"{obj['kind']} item {i} is not a Kubernetes object",
                    )
                pending.append((item_prefix, items[i]))
            continue
        out.append(doc)
    return out
