"""The on-disk cache of bundled schemas saves time and never changes a verdict.

Whole `kdocs validate` processes on the benchmark corpus (valid and invalid documents,
did-you-mean suggestions) plus a custom resource: the cache disabled, cold, warm,
damaged and unwritable must print byte for byte the same report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kdocs.schema import bundle
from kdocs.schema.registry import SCHEMA_ROOT

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import generate  # noqa: E402

VERSIONS = ("1.30", "1.37")


def _validate(work: Path, cache: Path, *, enabled: bool = True) -> tuple[int, str, str]:
    switch = "on" if enabled else "off"
    env = {**os.environ, "KDOCS_CACHE": str(cache), "KDOCS_SCHEMA_CACHE": switch}
    args = [sys.executable, "-m", "kdocs.cli", "validate", "-j", "1", "-o", "json"]
    for version in VERSIONS:
        args += ["-k", version]
    args += ["--crd-dir", str(REPO / "schemas" / "crds"), "corpus", "nodepool.yaml", "typo.yaml"]
    done = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def _entries(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "schemas").rglob("*.json") if p.is_file())


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bundle")
    generate(root / "corpus", 250)
    stable = (REPO / "tests" / "fixtures" / "schema" / "nodepool-stable.yaml").read_bytes()
    (root / "nodepool.yaml").write_bytes(stable)
    # a misspelt field, and a taint key against the CRD's regex (written with `\/` in it)
    typo = stable.replace(b"consolidateAfter", b"consolidatAfter")
    (root / "typo.yaml").write_bytes(typo.replace(b"nodepool/stable", b"nodepool//stable"))
    return root


@pytest.fixture(scope="module")
def disabled(work: Path) -> tuple[int, str, str]:
    result = _validate(work, work / "unused-cache", enabled=False)
    assert not (work / "unused-cache").exists(), "a disabled cache wrote entries"
    return result


def test_cold_and_warm_cache_give_the_report_of_no_cache(work: Path, disabled) -> None:
    code, out, err = disabled
    assert code == 1 and err == ""
    report = json.loads(out)
    assert any("did you mean" in json.dumps(f) for f in report["files"]), "no suggestion tested"
    (typo,) = [json.dumps(f) for f in report["files"] if f["path"] == "typo.yaml"]
    assert "consolidatAfter" in typo and "does not match" in typo, typo  # the CRD really checked
    assert all(f["valid"] for f in report["files"] if f["path"] == "nodepool.yaml")

    cache = work / "cache"
    assert _validate(work, cache) == disabled  # cold: entries made during the run
    entries = _entries(cache)
    kinds = {e.parent.name for e in entries if e.parent.parent.name.startswith("kubernetes-")}
    assert kinds == {f"v{v}.0-local-strict" for v in VERSIONS}
    assert len([e for e in entries if e.parent.name.startswith("crds-")]) == 1
    made = {e: e.read_bytes() for e in entries}
    assert _validate(work, cache) == disabled  # warm: entries read, none rewritten
    assert {e: e.read_bytes() for e in _entries(cache)} == made


def test_damaged_entries_are_rebuilt_never_used(work: Path, disabled) -> None:
    cache = work / "damaged"
    _validate(work, cache)
    entries = _entries(cache)
    good = {e: e.read_bytes() for e in entries}
    damage = [
        lambda b: b[: len(b) // 2],  # cut short
        lambda b: b.replace(b'"type":"string"', b'"type":"integer"', 1),  # one value changed
        lambda b: b"not json at all",
        lambda b: b"",
    ]
    for index, entry in enumerate(entries):
        entry.write_bytes(damage[index % len(damage)](good[entry]))
    assert _validate(work, cache) == disabled
    assert {e: e.read_bytes() for e in _entries(cache)} == good


def test_an_unwritable_cache_only_costs_time(work: Path, disabled) -> None:
    blocker = work / "not-a-folder"
    blocker.write_text("a file where the cache folder would be\n")
    assert _validate(work, blocker) == disabled


def test_a_stored_entry_is_what_is_used(tmp_path: Path) -> None:
    """The warm path really reads the entry (so the tests above compare two paths)."""
    source = SCHEMA_ROOT / "v1.33.0-local-strict" / "configmap-v1.json"
    cache = bundle.BundleCache(SCHEMA_ROOT, root=tmp_path)
    built = cache.schema(source)
    assert built is not None and "$defs" in built
    assert all(
        not r.startswith("/api/") for r in _strings_under("$ref", built)
    ), "a reference still points at the shared definitions"
    (entry,) = [p for p in tmp_path.rglob("configmap-v1.json")]

    signature = bundle._signature(source, source.parent / "_definitions.json")
    bundle.write_entry(entry, signature, {"description": "stored"})
    assert bundle.BundleCache(SCHEMA_ROOT, root=tmp_path).schema(source) == {
        "description": "stored"
    }
    stale = [[size + 1, mtime] for size, mtime in signature]  # the source changed since
    bundle.write_entry(entry, stale, {"description": "stored"})
    assert bundle.BundleCache(SCHEMA_ROOT, root=tmp_path).schema(source) == built


def _strings_under(key: str, node: object) -> list[str]:
    """Every string value of `key` anywhere in `node` (a schema's `$ref`s, descriptions)."""
    if isinstance(node, dict):
        found = [node[key]] if isinstance(node.get(key), str) else []
        return found + [r for value in node.values() for r in _strings_under(key, value)]
    if isinstance(node, list):
        return [r for value in node for r in _strings_under(key, value)]
    return []


def _copy_of_the_package(to: Path, version_folder: str, kind_file: str) -> Path:
    """Another virtualenv's copy of kubernetes-validate's files: same bytes, newer mtimes."""
    package = SCHEMA_ROOT.parent
    (to / "kubernetes-json-schema" / version_folder).mkdir(parents=True)
    (to / "version.py").write_bytes((package / "version.py").read_bytes())
    for name in (kind_file, "_definitions.json"):
        source = SCHEMA_ROOT / version_folder / name
        (to / "kubernetes-json-schema" / version_folder / name).write_bytes(source.read_bytes())
    return to / "kubernetes-json-schema"


def _sources_read(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The source files whose bytes the cache reads to match an entry (CRC-32)."""
    read: list[Path] = []
    crc = bundle._Content._crc

    def counted(self: bundle._Content, path: Path) -> list[int]:
        read.append(path)
        return crc(self, path)

    monkeypatch.setattr(bundle._Content, "_crc", counted)
    return read


def test_checkouts_with_their_own_virtualenvs_share_entries_and_read_sources_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version_folder, kind_file = "v1.33.0-local-strict", "configmap-v1.json"
    cache = tmp_path / "cache"
    mine = SCHEMA_ROOT / version_folder / kind_file
    built = bundle.BundleCache(SCHEMA_ROOT, root=cache).schema(mine)
    (entry,) = [p for p in cache.rglob(kind_file)]
    body = entry.read_bytes().partition(b"\n")[2]
    read = _sources_read(monkeypatch)

    other = _copy_of_the_package(tmp_path / "other-venv", version_folder, kind_file)
    source = other / version_folder / kind_file
    os.utime(source, ns=(1, 1))  # installed at another time: the cheap signature differs
    assert bundle.BundleCache(other, root=cache).schema(source) == built
    assert len(read) == 2  # the kind file and the shared definitions, matched by bytes
    assert entry.read_bytes().partition(b"\n")[2] == body  # shared, not rebuilt
    # Each checkout's next run matches by its own size and mtime, reading no source.
    for root in (other, SCHEMA_ROOT, other):
        path = root / version_folder / kind_file
        assert bundle.BundleCache(root, root=cache).schema(path) == built
    assert len(read) == 2, read
    # An entry remembers the last few checkouts, not every one it ever met.
    for stamp in range(3, 3 + bundle.KNOWN_SOURCES + 2):
        os.utime(source, ns=(stamp, stamp))
        assert bundle.BundleCache(other, root=cache).schema(source) == built
    meta = json.loads(entry.read_bytes().partition(b"\n")[0])
    assert len(meta["also"]) == bundle.KNOWN_SOURCES

    # The same size and mtime trick cannot hide different bytes: the entry is rebuilt.
    text = source.read_bytes()
    source.write_bytes(text.replace(b'"ConfigMap"', b'"ConfigMaP"', 1))
    os.utime(source, ns=(2, 2))
    rebuilt = bundle.BundleCache(other, root=cache).schema(source)
    assert rebuilt != built and "ConfigMaP" in json.dumps(rebuilt)


def test_descriptions_are_dropped_from_schema_positions_only() -> None:
    schema = {
        "description": "a kind",
        "type": "object",
        "properties": {
            "description": {"description": "the field's own", "type": "string"},
            "mode": {"enum": [{"description": "data, not an annotation"}], "default": "a"},
            "list": {"type": "array", "items": {"description": "x", "type": "integer"}},
        },
        "allOf": [{"description": "y", "required": ["mode"]}],
        "$defs": {"Thing": {"description": "z", "additionalProperties": {"description": "w"}}},
        "x-kubernetes-group-version-kind": [{"description": "an extension's data"}],
    }
    assert bundle.without_descriptions(schema) == {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "mode": {"enum": [{"description": "data, not an annotation"}], "default": "a"},
            "list": {"type": "array", "items": {"type": "integer"}},
        },
        "allOf": [{"required": ["mode"]}],
        "$defs": {"Thing": {"additionalProperties": {}}},
        "x-kubernetes-group-version-kind": [{"description": "an extension's data"}],
    }
    assert schema["description"] == "a kind"  # a copy: the shared definitions stay whole


def test_a_field_named_description_is_still_checked(tmp_path: Path) -> None:
    """PriorityClass has a `description` field: the bundle keeps it, typed and strict."""
    import jsonschema_rs

    source = SCHEMA_ROOT / "v1.33.0-local-strict" / "priorityclass-scheduling-v1.json"
    built = bundle.BundleCache(SCHEMA_ROOT, root=tmp_path).schema(source)
    assert built is not None
    assert not _strings_under("description", built), "a description is left in the bundle"
    valid = jsonschema_rs.validator_for(built).is_valid
    good = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "p"}, "value": 10, "description": "for the guide"}  # fmt: skip
    assert valid(good)
    assert not valid({**good, "description": 5})
    assert not valid({**good, "descriptoin": "a misspelt field"})
