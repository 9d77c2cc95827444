"""Per-kind bundled schemas, cached on disk: each machine prepares a kind once, not every run.

kubernetes-validate ships each kind's schema apart from one shared
``_definitions.json`` per version (1.4 MB).  Compiling a kind against it means
reading and compiling that whole file first (~25 ms), which is most of what a
one-file ``kdocs validate`` waits for.  A bundled schema is the kind's schema with
only the definitions it reaches under its own ``$defs`` (references made local,
kubeconform's preferred layout), without the ``description`` annotations, which
no verdict or message reads and which are 70-80 % of the text: ~15-50 KB, compiled
in a few milliseconds, the same verdicts (tests/schema/test_bundle_cache.py checks
cold, warm and disabled give the same output). Without descriptions, many kinds'
bundles are byte-identical across versions (Service in all 8 served here, against
4 distinct texts with them), so a site checks a document once per distinct text
(`SchemaRegistry.schema_key`).

Where: ``<cache root>/schemas/kubernetes-validate-<version>-b<FORMAT>/v1.NN/<kind file>``,
the cache root being ``$KDOCS_CACHE`` or ``~/.cache/kdocs``.  Each entry is one
header line (CRC-32 and length of the body; size and mtime, and size and CRC-32, of the
two source files) and the JSON body; written to a temporary file and renamed, so a
reader sees a whole entry or none.  Sources match by size and mtime, or else by their
bytes: another checkout's virtualenv installed the same files at another time. It then
adds its own sizes and mtimes to the entry (the last `KNOWN_SOURCES`), so that its next
runs match without reading the sources again.  An entry whose digest or sources do not
match is rebuilt, never used.  ``KDOCS_SCHEMA_CACHE=off`` disables the cache (schemas
are then compiled against the shared definitions, as before); an unwritable cache only
costs time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 2  # bump when the bundled layout changes: old entries are then never read
# Source signatures an entry remembers: a few checkouts share it and none re-reads the
# sources at each run (re-reading them cost a 1-page full build 1.4 % of its instructions)
KNOWN_SOURCES = 4
DEFINITIONS_REF = "/api/_definitions.json#/$defs/"
LOCAL_REF = "#/$defs/"
_VERSION = re.compile(r"""__version__\s*=\s*['"]([^'"]+)['"]""")


def enabled() -> bool:
    return os.environ.get("KDOCS_SCHEMA_CACHE", "").lower() not in ("0", "off", "no", "false")


def cache_root() -> Path:
    """The machine-wide kdocs cache (the same root the cluster stage uses)."""
    configured = os.environ.get("KDOCS_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "kdocs"


class BundleCache:
    """Bundled schemas of one schema folder tree (kubernetes-validate's), per process."""

    def __init__(self, schema_root: Path, root: Path | None = None) -> None:
        self.schema_root = schema_root
        self._folder: Path | None = None
        self._root = root
        self._definitions: dict[Path, dict[str, Any]] = {}  # only while building entries
        self._crcs: dict[Path, list[int]] = {}  # size and CRC-32 of source files read

    @property
    def folder(self) -> Path:
        if self._folder is None:
            version = _package_version(self.schema_root.parent)
            self._folder = (self._root or cache_root()) / "schemas" / (
                f"kubernetes-validate-{version}-b{FORMAT}"
            )
        return self._folder

    def schema(self, path: Path) -> dict[str, Any] | None:
        """The bundled schema of the kind file `path`, from the cache or made now;
        None when it cannot be bundled (a reference outside the shared definitions)."""
        body = self.body(path)
        if body is None:
            return None
        try:
            schema = json.loads(body)
        except ValueError:
            return None
        return schema if isinstance(schema, dict) else None

    def body(self, path: Path) -> bytes | None:
        """The bundled schema of `path` as the JSON text the cache holds; equal texts are
        equal schemas, so two versions whose texts match validate alike."""
        definitions = path.parent / "_definitions.json"
        try:
            signature = _signature(path, definitions)
        except OSError:
            return None
        entry = self.folder / path.parent.name / path.name
        content = _Content(self._crcs, (path, definitions))
        cached = read_body(entry, signature, content)
        if cached is not None:
            return cached
        schema = self._bundle(path, definitions)
        if schema is None:
            return None
        return write_entry(entry, signature, schema, content())

    def forget(self, folder: Path) -> None:
        """Drop the shared definitions read to build entries of one version's folder."""
        self._definitions.pop(folder / "_definitions.json", None)

    def _bundle(self, path: Path, definitions_path: Path) -> dict[str, Any] | None:
        try:
            definitions = self._definitions.get(definitions_path)
            if definitions is None:
                definitions = json.loads(definitions_path.read_bytes())["$defs"]
                self._definitions[definitions_path] = definitions
        except (OSError, ValueError, KeyError, TypeError):
            return None  # the registry reads the files itself and says what is wrong
        return bundle_kind(path, definitions)


def bundle_kind(path: Path, definitions: Any) -> dict[str, Any] | None:
    """The kind file `path` with the `definitions` (a version's ``$defs``) it reaches
    under its own ``$defs``, references made local; None if it cannot be bundled."""
    try:
        schema = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(schema, dict) or not isinstance(definitions, dict):
        return None
    if "$defs" in schema:
        return None  # a layout this was not made for: keep the shared definitions
    wanted: set[str] = set()
    pending = _localize(schema)
    if pending is None:
        return None
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        if name not in definitions:
            return None
        wanted.add(name)
        more = _localize(definitions[name])
        if more is None:
            return None
        pending |= more
    schema["$defs"] = {name: definitions[name] for name in sorted(wanted)}
    return without_descriptions(schema)


# Keywords whose value is a schema, a list of schemas, or a map of names to schemas
# (draft 2020-12 and the older ones the shipped files use); any other keyword's value is
# data (`enum`, `const`, `default`, extensions) and is kept as it is.
_SCHEMA = frozenset({"additionalProperties", "items", "not", "if", "then", "else", "contains",
                     "propertyNames", "unevaluatedItems", "unevaluatedProperties",
                     "additionalItems", "allOf", "anyOf", "oneOf", "prefixItems"})  # fmt: skip
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions",
                          "dependentSchemas"})  # fmt: skip


def without_descriptions(node: Any) -> Any:
    """A copy of the schema `node` without the `description` annotation of any schema in it.
    Only schema positions are walked: a field named ``description`` (PriorityClass has
    one) is a key of `properties` and stays, as do values inside `enum` or `default`."""
    if isinstance(node, list):
        return [without_descriptions(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description" and isinstance(value, str):
            continue
        if key in _SCHEMA:
            value = without_descriptions(value)
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            value = {name: without_descriptions(item) for name, item in value.items()}
        out[key] = value
    return out


def _localize(node: Any) -> set[str] | None:
    """Rewrite every ``$ref`` into the shared definitions to a local one (in place) and
    return the definition names reached; None if any other reference is found."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                if ref.startswith(DEFINITIONS_REF):
                    item["$ref"] = ref = LOCAL_REF + ref[len(DEFINITIONS_REF) :]
                if not ref.startswith(LOCAL_REF) or "/" in ref[len(LOCAL_REF) :]:
                    return None
                found.add(ref[len(LOCAL_REF) :].replace("~1", "/").replace("~0", "~"))
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _signature(*paths: Path) -> list[list[int]]:
    return [[s.st_size, s.st_mtime_ns] for s in (os.stat(p) for p in paths)]


class _Content:
    """The size and CRC-32 of each source file, read only when the cheap signature (size
    and mtime) does not match. Checkouts with their own virtualenvs install the same
    schema files at different times: they share an entry by its sources' bytes, and each
    adds its cheap signature to it once (`read_body`)."""

    def __init__(self, memo: dict[Path, list[int]], paths: tuple[Path, ...]) -> None:
        self._memo = memo
        self._paths = paths

    def __call__(self) -> list[list[int]] | None:
        try:
            return [self._crc(path) for path in self._paths]
        except OSError:
            return None

    def _crc(self, path: Path) -> list[int]:
        if path not in self._memo:
            data = path.read_bytes()
            self._memo[path] = [len(data), zlib.crc32(data)]
        return self._memo[path]


def read_entry(entry: Path, signature: list[Any]) -> dict[str, Any] | None:
    body = read_body(entry, signature)
    try:
        schema = json.loads(body) if body is not None else None
    except ValueError:
        return None
    return schema if isinstance(schema, dict) else None


def read_body(
    entry: Path, signature: list[Any], content: Callable[[], list[Any] | None] | None = None
) -> bytes | None:
    """An entry's JSON text, if its digest matches and its sources do: by `signature` (or
    one it learnt), or else by the `content` signature stored beside it (computed only
    then), in which case the entry learns `signature`."""
    try:
        data = entry.read_bytes()
        header, _, body = data.partition(b"\n")
        meta = json.loads(header)
        learnt = list(meta.get("also", []))
        new_sources = signature != meta.get("sources") and signature not in learnt
        if new_sources:
            stored = meta.get("content")
            if content is None or stored is None or stored != content():
                return None
        if [len(body), zlib.crc32(body)] != meta.get("body"):
            return None
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    if new_sources:  # best effort: another checkout adding its own at once costs a re-read
        meta["also"] = [*learnt, signature][-KNOWN_SOURCES:]
        _store(entry, json.dumps(meta).encode(), body)
    return body


def write_entry(
    entry: Path, signature: list[Any], schema: dict[str, Any], content: list[Any] | None = None
) -> bytes:
    """Store an entry (best effort) and return its JSON text."""
    body = json.dumps(schema, separators=(",", ":")).encode()
    # CRC-32, not sha256: it catches a damaged entry as well, and hashlib's import
    # (OpenSSL) alone costs more than reading the entry
    meta: dict[str, Any] = {"body": [len(body), zlib.crc32(body)], "sources": signature}
    if content is not None:
        meta["content"] = content
    _store(entry, json.dumps(meta).encode(), body)
    return body


def _store(entry: Path, header: bytes, body: bytes) -> None:
    """Write an entry whole under a temporary name, then rename it: a reader sees the old
    entry or the new one, never a part."""
    staged = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(header + b"\n" + body)
        os.replace(staged, entry)
    except OSError:  # read-only or full: validation goes on, only slower next time
        with contextlib.suppress(OSError):
            staged.unlink()


def _package_version(package_dir: Path) -> str:
    """kubernetes-validate's version, read from its version.py (importing the package
    costs ~60 ms of jsonschema we do not use); 'unknown' keeps the cache apart."""
    try:
        match = _VERSION.search((package_dir / "version.py").read_text())
    except OSError:
        match = None
    return re.sub(r"[^A-Za-z0-9._-]", "_", match[1]) if match else "unknown"
