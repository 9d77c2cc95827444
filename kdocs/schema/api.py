"""Public entry of the schema stage: validate files and folders, get one Report.

    from kdocs.schema.api import validate_paths
    report = validate_paths([Path("snippets")], versions=["1.30", "1.37"],
                            crd_dirs=[Path("schemas/crds")])
    for line in report.lines(): print(line)
    sys.exit(report.exit_code)

* `paths`: files (any name) or folders (every ``*.yaml``/``*.yml`` below, sorted;
  scenario files and embed sidecars, see `kdocs.catalog`, are skipped).  A file
  with an embed sidecar is validated merged into its host (`kdocs.resource.embed`).
* `versions`: Kubernetes minors like ``"1.31"`` (``v1.31``/``1.31.2`` accepted);
  None means every shipped minor from 1.30 on (`registry.default_versions`).
* `crd_dirs`: folders of CRD files; every served version of every CRD in them
  becomes a schema for its custom resources.

Exit code policy (`Report.exit_code`): 2 if any input was unusable (missing,
binary or non-UTF-8 file, a limit crossed, unknown Kubernetes version, bad CRD),
else 1 if anything was checked and found wrong (YAML error, duplicate key,
not an object, schema error, no schema for a kind), else 0.

Compiled schemas are cached per process by (versions, CRD folders), so many
calls (the site build validates snippet by snippet) compile each schema once.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kdocs.errors import ExitCode, KdocsError, UnusableInputError
from kdocs.resource.embed import read_snippet
from kdocs.resource.limits import DEFAULT_LIMITS, Limits
from kdocs.schema.crd import load_crd_dirs
from kdocs.schema.registry import (
    DEFAULT_TEMPLATE,
    SchemaRegistry,
    default_versions,
    normalize_version,
    shipped_versions,
)
from kdocs.schema.validator import DocumentResult, Validator
from kdocs.versions import version_span

YAML_SUFFIXES = (".yaml", ".yml")
YOUNG_GC_THRESHOLD = 10_000  # allocations between young collections while validating


@dataclass
class FileReport:
    """One file: the result of each Kubernetes object in it, and what could not be read."""

    path: str
    documents: list[DocumentResult] = field(default_factory=list)
    errors: list[KdocsError] = field(default_factory=list)
    scenario: bool = False  # a scenario file, linted (kdocs.scenario.lint), not validated

    @property
    def valid(self) -> bool:
        return not self.errors and all(d.valid for d in self.documents)


@dataclass
class Report:
    """Everything one validation run found."""

    versions: tuple[str, ...]
    files: list[FileReport] = field(default_factory=list)
    errors: list[KdocsError] = field(default_factory=list)  # not about one file
    scenarios_checked: bool = False  # the summary then counts the scenarios, even 0

    @property
    def exit_code(self) -> int:
        problems = [*self.errors, *(e for f in self.files for e in f.errors)]
        if any(e.exit_code == ExitCode.UNUSABLE for e in problems):
            return int(ExitCode.UNUSABLE)
        if problems or any(not f.valid for f in self.files):
            return int(ExitCode.FAILED)
        return int(ExitCode.OK)

    @property
    def documents(self) -> list[DocumentResult]:
        return [d for f in self.files for d in f.documents]

    def lines(self) -> Iterator[str]:
        """One line per problem, in file order (the text output without the summary)."""
        for error in self.errors:
            yield str(error)
        for report in self.files:
            for error in report.errors:
                yield str(error)
            for document in report.documents:
                for problem in document.problems:
                    yield problem.text()

    def summary(self) -> str:
        docs = self.documents
        invalid = sum(not d.valid for d in docs)
        manifests = [f for f in self.files if not f.scenario]
        errors = len(self.errors) + sum(len(f.errors) for f in manifests)
        text = (
            f"{len(manifests)} files, {len(docs)} resources: {len(docs) - invalid} valid, "
            f"{invalid} invalid, {errors} unreadable or malformed"
        )
        if self.scenarios_checked:
            scenarios = [f for f in self.files if f.scenario]
            clean = sum(f.valid for f in scenarios)
            bad = len(scenarios) - clean
            linted = f"{len(scenarios)} scenarios: {clean} clean, {bad} with problems"
            text = f"{text}; {linted}" if manifests or errors else linted
        return text + (f" [k8s {version_span(self.versions)}]" if self.versions else "")


class Engine:
    """A registry and validator for one set of versions and CRD folders."""

    def __init__(self, versions: tuple[str, ...], crd_dirs: tuple[Path, ...], templates: tuple):
        self.versions = versions
        self.registry = SchemaRegistry(templates, load_crd_dirs(crd_dirs))
        self.validator = Validator(self.registry, versions)


_ENGINES: dict[tuple, Engine] = {}


def engine_for(
    versions: Sequence[str] | None = None,
    crd_dirs: Sequence[Path] = (),
    templates: Sequence[str] = (DEFAULT_TEMPLATE,),
) -> Engine:
    """The cached engine for these settings; raises UnusableInputError for bad settings."""
    wanted = tuple(normalize_version(v) for v in versions) if versions else ()
    shipped = shipped_versions()
    missing = [v for v in wanted if v not in shipped]
    if missing and tuple(templates) == (DEFAULT_TEMPLATE,):
        raise UnusableInputError(
            None,
            f"no schemas for Kubernetes {', '.join(missing)} (shipped: {shipped[0]}-{shipped[-1]})",
        )
    wanted = tuple(dict.fromkeys(wanted)) or tuple(default_versions())
    key = (wanted, tuple(p.resolve() for p in crd_dirs), tuple(templates))
    if key not in _ENGINES:
        _ENGINES[key] = Engine(wanted, key[1], key[2])
    return _ENGINES[key]


def release_engines() -> int:
    """Forget every cached engine (schemas and validators); returns how many there were.

    A long-lived process that is done validating (a full site build once every page's
    snippets are checked) calls this so the ~50 MiB of 8 versions do not stay held; a
    later `engine_for` compiles again what it needs.
    """
    count = len(_ENGINES)
    _ENGINES.clear()
    return count


def cached_engines() -> int:
    """How many engines are compiled and held now."""
    return len(_ENGINES)


def validate_file(
    path: Path, engine: Engine, *, name: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> FileReport:
    """Read and validate one file; `name` is what messages call it."""
    loaded = read_snippet(path, limits, name=name)
    report = FileReport(loaded.path, errors=list(loaded.errors))
    report.documents = [engine.validator.validate(d) for d in loaded.documents]
    return report


def yaml_files(folder: Path) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file below `folder`, sorted (scenarios and specs too)."""
    return sorted(p for p in folder.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


def expand_paths(
    paths: Sequence[Path], listed: Mapping[Path, list[Path]] | None = None
) -> tuple[list[Path], list[KdocsError]]:
    """Files as given, folders as their YAML files; missing paths are errors.

    `listed`: `yaml_files` of folders already walked (a large folder takes a while)."""
    files: list[Path] = []
    errors: list[KdocsError] = []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            from kdocs.catalog import is_embed_spec, is_scenario  # not needed for files

            every = (listed or {}).get(path) or yaml_files(path)
            found = [p for p in every if not is_scenario(p) and not is_embed_spec(p)]
            if not found:
                errors.append(UnusableInputError(str(path), "no .yaml or .yml files in folder"))
            files.extend(found)
        else:
            errors.append(UnusableInputError(str(path), "no such file or folder"))
    return files, errors


def validate_paths(
    paths: Sequence[Path],
    versions: Sequence[str] | None = None,
    crd_dirs: Sequence[Path] = (),
    *,
    limits: Limits = DEFAULT_LIMITS,
    templates: Sequence[str] = (DEFAULT_TEMPLATE,),
    jobs: int | None = 1,
    listed: Mapping[Path, list[Path]] | None = None,
) -> Report:
    """Validate files and folders for every version; never raises for bad input.

    `jobs`: worker processes for many files (None: one per core, see `_workers`);
    the report is the same, in the same order, whatever it is.  `listed`: see `expand_paths`.
    """
    try:
        engine = engine_for(versions, crd_dirs, templates)
    except KdocsError as err:
        return Report((), errors=[err])
    report = Report(engine.versions)
    files, report.errors = expand_paths(paths, listed)
    workers = _workers(jobs, files)
    with _fewer_collections():
        if workers > 1:
            report.files = _validate_in_parallel(files, engine, limits, workers)
        else:
            report.files = [_validate_one(path, engine, limits) for path in files]
    return report


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Reading YAML allocates many small containers that refcounting frees; at the default
    threshold (700) the cycle collector runs every few documents for nothing, ~10 % of a
    large run (measured on 10,000 documents). Cycles are still collected, only later."""
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GC_THRESHOLD), *older)
    try:
        yield
    finally:
        gc.set_threshold(young, *older)


def _validate_one(path: Path, engine: Engine, limits: Limits) -> FileReport:
    try:
        return validate_file(path, engine, limits=limits)
    except KdocsError as err:  # a schema that cannot be compiled, for instance
        return FileReport(str(path), errors=[err])


# --- many files: worker processes ---------------------------------------------------
# Reading YAML (~0.03 ms for a 40-line document in C, 0.1 ms in Python) is much of the
# work; files are independent, so a large run is split over forked workers.  Each
# inherits the engine (with what the first files compiled) and compiles what else its
# own files need; results come back in file order.
# Below ~1 MiB of YAML (2 cores, the C reader) starting them and compiling each schema
# in two processes costs what they save: 0.6 MiB broke even for one version and for
# eight, 1.2 MiB gained 9 % for one version and broke even for eight, 1.8 MiB gained
# 12 % and 10 %.  (Where the reader's C loop is not built, workers gain sooner: 7 % at
# 0.6 MiB, 17 % at 1.2 MiB for one version.)

PARALLEL_MIN_BYTES = 1 << 20
MAX_WORKERS = 4
HEAD_FRACTION = 16  # at most this share of the files is validated before forking (1/16)
HEAD_SETTLED = 16  # ...and no more once this many files in a row needed no new kind


def _workers(jobs: int | None, files: Sequence[Path]) -> int:
    if jobs is not None:
        return max(1, min(jobs, len(files)))
    if len(files) < 2 or "fork" not in _start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if cores < 2:
        return 1
    total = 0
    for path in files:
        try:
            total += os.stat(path).st_size
        except OSError:
            continue
        if total >= PARALLEL_MIN_BYTES:
            return min(cores, MAX_WORKERS, len(files))
    return 1


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


_WORKER_ENGINE: tuple[Engine, Limits] | None = None


def _validate_in_parallel(
    files: list[Path], engine: Engine, limits: Limits, workers: int
) -> list[FileReport]:
    import multiprocessing

    global _WORKER_ENGINE
    # The first files are done here, before forking: the schemas they need (most kinds
    # of a typical run) are then compiled once and shared by every worker, instead of
    # compiled, and held in memory, once per worker.
    done = _validate_head(files, engine, limits)
    rest = files[len(done) :]
    # Chunks of contiguous files: few round trips, yet balanced when files differ in size.
    size = max(1, min(64, len(rest) // (workers * 8)))
    chunks = [rest[i : i + size] for i in range(0, len(rest), size)]
    _WORKER_ENGINE = (engine, limits)  # inherited by the forked workers
    pool = None
    # Ctrl-C waits until the workers exist: one arriving during a fork would be lost in
    # the fork handlers (logging's, for one), and the run would go on.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        try:
            pool = multiprocessing.get_context("fork").Pool(workers, _quiet_worker)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        packed = pool.map(_validate_chunk, chunks, chunksize=1)
    except OSError:  # cannot fork here (limits, sandbox): do it in this process
        return done + [_validate_one(path, engine, limits) for path in rest]
    finally:
        _WORKER_ENGINE = None
        if pool is not None:
            pool.terminate()
    return done + [_unpack(item) for chunk in packed for item in chunk]


def _validate_head(files: list[Path], engine: Engine, limits: Limits) -> list[FileReport]:
    """The first files, until the kinds they use stop growing: the other core waits
    meanwhile, so the head ends as soon as it has most likely met the run's kinds (a
    kind met later is compiled by the worker that meets it)."""
    most = max(1, len(files) // HEAD_FRACTION)
    done: list[FileReport] = []
    kinds, settled = engine.validator.kinds_seen, 0
    for path in files[:most]:
        done.append(_validate_one(path, engine, limits))
        settled = settled + 1 if engine.validator.kinds_seen == kinds else 0
        kinds = engine.validator.kinds_seen
        if settled >= HEAD_SETTLED:
            break
    return done


def _quiet_worker() -> None:
    """Ctrl-C is the parent's to handle (it stops the pool and says `interrupted`); a
    worker must not print a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _validate_chunk(paths: list[Path]) -> list[FileReport]:
    assert _WORKER_ENGINE is not None
    engine, limits = _WORKER_ENGINE
    return [_pack(_validate_one(path, engine, limits)) for path in paths]


def _pack(report: FileReport) -> FileReport:
    """Errors as (class, location, reason): a KdocsError does not survive pickling as is."""
    report.errors = [(type(e), e.location, e.reason) for e in report.errors]  # type: ignore[misc]
    return report


def _unpack(report: FileReport) -> FileReport:
    errors: list[KdocsError] = []
    for cls, location, reason in report.errors:  # type: ignore[misc]
        error = cls.__new__(cls)
        error.location, error.reason = location, reason
        Exception.__init__(error, str(error))
        errors.append(error)
    report.errors = errors
    return report
