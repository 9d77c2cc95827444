"""The results file: what the cluster stage proved, for exactly which bytes.

One JSON file, written by `kdocs test`, read by the site. Each record is one
finished unit's verdict on one snippet, keyed by the snippet's SHA-256, the
unit (a scenario by name, or the default check), the provider and the hashes
of every file the unit used (the scenario file, every file it applies, embed
specs and the topology file). A badge shows only records whose every input
still hashes the same on disk, so it can never describe other bytes, and
restoring a scenario byte for byte brings its recorded result back without a
new `kdocs test`.

Several `kdocs test` runs may share the file (two terminals, xdist workers):
a save takes a lock (flock on a file beside it), re-reads what others saved
meanwhile, adds this run's records and renames a temporary file into place,
so no run's result is lost and a reader never sees a half-written file.

Over 400 lines because the store and the merge of shard files share one
record format and its strict reading.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kdocs.errors import Location, UnusableInputError
from kdocs.filelock import flock

FORMAT_VERSION = 2
# Records kept per snippet and unit (older input versions beyond this are dropped): enough to
# restore a few earlier versions of a scenario, small enough for the file to stay small.
KEPT_VERSIONS = 8
CHECK = "check"
SCENARIO = "scenario"


@dataclass(frozen=True)
class ScenarioOutcome:
    name: str
    passed: bool
    # Hashes of every file the scenario used: a change to any of them reruns it.
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterResult:
    """What the site shows for one snippet: its records that match the files on disk."""

    snippet: str
    passed: bool
    provider: str
    kubernetes_version: str
    date: str  # ISO 8601, UTC
    checks: tuple[str, ...] = ()  # default checks that ran, e.g. "server-side apply"
    scenarios: tuple[ScenarioOutcome, ...] = ()
    message: str = ""
    # Hashes of every file the default check used (the snippet, an embed spec): skip-unchanged.
    inputs: dict[str, str] = field(default_factory=dict)
    # The command that re-checks a failure, e.g. `kdocs test snippets/x/y.scenario.yaml`.
    recheck: str = ""


@dataclass(frozen=True)
class UnitRecord:
    """One finished unit's verdict on one snippet, for these exact inputs."""

    snippet: str  # its path under snippets/
    sha256: str  # of the snippet's bytes
    kind: str  # SCENARIO | CHECK
    unit: str  # the scenario's name, or the snippet's path for the default check
    source: str  # the file `kdocs test` re-checks it with (project-relative)
    passed: bool
    provider: str
    kubernetes_version: str
    date: str  # ISO 8601, UTC
    checks: tuple[str, ...] = ()
    message: str = ""
    inputs: dict[str, str] = field(default_factory=dict)  # project-relative path -> SHA-256
    # The cluster as the badge names it ("kwok + Karpenter v1.14.1"); `provider` alone keys it.
    cluster: str = ""
    seconds: float = 0.0  # how long the unit ran (0: not recorded): proof pages, --shard

    @property
    def key(self) -> str:
        inputs = hashlib.sha256(json.dumps(sorted(self.inputs.items())).encode()).hexdigest()
        where = f"{self.provider}/{self.kubernetes_version}"  # one verdict per version
        return f"{self.sha256}/{self.kind}/{self.unit}/{where}/{inputs[:32]}"

    @property
    def minor(self) -> str:
        """ "1.34" for v1.34.4: the cluster version a record proves."""
        return minor_of(self.kubernetes_version)


def minor_of(version: str) -> str:
    """The minor version ("1.34") of a release ("v1.34.4", "v1.34.0-kind"), "" if none."""
    parts = version.removeprefix("v").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else ""


class ResultStore:
    """Read the results file, add records, save them merged with what others saved."""

    def __init__(self, path: Path, root: Path | None = None) -> None:
        self.path = path
        self.root = root if root is not None else _project_root(path)
        self._records: dict[str, UnitRecord] = self._read()
        self._by_sha: dict[str, list[UnitRecord]] | None = None  # index, rebuilt after changes
        self._pending: dict[str, UnitRecord] = {}
        self._hashes: dict[str, str | None] = {}

    def _read(self) -> dict[str, UnitRecord]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            where = Location(str(self.path))
            raise UnusableInputError(where, f"unreadable results file: {error}") from None
        try:
            raw = json.loads(data)  # bytes: a non-UTF-8 file is a ValueError here too
            if raw.get("format") != FORMAT_VERSION:
                return {}  # an older layout: results are cheap to reproduce, never misread
            records = (_record_from_json(value) for value in raw["records"].values())
            return {record.key: record for record in records}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise UnusableInputError(
                Location(str(self.path)),
                f"unreadable results file ({error}); delete it to start over",
            ) from None

    # -- writing ---------------------------------------------------------------

    def proven_snippets(self) -> set[str]:
        """Snippets some version of which passed: tells a stale badge from a new one."""
        return {record.snippet for record in self._records.values() if record.passed}

    def record(self, record: UnitRecord) -> None:
        """Add (or replace, for the same inputs) a record; `save` writes it."""
        self._records[record.key] = record
        self._by_sha = None
        self._pending[record.key] = record

    def save(self) -> None:
        """Merge this run's records into the file as it is now, atomically and under a lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with flock(self.path.with_name(f".{self.path.name}.lock")):
            merged = {**self._read(), **self._pending}
            merged = _pruned(merged)
            payload = {
                "format": FORMAT_VERSION,
                "records": {key: asdict(merged[key]) for key in sorted(merged)},
            }
            handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(payload, out, indent=1, sort_keys=True)
                    out.write("\n")
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        self._records, self._pending, self._by_sha = merged, {}, None

    # -- reading ---------------------------------------------------------------

    def durations(self) -> dict[str, float]:
        """The newest recorded duration of each unit, by "kind:name" (for sharding)."""
        out: dict[str, float] = {}
        for record in sorted(self._records.values(), key=lambda r: r.date):
            if record.seconds > 0:
                out[f"{record.kind}:{record.unit}"] = record.seconds
        return out

    def has(
        self, sha256: str, kind: str, unit: str, inputs: dict[str, str], minor: str | None = None
    ) -> bool:
        """Whether any provider recorded a verdict of this unit for exactly these inputs (on
        this minor version, when given)."""
        return any(
            r.kind == kind and r.unit == unit and r.inputs == inputs
            and (minor is None or r.minor == minor)
            for r in self.records(sha256)
        )  # fmt: skip

    def proven(
        self,
        sha256: str,
        kind: str,
        unit: str,
        provider: str,
        inputs: dict[str, str],
        minor: str | None = None,
    ) -> UnitRecord | None:
        """The newest record of this unit with exactly these inputs on this provider (and
        minor version, when given), if it passed: then the unit may be skipped. Else None."""
        found = [
            r for r in self.records(sha256)
            if (r.kind, r.unit, r.provider, r.inputs) == (kind, unit, provider, inputs)
            and (minor is None or r.minor == minor)
        ]  # fmt: skip
        return found[-1] if found and found[-1].passed else None

    def history(self, snippet: str) -> list[UnitRecord]:
        """Every record about any version of the snippet at this path, oldest first."""
        return sorted(
            (r for r in self._records.values() if r.snippet == snippet), key=lambda r: r.date
        )

    def is_current(self, record: UnitRecord) -> bool:
        """Whether every file the record used still hashes the same on disk."""
        return self._current(record)

    def records(self, sha256: str) -> list[UnitRecord]:
        """Every record about the snippet with these bytes, oldest first."""
        if self._by_sha is None:  # one pass, not one per snippet: big sites have many records
            self._by_sha = {}
            for record in sorted(self._records.values(), key=lambda r: r.date):
                self._by_sha.setdefault(record.sha256, []).append(record)
        return list(self._by_sha.get(sha256, ()))

    def lookup(self, sha256: str) -> ClusterResult | None:
        """What the site shows for the snippet with these bytes, from current records only.

        A record is current when every file it used hashes the same today. Per unit
        and Kubernetes version the newest current record counts; the scenarios'
        records when there are any (they prove more than the default check), else
        the default check's. A failure on any version fails the snippet, and the
        result names that version; a pass lists every version it passed on.
        """
        newest: dict[tuple[str, str, str], UnitRecord] = {}
        for record in self.records(sha256):
            if self._current(record):
                newest[(record.kind, record.unit, record.kubernetes_version)] = record
        chosen = [r for (kind, _, _), r in newest.items() if kind == SCENARIO]
        chosen = chosen or [r for (kind, _, _), r in newest.items() if kind == CHECK]
        if not chosen:
            return None
        chosen.sort(key=lambda r: (r.unit, _version_order(r.kubernetes_version)))
        latest = max(chosen, key=lambda r: r.date)
        failed = [r for r in chosen if not r.passed]
        versions = sorted({r.kubernetes_version for r in chosen}, key=_version_order)
        if failed:
            versions = sorted({r.kubernetes_version for r in failed}, key=_version_order)
        message = ""
        if failed:
            message = failed[0].message
            if len({r.kubernetes_version for r in chosen}) > 1:  # which one, when several
                message = f"on Kubernetes {failed[0].kubernetes_version}: {message}"
        scenarios = tuple(
            ScenarioOutcome(r.unit, r.passed, dict(r.inputs))
            for r in _one_per_unit(chosen) if r.kind == SCENARIO
        )  # fmt: skip
        checks = latest.checks if not scenarios else ("server-side apply",)
        return ClusterResult(
            snippet=latest.snippet, passed=not failed, provider=latest.cluster or latest.provider,
            kubernetes_version=", ".join(versions), date=latest.date, checks=checks,
            scenarios=scenarios, message=message,
            inputs=dict(latest.inputs) if not scenarios else {},
            recheck=f"kdocs test {failed[0].source}" if failed else "",
        )  # fmt: skip

    def _current(self, record: UnitRecord) -> bool:
        return all(self._hash(path) == digest for path, digest in record.inputs.items())

    def _hash(self, path: str) -> str | None:
        if path not in self._hashes:
            try:
                self._hashes[path] = hashlib.sha256((self.root / path).read_bytes()).hexdigest()
            except OSError:
                self._hashes[path] = None  # gone: no record that used it is current
        return self._hashes[path]


def shard_file(results_file: Path, label: str) -> Path:
    """Where shard `label` ("2-of-3") records: beside the results file, named for the shard."""
    return results_file.with_name(f"{results_file.stem}.shard-{label}{results_file.suffix}")


@dataclass(frozen=True)
class Merged:
    records: int  # records taken from the files
    failed: int  # of which failures


def merge_files(sources: list[Path], target: Path, root: Path | None = None) -> Merged:
    """Merge the records of `sources` (shards' results) into the results file `target`.

    A record of the same unit, snippet and inputs in two places keeps the newest
    (a failure wins a tie), so a failure in any shard stays a failure unless a
    later run passed. Two sources that disagree about the same key (one passed,
    one failed) are an error naming both files: shards run disjoint units, so
    that means two runs of one unit, and neither verdict may be dropped silently.
    """
    incoming: dict[str, tuple[UnitRecord, Path]] = {}
    for source in sources:
        for record in _strict_records(source):
            seen = incoming.get(record.key)
            if seen is not None and seen[0].passed != record.passed:
                verdicts = {True: "passed", False: "failed"}
                raise UnusableInputError(
                    Location(str(source)),
                    f"conflicting results for {record.kind} {record.unit!r} on {record.snippet}"
                    f" (same inputs): {verdicts[record.passed]} here,"
                    f" {verdicts[seen[0].passed]} in {seen[1]}",
                )
            if seen is None or _newer(record, seen[0]):
                incoming[record.key] = (record, source)
    store = ResultStore(target, root)
    for key, (record, _) in sorted(incoming.items()):
        present = store._records.get(key)
        if present is None or not _newer(present, record):
            store.record(record)
    store.save()
    chosen = [record for record, _ in incoming.values()]
    return Merged(len(chosen), sum(1 for r in chosen if not r.passed))


def _newer(record: UnitRecord, than: UnitRecord) -> bool:
    """Later date; on the same second, a failure beats a pass."""
    return (record.date, not record.passed) > (than.date, not than.passed)


def _strict_records(path: Path) -> list[UnitRecord]:
    """The records of a results file to merge: missing, unreadable or another format is exit 2."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UnusableInputError(Location(str(path)), f"cannot read: {error.strerror}") from None
    except ValueError as error:
        raise UnusableInputError(Location(str(path)), f"not a results file: {error}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_VERSION:
        found = raw.get("format") if isinstance(raw, dict) else None
        raise UnusableInputError(
            Location(str(path)), f"results format {found!r}, expected {FORMAT_VERSION}"
        )
    try:
        return [_record_from_json(value) for value in raw["records"].values()]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UnusableInputError(Location(str(path)), f"malformed record: {error}") from None


def _version_order(version: str) -> tuple[int, ...]:
    """v1.34.4 before v1.36.3 (numerically: v1.100 after v1.99)."""
    numbers = version.removeprefix("v").split("-")[0].split(".")
    return tuple(int(n) if n.isdigit() else 0 for n in numbers)


def _one_per_unit(records: list[UnitRecord]) -> list[UnitRecord]:
    """One record per unit for the scenario list: its failure if it failed on any version."""
    out: dict[str, UnitRecord] = {}
    for record in records:
        kept = out.get(record.unit)
        if kept is None or (kept.passed and not record.passed):
            out[record.unit] = record
    return sorted(out.values(), key=lambda r: r.unit)


def _pruned(records: dict[str, UnitRecord]) -> dict[str, UnitRecord]:
    """At most KEPT_VERSIONS records (newest) per snippet, unit, provider and cluster version."""
    groups: dict[tuple[str, ...], list[UnitRecord]] = {}
    for record in records.values():
        group = (
            record.sha256,
            record.kind,
            record.unit,
            record.provider,
            record.kubernetes_version,
        )
        groups.setdefault(group, []).append(record)
    kept: dict[str, UnitRecord] = {}
    for group in groups.values():
        for record in sorted(group, key=lambda r: r.date)[-KEPT_VERSIONS:]:
            kept[record.key] = record
    return kept


def _project_root(results_file: Path) -> Path:
    from kdocs.config import find_root

    return find_root(results_file.parent) or results_file.parent


def _record_from_json(value: dict) -> UnitRecord:
    return UnitRecord(
        snippet=str(value["snippet"]),
        sha256=str(value["sha256"]),
        kind=str(value["kind"]),
        unit=str(value["unit"]),
        source=str(value["source"]),
        passed=bool(value["passed"]),
        provider=str(value["provider"]),
        kubernetes_version=str(value["kubernetes_version"]),
        date=str(value["date"]),
        checks=tuple(value.get("checks", ())),
        message=str(value.get("message", "")),
        inputs={str(k): str(v) for k, v in dict(value.get("inputs", {})).items()},
        cluster=str(value.get("cluster", "")),
        seconds=float(value.get("seconds", 0.0)),
    )
