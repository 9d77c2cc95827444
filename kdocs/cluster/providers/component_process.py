"""Start, watch and stop the cluster components of one kwok cluster (definitions: components.py).

Each component runs out of cluster, as the control plane does: a process of
its own session (it outlives `kdocs cluster up`, like the cluster), started as
<cluster>/bin/<name> (a link to its cached build, so the kwok provider's sweep
of processes started from the cluster folder finds it too), talking to the API
server through the cluster's kubeconfig, listening on 127.0.0.1 only. Its
folder <cluster>/components/<name>/ holds its log and process.json (pid,
executable, version, ports): what `cluster status` shows and what liveness is
checked against.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import yaml

from kdocs.cluster.base import Cluster, ClusterUnavailableError, ComponentProcess
from kdocs.cluster.components import PLACEHOLDER, ComponentRequest, ComponentSpec
from kdocs.cluster.providers._common import Log, last_lines, quiet, run, wait_established

BUILD_COMPONENT = Path("clusters/build/build-component.sh")
STATE_FILE = "process.json"
KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


class ComponentRunner:
    """The components of the cluster in `cluster_dir`."""

    def __init__(
        self, root: Path, cluster_dir: Path, kubeconfig: Path, *,
        ports_lock: Callable[[], AbstractContextManager[None]],
        log: Log = quiet, show_build_progress: bool = False,
    ) -> None:  # fmt: skip
        self.root, self.cluster_dir, self.kubeconfig = root, cluster_dir, kubeconfig
        self.folder = cluster_dir / "components"
        self.ports_lock, self.log, self.show_build_progress = ports_lock, log, show_build_progress

    def build(self, requests: list[ComponentRequest]) -> dict[str, Path]:
        """Each program's cache folder (built on first use), before any cluster exists."""
        return {
            r.name: build_component(self.root, r.spec, self.show_build_progress, r.version)
            for r in requests if r.spec.program
        }  # fmt: skip

    def start(
        self, cluster: Cluster, requests: list[ComponentRequest], builds: dict[str, Path]
    ) -> tuple[ComponentProcess, ...]:
        """Apply each component's manifests and start its program, in order, each ready first."""
        started = []
        for request in requests:
            began = time.monotonic()
            bin_dir = builds.get(request.name)
            self._apply_manifests(cluster, request.spec, bin_dir)
            if bin_dir is None:
                continue  # objects only
            process = self._start_program(request, bin_dir)
            started.append(process)
            self.log(
                f"component {request.name} {process.version} ready in"
                f" {time.monotonic() - began:.1f}s (log: {process.log})"
            )
        return tuple(started)

    def running(self, names: list[str]) -> tuple[ComponentProcess, ...] | None:
        """What process.json says runs for each of `names` (None if one was never started)."""
        found = []
        for name in names:
            try:
                data = json.loads((self.folder / name / STATE_FILE).read_text(encoding="utf-8"))
                found.append(ComponentProcess(
                    name, str(data["version"]), int(data["pid"]), str(data["executable"]),
                    Path(data["log"]),
                ))  # fmt: skip
            except (OSError, ValueError, KeyError, TypeError):
                return None
        return tuple(found)

    def stop(self) -> None:
        """SIGTERM every component's process group, SIGKILL what is left after a grace period."""
        groups = []
        for state in sorted(self.folder.glob(f"*/{STATE_FILE}")):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                data = json.loads(state.read_text(encoding="utf-8"))
                process = ComponentProcess(
                    state.parent.name, "", int(data["pid"]), str(data["executable"]), Path()
                )
                if process.pid > 0 and process.alive():
                    groups.append(process)
        for process in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while any(p.alive() for p in groups) and time.monotonic() < deadline:
            time.sleep(0.05)
        for process in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    # -- internals ---------------------------------------------------------

    def _apply_manifests(self, cluster: Cluster, spec: ComponentSpec, bin_dir: Path | None) -> None:
        documents: list[dict[str, Any]] = []
        for pattern in spec.manifests:
            if "{bin}" in pattern and bin_dir is None:
                raise ClusterUnavailableError(str(spec.source), "{bin} needs a program to build")
            expanded = pattern.replace("{bin}", str(bin_dir))
            base = spec.folder if not Path(expanded).is_absolute() else Path("/")
            paths = sorted(glob.glob(str(base / expanded)))
            if not paths:
                raise ClusterUnavailableError(
                    str(spec.source), f"manifest {pattern} matches no file"
                )
            for path in paths:
                try:
                    loaded = yaml.safe_load_all(Path(path).read_text(encoding="utf-8"))
                    documents += [d for d in loaded if isinstance(d, dict)]
                except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
                    raise ClusterUnavailableError(path, f"cannot read manifest: {error}") from None
        if not documents:
            return
        done = cluster.kubectl(
            "apply", "--server-side", "--force-conflicts", "--field-manager=kdocs", "-f", "-",
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": documents}), timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterUnavailableError(
                str(spec.source),
                f"applying the manifests of {spec.name} failed: {last_lines(done.stderr)}",
            )
        crds = [
            d["metadata"]["name"] for d in documents if d.get("kind") == "CustomResourceDefinition"
        ]
        if crds:
            wait_established(cluster, crds)

    def _start_program(self, request: ComponentRequest, bin_dir: Path) -> ComponentProcess:
        spec = request.spec
        folder = self.folder / spec.name
        folder.mkdir(parents=True, exist_ok=True)
        link = self.cluster_dir / "bin" / spec.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(bin_dir / spec.program)
        log_path = folder / f"{spec.name}.log"
        version = built_version(bin_dir, spec.build)
        # Ports are picked and bound under the machine-wide creation lock, so that two clusters
        # (or a kwokctl creation) never pick the same free port between probe and bind.
        with self.ports_lock():
            ports = {name: free_port() for name in spec.ports}
            values = {"kubeconfig": str(self.kubeconfig), "dir": str(folder), "bin": str(bin_dir)}
            values |= {f"port:{k}": str(v) for k, v in ports.items()}
            values |= {f"setting:{k}": v for k, v in request.settings.items()}
            command = [str(link), *(expand(arg, values) for arg in spec.args)]
            env = {k: v for k, v in os.environ.items() if k in KEPT_ENV}
            env |= {k: expand(v, values) for k, v in spec.env.items()}
            with open(log_path, "ab") as log_file:
                child = subprocess.Popen(
                    command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            process = ComponentProcess(
                spec.name, version, child.pid, os.path.realpath(bin_dir / spec.program), log_path
            )
            (folder / STATE_FILE).write_text(json.dumps({
                "pid": child.pid, "executable": process.executable, "version": version,
                "log": str(log_path), "ports": ports, "command": command,
            }, indent=2), encoding="utf-8")  # fmt: skip
            self._wait(child, process, lambda: all(listening(p) for p in ports.values()),
                       spec.ready.timeout, "listen on its ports")  # fmt: skip
        ready = spec.ready
        pattern = re.compile(ready.log) if ready.log else None
        url = (
            f"http://127.0.0.1:{ports[ready.http_port]}{ready.http_path}" if ready.http_port else ""
        )
        self._wait(child, process, lambda: (pattern is None or _log_has(log_path, pattern))
                   and (not url or http_ok(url)), ready.timeout, "get ready")  # fmt: skip
        return process

    def _wait(
        self, child: subprocess.Popen[bytes], process: ComponentProcess,
        done: Callable[[], bool], timeout: float, what: str,
    ) -> None:  # fmt: skip
        """Poll `done`; the component exiting or the timeout is one line with its last log lines."""
        deadline = time.monotonic() + timeout
        while not done():
            code = child.poll()
            if code is not None:
                raise ClusterUnavailableError(
                    str(process.log), f"component {process.name} exited (code {code}) before it"
                    f" could {what}: {last_lines(_tail(process.log))}",
                )  # fmt: skip
            if time.monotonic() > deadline:
                raise ClusterUnavailableError(
                    str(process.log), f"component {process.name} did not {what} within"
                    f" {timeout:.0f}s: {last_lines(_tail(process.log))}",
                )  # fmt: skip
            time.sleep(0.1)


def components_signature(wanted: list[ComponentRequest], builds: dict[str, Path]) -> str:
    """What the record says about components: name, build, definition and settings of each."""
    parts = []
    for request in wanted:
        build = builds[request.name].name if request.name in builds else "-"
        definition = request.spec.source.read_bytes()
        digest = hashlib.sha256(definition + request.digest().encode()).hexdigest()[:12]
        parts.append(f"{request.name}:{build}:{digest}")
    return ",".join(parts)


def signature_names(signature: str) -> list[str]:
    """The component names of a `components_signature` whose program runs (not objects only)."""
    names = []
    for part in filter(None, signature.split(",")):
        name, build, _ = (part.split(":") + ["", ""])[:3]
        if build != "-":
            names.append(name)
    return names


def expand(text: str, values: dict[str, str]) -> str:
    """Replace the {placeholders} of component.yaml (validated when it was loaded)."""
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on now (call it under the ports lock)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something listens on TCP `port` (from /proc/net/tcp: no connection made)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return True
    return False


def http_ok(url: str) -> bool:
    """Whether `url` answers 200 (a readiness endpoint)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (loopback only)
            return int(answer.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _log_has(path: Path, pattern: re.Pattern[str]) -> bool:
    with contextlib.suppress(OSError):
        return pattern.search(path.read_text(encoding="utf-8", errors="replace")) is not None
    return False


def _tail(path: Path, size: int = 4096) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - size))
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def build_component(
    root: Path, spec: ComponentSpec, show_progress: bool = False, version: str = ""
) -> Path:
    """The cache folder of the component's pinned build (or of `version`), built on first
    use (exit 2 if it fails)."""
    script = root / BUILD_COMPONENT
    if not script.is_file():
        raise ClusterUnavailableError(str(script), "the component build script is missing")
    env = None
    if version:  # build-component.sh reads <NAME>_VERSION
        env = {**os.environ, f"{spec.build.upper().replace('-', '_')}_VERSION": version}
    done = run(
        ["bash", script, spec.build], what=f"building component {spec.name}",
        timeout=3 * 3600, check=False, stderr_to_terminal=show_progress, env=env,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        # With its progress shown, the build's own output (and reason) is just above.
        reason = last_lines(done.stderr) if done.stderr else f"exit {done.returncode} (see above)"
        which = f" {version}" if version else ""
        raise ClusterUnavailableError(
            str(script), f"building component {spec.name}{which} failed: {reason}"
        )
    folder = Path(lines[-1].strip())
    if not (folder / spec.program).is_file():
        raise ClusterUnavailableError(
            str(folder), f"component {spec.name} has no program {spec.program}"
        )
    return folder


def built_version(folder: Path, name: str) -> str:
    """The version the MANIFEST's "# versions: <name> <version>" line names ("" if none)."""
    try:
        lines = (folder / "MANIFEST").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for line in lines:
        parts = line.removeprefix("# versions:").split()
        if line.startswith("# versions:") and len(parts) == 2 and parts[0] == name:
            return parts[1]
    return ""


def check_provided(cluster: Cluster, specs: list[ComponentSpec], timeout: float = 120.0) -> None:
    """On a provider that ships them itself (kind), the objects of each `kind: provided`
    component must be there (the default StorageClass `standard`, kube-dns, ...), so a
    snippet relying on them means the same on both providers; waits while they appear."""
    wanted = []
    for spec in specs:
        if spec.on_kind != "provided":
            continue
        for pattern in spec.manifests:
            for path in sorted(spec.folder.glob(pattern)):
                for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                    if isinstance(doc, dict) and doc.get("kind"):
                        meta = doc.get("metadata") or {}
                        wanted.append(
                            (spec.name, doc["kind"], meta.get("name"), meta.get("namespace"))
                        )
    deadline = time.monotonic() + timeout
    for component, kind, name, namespace in wanted:
        scope = ["-n", namespace] if namespace else []
        while True:
            done = cluster.kubectl("get", f"{kind}/{name}", *scope, "-o", "name", timeout=30)
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                where = f" in {namespace}" if namespace else ""
                raise ClusterUnavailableError(
                    None, f"the cluster lacks {kind} {name}{where}, which every kdocs cluster has"
                    f" (component {component}): {last_lines(done.stderr, 1)}",
                )  # fmt: skip
            time.sleep(1)
