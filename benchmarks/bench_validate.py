"""Schema validation throughput: kdocs, kubeconform and kubernetes-validate, side by side.

The three tools read the same generated corpus (`corpus.py`) and the same schema
files: the strict schemas that kubernetes-validate ships, which kdocs uses too.
kubeconform is built from its Go module (pinned in ``benchmarks/kubeconform/``) and
pointed at that folder with a ``-schema-location`` template; those schemas refer
to ``https://kubernetes.io/api/_definitions.json``, which kubeconform would
fetch, so its ``-cache`` folder gets, under the cache key of that URL, a link to
the same version's ``_definitions.json``.  HTTP(S)_PROXY point at a closed local
port: a fetch would fail loudly instead of reaching out.  Each tool's own output
must account for every document (kubeconform's summary: no errors, nothing
skipped), and each tool's set of invalid documents is compared with the corpus.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from corpus import TEMPLATES, Corpus
from measure import Series, repeat, run

HERE = Path(__file__).resolve().parent
WRAPPER = HERE / "kubeconform"
KUBECONFORM_PKG = "github.com/yannh/kubeconform/cmd/kubeconform"
DEFINITIONS_URL = "https://kubernetes.io/api/_definitions.json"
ONE_VERSION = "1.33"
SINGLE_PROCESS_FROM = 1000  # corpus size from which kdocs is also timed with -j 1
NO_NETWORK = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
              "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
              "NO_PROXY": "", "no_proxy": ""}  # fmt: skip


def cache_root() -> Path:
    configured = os.environ.get("KDOCS_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "kdocs"


def schema_root() -> Path:
    """kubernetes-validate's schema folder (the one kdocs validates against)."""
    from kdocs.schema.registry import SCHEMA_ROOT

    return SCHEMA_ROOT


def kubeconform_version() -> str:
    for line in (WRAPPER / "go.mod").read_text().splitlines():
        parts = line.split()
        if "github.com/yannh/kubeconform" in parts:
            return parts[parts.index("github.com/yannh/kubeconform") + 1]
    raise SystemExit("benchmarks/kubeconform/go.mod does not require kubeconform")


@dataclass
class Built:
    path: Path
    version: str
    note: str  # how it was obtained


def build_kubeconform() -> Built:
    """The pinned kubeconform, built once into the cache (keyed by version and go.sum)."""
    version = kubeconform_version()
    pins = hashlib.sha256((WRAPPER / "go.sum").read_bytes()).hexdigest()[:12]
    folder = cache_root() / "bench" / f"kubeconform-{version}-{pins}"
    binary = folder / "kubeconform"
    if binary.is_file() and os.access(binary, os.X_OK):
        return Built(binary, version, "cached")
    go = shutil.which("go")
    if go is None:
        raise SystemExit("go not found on PATH: needed to build kubeconform (Go >= 1.26)")
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".kubeconform.{os.getpid()}"
    env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false"}
    began = time.perf_counter()
    done = subprocess.run(
        [go, "build", "-mod=readonly", "-trimpath",
         "-ldflags", f"-s -w -X main.version={version}", "-o", str(staged), KUBECONFORM_PKG],
        cwd=WRAPPER, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"building kubeconform failed:\n{done.stderr}")
    staged.replace(binary)
    return Built(binary, version, f"built in {time.perf_counter() - began:.0f} s")


def kubeconform_cache(work: Path, version: str) -> Path:
    """A -cache folder that serves this version's _definitions.json from disk."""
    folder = work / "kubeconform-cache" / version
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(DEFINITIONS_URL.encode()).hexdigest()
    link = folder / key
    if not link.exists():
        link.symlink_to(schema_root() / f"v{version}.0-local-strict" / "_definitions.json")
    return folder


def kubeconform_cmd(
    binary: Path, work: Path, version: str, target: str, root: Path | None = None
) -> list[str]:
    """kubeconform on `target` for one version; `root`: a folder of bundled schemas
    (see `bundle_schemas`) instead of kubernetes-validate's."""
    template = (
        f"{root or schema_root()}/{{{{ .NormalizedKubernetesVersion }}}}-local"
        "{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    )
    return [str(binary), "-strict", "-summary", "-kubernetes-version", f"{version}.0",
            "-cache", str(kubeconform_cache(work, version)), "-schema-location", template,
            target]  # fmt: skip


def bundle_schemas(out: Path, versions: list[str], files: set[str]) -> Path:
    """kubeconform's preferred layout, made from the same schemas: each kind's file holds
    the definitions it reaches under its own ``$defs`` (refs made local), so compiling
    a kind reads ~0.1-0.3 MB instead of the shared 1.4 MB _definitions.json every time.
    The same bundling kdocs caches for itself (`kdocs.schema.bundle`); same content,
    same verdicts (checked like every run); only `files` (kind files the corpus uses)
    are written."""
    from kdocs.schema.bundle import bundle_kind

    for version in versions:
        source = schema_root() / f"v{version}.0-local-strict"
        target = out / f"v{version}.0-local-strict"
        target.mkdir(parents=True, exist_ok=True)
        definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
        for name in sorted(files):
            path = source / name
            if not path.is_file():
                continue
            schema = bundle_kind(path, definitions)
            if schema is None:
                raise SystemExit(f"{path}: cannot be bundled (a reference outside the definitions)")
            (target / name).write_text(json.dumps(schema))
    return out


def write_floor_input(out: Path, corpus: Corpus, bundled: Path) -> Path:
    """`floor_validate.py`'s input: every document of `corpus` as JSON, with the bundled
    schema kubeconform reads for it (documents of a kind without one are left out)."""
    import yaml

    folder = bundled / f"v{ONE_VERSION}.0-local-strict"
    pairs = []
    for path in corpus.files:
        for document in yaml.safe_load_all(path.read_bytes()):
            if not isinstance(document, dict):
                continue
            schema = folder / schema_file(document["apiVersion"], document["kind"])
            if schema.is_file():
                pairs.append([str(schema), document])
    out.write_text(json.dumps(pairs))
    return out


def schema_file(api_version: str, kind: str) -> str:
    """The file name kubeconform's KindSuffix (and kubernetes-validate) give a kind."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix}.json"


# --- reading each tool's verdicts ---------------------------------------------------

_KDOCS_LINE = re.compile(r"^(.+?):(\d+):(\d+): ", re.M)
_KC_LINE = re.compile(r"^(.+?) - (\S+) (\S+) (?:is invalid|failed validation)", re.M)
_KC_SUMMARY = re.compile(
    r"Summary: (\d+) resources? found in (\d+) files? - Valid: (\d+), Invalid: (\d+), "
    r"Errors: (\d+), Skipped: (\d+)"
)
_KV_LINE = re.compile(r"^ERROR (\S+) did not validate for resource [^/\s]+/(\S+) against", re.M)


def kdocs_invalid(output: str, corpus: Corpus, prefix: str) -> tuple[set[str], str]:
    """Names of documents kdocs reported, from `file:line:col:` lines."""
    by_file = corpus.by_line()
    names: set[str] = set()
    unmatched = 0
    for match in _KDOCS_LINE.finditer(output):
        rel = match[1].removeprefix(prefix + "/")
        line = int(match[2])
        hit = [d for d in by_file.get(rel, []) if d.first_line <= line <= d.last_line]
        if hit:
            names.add(hit[0].name)
        else:
            unmatched += 1
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    ok = f"{len(corpus.documents)} resources" in summary and "0 unreadable" in summary
    note = "" if ok and not unmatched else f"unexpected output: {summary!r}, {unmatched} unmatched"
    return names, note


def kubeconform_invalid(outputs: list[str], corpus: Corpus) -> tuple[set[str], str]:
    names: set[str] = set()
    notes = []
    for output in outputs:
        names |= {m[3] for m in _KC_LINE.finditer(output)}
        summary = _KC_SUMMARY.search(output)
        if summary is None:
            notes.append("no summary")
            continue
        found, _files, _valid, _invalid, errors, skipped = (int(g) for g in summary.groups())
        if found != len(corpus.documents) or errors or skipped:
            notes.append(f"{found} found, {errors} errors, {skipped} skipped")
    return names, "; ".join(dict.fromkeys(notes))


def kubernetes_validate_invalid(output: str, corpus: Corpus) -> tuple[set[str], str]:
    names = {m[2] for m in _KV_LINE.finditer(output)}
    warnings = output.count("\nWARN ") + output.startswith("WARN ")
    return names, f"{warnings} warnings (no schema)" if warnings else ""


def agreement(found: set[str], corpus: Corpus) -> str:
    expected = corpus.invalid
    missed, extra = len(expected - found), len(found - expected)
    if not missed and not extra:
        return f"yes ({len(found)})"
    return f"NO: {missed} missed, {extra} extra"


# --- the section ---------------------------------------------------------------------


@dataclass
class Row:
    docs: int
    tool: str
    versions: str
    series: Series
    invalid: str
    note: str = ""

    @property
    def rate(self) -> float:
        return self.docs / self.series.median


def measure(corpus: Corpus, work: Path, repeats: int, kubeconform: Built | None,
            with_kubernetes_validate: bool) -> list[Row]:  # fmt: skip
    """Every tool on one corpus (a folder under `work`, which holds the kdocs project)."""
    target = corpus.root.relative_to(work).as_posix()
    count = len(corpus.documents)
    kdocs = str(Path(sys.executable).parent / "kdocs")
    rows: list[Row] = []
    kdocs_env = {**python_env(), "KDOCS_CACHE": str(work / "kdocs-cache")}

    run([kdocs, "validate", "-k", ONE_VERSION, target], cwd=work, env=kdocs_env)  # fill it
    # A run with an empty schema cache (what a new machine or a new kubernetes-validate
    # pays once) takes its turn with the others: run apart, before them, it once met
    # other load than they did and looked faster than the warm runs (1.73 s against 2.27 s).
    cold_cache = work / f"kdocs-cache-cold-{count}"

    def empty_cold_cache() -> None:
        shutil.rmtree(cold_cache, ignore_errors=True)

    # The one-version commands run interleaved (a, b, c, a, b, c, ...) so that a
    # burst of load from others hits all of them alike; ratios are taken pair by pair.
    commands: dict[str, Command] = {
        "kdocs validate": ([kdocs, "validate", "-k", ONE_VERSION, target], kdocs_env),
        "kdocs validate, schema cache cold": (
            [kdocs, "validate", "-k", ONE_VERSION, target],
            {**python_env(), "KDOCS_CACHE": str(cold_cache)},
            empty_cold_cache,
        ),
    }
    if count >= SINGLE_PROCESS_FROM:  # what the worker processes bring
        commands["kdocs validate -j 1 (one process)"] = (
            [kdocs, "validate", "-k", ONE_VERSION, "-j", "1", target], kdocs_env)  # fmt: skip
    bundled = work / "kubeconform-bundled"
    if kubeconform is not None:
        files = {schema_file(*pair) for pair in corpus_kinds(corpus)}
        bundle_schemas(bundled, _matrix(), files)
        for label, root in (("kubeconform", None), ("kubeconform, bundled schemas", bundled)):
            cmd = kubeconform_cmd(kubeconform.path, work, ONE_VERSION, target, root)
            commands[label] = (cmd, {**os.environ, **NO_NETWORK})
    if count <= FLOOR_UP_TO:  # how much of a small run is Python starting at all
        python = str(Path(sys.executable))
        commands["python -c pass (floor)"] = ([python, "-c", "pass"], python_env())
        commands["python -S -c pass (floor)"] = ([python, "-S", "-c", "pass"], python_env())
        commands["python: import kdocs.schema.api"] = (
            [python, "-c", "import kdocs.schema.api"], python_env())  # fmt: skip
        # What a one-file validation cannot do without, whatever kdocs' own code costs.
        commands["python: import yaml, jsonschema_rs (the dependencies)"] = (
            [python, "-c", "import yaml, jsonschema_rs"], python_env())  # fmt: skip
        # The validator alone: no Python tool that validates can start in less.
        commands["python: import jsonschema_rs (the validator alone)"] = (
            [python, "-c", "import jsonschema_rs"], python_env())  # fmt: skip
        # ... nor in less than this, the way kdocs imports it (kdocs.schema.engine)
        commands["python: import kdocs.schema.engine (jsonschema_rs without email.utils)"] = (
            [python, "-c", "import kdocs.schema.engine"], python_env())  # fmt: skip
        if kubeconform is not None:  # the same bundled schemas kubeconform reads
            floor = write_floor_input(work / f"floor-{count}.json", corpus, bundled)
            commands[FLOOR_ROW] = (
                [python, str(HERE / "floor_validate.py"), str(floor)], python_env())  # fmt: skip
    pairs = repeats * PAIRED_FACTOR if count <= FLOOR_UP_TO else repeats
    if count == GOAL_DOCUMENTS:  # the goal's row: 3 pairs once read 0.84-1.23 around 1.0
        pairs = repeats * GOAL_PAIRS_FACTOR
    server = None
    if count <= FLOOR_UP_TO:  # the resident validator, warm: what an editor or hook meets
        server = ResidentServer(work, kdocs_env)
        commands[SERVER_ROW] = ([kdocs, "validate", "--server", "-k", ONE_VERSION, target],
                                server.env)  # fmt: skip
        server.start([kdocs, "validate", "--server", "-k", ONE_VERSION, target])
    try:
        measured = interleaved(commands, pairs, cwd=work)
    finally:
        served = server.stop() if server is not None else None
    for label, series in measured.items():
        if label.startswith("python"):
            rows.append(Row(count, label, "", series, ""))
            continue
        if label.startswith("kdocs"):
            names, note = kdocs_invalid(series.last.stdout, corpus, target)
            if label == SERVER_ROW and served is not None:
                note = "; ".join(filter(None, [note, served.note(series)]))
        else:
            names, note = kubeconform_invalid([series.last.stdout], corpus)
        rows.append(Row(count, label, ONE_VERSION, series, agreement(names, corpus), note))
    empty_cold_cache()

    if with_kubernetes_validate:
        files = sorted(str(p.relative_to(work)) for p in corpus.files)
        cmd = [str(Path(sys.executable).parent / "kubernetes-validate"), "-k", ONE_VERSION,
               "--strict", "--quiet", *files]  # fmt: skip
        series = repeat(cmd, 1, cwd=work)
        names, note = kubernetes_validate_invalid(series.last.stdout, corpus)
        rows.append(
            Row(count, "kubernetes-validate", ONE_VERSION, series, agreement(names, corpus), note)
        )

    versions = _matrix()
    span = f"{versions[0]}-{versions[-1]} ({len(versions)})"
    full = repeat([kdocs, "validate", target], repeats, cwd=work, env=kdocs_env)
    names, note = kdocs_invalid(full.last.stdout, corpus, target)
    rows.append(Row(count, "kdocs validate", span, full, agreement(names, corpus), note))

    if kubeconform is not None:
        # kubeconform takes one version per run: one run per version, one after the other
        for label, root in (("kubeconform", None), ("kubeconform, bundled schemas", bundled)):
            script = "; ".join(
                " ".join(_quote(a) for a in kubeconform_cmd(kubeconform.path, work, v, target,
                                                             root))
                + f" > kc-{v}.out" for v in versions
            )  # fmt: skip
            series = repeat(["sh", "-c", script + "; true"], repeats, cwd=work,
                            env={**os.environ, **NO_NETWORK})  # fmt: skip
            outputs = [(work / f"kc-{v}.out").read_text() for v in versions]
            names, note = kubeconform_invalid(outputs, corpus)
            rows.append(Row(count, f"{label} x{len(versions)} runs", span, series,
                            agreement(names, corpus), note))  # fmt: skip
    return rows


SERVER_ROW = "kdocs validate --server, one file (server warm)"
FLOOR_ROW = "python: compile and validate with jsonschema_rs, no YAML (floor_validate.py)"


class ResidentServer:
    """The bench project's resident validator (`kdocs validate --server`): started and
    warmed before the turns, stopped after. Its CPU is in its own process, which wait4
    on the client does not see: it is read from /proc/<pid>/stat before and after."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work = work
        self.env = {**env, "KDOCS_SERVER_IDLE": "900"}
        self.pid = 0
        self.cpu_before = 0.0
        self.served_before = 0

    def _info(self) -> dict[str, int] | None:
        from kdocs.commands.server import server_info

        return server_info(str(self.work))[1]

    def start(self, warm_cmd: list[str]) -> None:
        deadline = time.monotonic() + 60
        while (info := self._info()) is None:  # the first call starts it
            if time.monotonic() > deadline:
                raise SystemExit("kdocs server did not start (see its log in the cache)")
            run(warm_cmd, cwd=self.work, env=self.env)
            time.sleep(0.2)
        run(warm_cmd, cwd=self.work, env=self.env)  # compile what the request needs
        self.pid = info["pid"]
        self.cpu_before = process_cpu(self.pid)
        self.served_before = info["served"] + 1

    def stop(self) -> ResidentServer:
        info = self._info()
        self.cpu_after = process_cpu(self.pid)
        self.served_after = info["served"] if info and info["pid"] == self.pid else -1
        from kdocs.commands.server import stop_server

        stop_server(str(self.work))
        return self

    def note(self, series: Series) -> str:
        """Client and server CPU per request; every turn must have been served."""
        requests = self.served_after - self.served_before
        if requests != len(series.runs):
            return f"only {requests} of {len(series.runs)} runs answered by the server"
        client = sorted(r.cpu for r in series.runs)[len(series.runs) // 2] * 1000
        server = (self.cpu_after - self.cpu_before) / max(1, requests) * 1000
        return f"client CPU {client:.0f} ms (median), server CPU {server:.1f} ms per request"


def process_cpu(pid: int) -> float:
    """User + system seconds a live process has used (/proc/<pid>/stat, fields 14-15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def python_env() -> dict[str, str]:
    """The environment kdocs runs in, as on a user's machine: bytecode is read from
    ``__pycache__`` (`precompile`), even if this shell says PYTHONDONTWRITEBYTECODE
    (which would make every run compile kdocs' ~20 modules from source, ~25 ms)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def precompile() -> None:
    """Write kdocs' bytecode once, before anything is timed (a first run would do it)."""
    import compileall

    import kdocs

    compileall.compile_dir(Path(kdocs.__file__).parent, quiet=1)


FLOOR_UP_TO = 10  # corpus sizes for which Python's own start-up is measured alongside
PAIRED_FACTOR = 5  # small runs are cheap and noisy: this many times --repeat pairs
GOAL_DOCUMENTS = 10_000  # issue 14's throughput goal is judged at this size...
GOAL_PAIRS_FACTOR = 3  # ...on this many times --repeat pairs (~10 s a pair)


# A command: its argv, its environment, and optionally what to do, untimed, before each run.
Command = tuple[list[str], dict[str, str]] | tuple[list[str], dict[str, str], Callable[[], None]]


def interleaved(commands: dict[str, Command], times: int, cwd: Path) -> dict[str, Series]:
    """Each command `times` times, in turns (a, b, c, a, b, c, ...)."""
    out = {label: Series([]) for label in commands}
    for _ in range(max(1, times)):
        for label, (cmd, env, *prepare) in commands.items():
            for step in prepare:
                step()
            out[label].runs.append(run(cmd, cwd=cwd, env=env))
    return out


def paired_ratios(mine: Series, theirs: Series) -> list[float]:
    """mine ÷ theirs, run i against run i (the two ran next to each other)."""
    return [a.seconds / b.seconds for a, b in zip(mine.runs, theirs.runs, strict=True)]


def corpus_kinds(corpus: Corpus) -> set[tuple[str, str]]:
    """(apiVersion, kind) of every kind in the corpus."""
    kinds = {d.kind for d in corpus.documents}
    return {(TEMPLATES[k].split("\n")[0].split(": ")[1], k) for k in kinds}


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _matrix() -> list[str]:
    return list(MATRIX)


MATRIX = ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37")


def project(work: Path) -> None:
    """A minimal kdocs project: `kdocs validate` reads its version matrix from here."""
    versions = ", ".join(f'"{v}"' for v in MATRIX)
    (work / "pyproject.toml").write_text(f"[tool.kdocs]\nkubernetes-versions = [{versions}]\n")
