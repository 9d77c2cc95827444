"""Cluster components: real Kubernetes controllers the kwok provider runs next to its control plane.

A guide's cluster is more than an API server: kind ships a default StorageClass
backed by a real provisioner, and a Karpenter guide needs Karpenter. Each such
program is a *component*, declared as data so that adding one is a folder, not
code:

- clusters/build/<name>/component.conf + go.mod/go.sum: its pinned Go module,
  built once by clusters/build/build-component.sh into
  <cache>/components/<name>-<version>/ (same MANIFEST and corruption rules as
  the control plane's binaries).
- clusters/components/<name>/component.yaml: how it runs (see COMPONENT_KEYS):
  program and arguments, environment, loopback ports, settings a topology may
  change, manifests applied before it starts, and when it counts as ready.

A component is started when it is `always: true` (kind parity: every kind
cluster has it) or when the topology lists it under `components:`; a
component without `program` is only its manifests. Runtime (start, readiness,
stop, liveness) is in kdocs/cluster/providers/component_process.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kdocs.cluster.yaml_nodes import NodeReader, compose_file
from kdocs.errors import Location, UnusableInputError

COMPONENTS_DIR = "components"  # under the clusters folder
COMPONENT_KEYS = (
    "name", "description", "build", "always", "kind", "program", "args", "env", "ports",
    "settings", "manifests", "ready",
)  # fmt: skip
READY_KEYS = ("log", "http", "timeout")
# {kubeconfig} the cluster's kubeconfig, {dir} the component's folder in the cluster's folder,
# {bin} its build folder (data files such as CRDs), {port:NAME}, {setting:NAME}.
PLACEHOLDER = re.compile(r"\{(kubeconfig|dir|bin|port:[a-z0-9-]+|setting:[A-Za-z0-9_-]+)\}")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class Readiness:
    """When a started component counts as ready: a log line, an HTTP 200, or both."""

    log: str = ""  # a regular expression searched in its log
    http_port: str = ""  # a port name of the component
    http_path: str = ""
    timeout: float = 60.0


@dataclass(frozen=True)
class ComponentSpec:
    """One clusters/components/<name>/component.yaml, validated."""

    name: str
    source: Path
    build: str  # clusters/build/<build>/component.conf ("" when there is no program)
    always: bool
    on_kind: str  # what kind does about it: "provided" (kind ships it) or "absent"
    program: str
    args: tuple[str, ...]
    env: dict[str, str]
    ports: tuple[str, ...]
    settings: dict[str, str]  # name -> default
    manifests: tuple[str, ...]  # paths relative to the component folder; {bin} allowed
    ready: Readiness = field(default_factory=Readiness)

    @property
    def folder(self) -> Path:
        return self.source.parent


@dataclass(frozen=True)
class ComponentRequest:
    """A component a topology asks for, with its settings (defaults merged in)."""

    spec: ComponentSpec
    settings: dict[str, str]
    version: str = ""  # another release than the pin of its component.conf ("": the pin)

    @property
    def name(self) -> str:
        return self.spec.name

    def digest(self) -> str:
        """What the cluster must run for this request: a changed setting means a new cluster."""
        data = json.dumps([self.name, self.settings, self.version], sort_keys=True).encode()
        return hashlib.sha256(data).hexdigest()[:12]


def components_dir(clusters_dir: Path) -> Path:
    """Where component definitions live: clusters/components/<name>/component.yaml."""
    return clusters_dir / COMPONENTS_DIR


def available_components(clusters_dir: Path) -> list[str]:
    """Names of the defined components, sorted."""
    folder = components_dir(clusters_dir)
    if not folder.is_dir():
        return []
    return sorted(p.parent.name for p in folder.glob("*/component.yaml"))


def find_component(
    clusters_dir: Path, name: str, where: Location | str | None = None
) -> ComponentSpec:
    """Load component `name`; an unknown name is an error at `where` listing the known ones."""
    path = components_dir(clusters_dir) / name / "component.yaml"
    if not _NAME.match(name) or not path.is_file():
        known = ", ".join(available_components(clusters_dir)) or "none"
        raise UnusableInputError(where, f"no cluster component {name!r} (available: {known})")
    return load_component(path)


def always_on(clusters_dir: Path) -> list[ComponentSpec]:
    """The components every kwok cluster runs, whatever its topology."""
    specs = [find_component(clusters_dir, name) for name in available_components(clusters_dir)]
    return [spec for spec in specs if spec.always]


def load_component(path: Path) -> ComponentSpec:
    """Read and validate one component.yaml; the first problem is one line naming file:line:col."""
    return _SpecReader(path).spec(compose_file(path, "component"))


class _SpecReader(NodeReader):
    """Reads a component definition (NodeReader: every error knows its line and column)."""

    def entries(
        self, node: yaml.Node | None, what: str, allowed: tuple[str, ...] | None = None
    ) -> dict[str, yaml.Node]:
        """A mapping's value nodes by key."""
        return {key: value for key, (_, value) in self.mapping(node, what, allowed).items()}

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(node, f"{what} must be a single value")
        return str(node.value)

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node, what)
        for match in re.finditer(r"\{[^}]*\}", value):
            if not PLACEHOLDER.fullmatch(match.group(0)):
                raise self.fail(node, f"unknown placeholder {match.group(0)} in {what}")
        return value

    def strings(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return tuple(self.text(item, f"an item of {what}") for item in node.value)

    def spec(self, root: yaml.Node | None) -> ComponentSpec:
        top = self.entries(root, "the component", COMPONENT_KEYS)
        name = self.scalar(top["name"], "name") if "name" in top else ""
        if name != self.path.parent.name:
            raise self.fail(
                top.get("name", root), f"name must be the folder's name {self.path.parent.name!r}"
            )
        ports = self.strings(top["ports"], "ports") if "ports" in top else ()
        settings = {
            key: self.scalar(value, f"setting {key}")
            for key, value in (
                self.entries(top["settings"], "settings") if "settings" in top else {}
            ).items()
        }
        program = self.scalar(top["program"], "program") if "program" in top else ""
        build = name if program else ""
        spec = ComponentSpec(
            name=name, source=self.path,
            build=self.scalar(top["build"], "build") if "build" in top else build,
            always=self._flag(top, "always"),
            on_kind=self.scalar(top["kind"], "kind") if "kind" in top else "absent",
            program=program,
            args=self.strings(top["args"], "args") if "args" in top else (),
            env={k: self.text(v, f"env {k}") for k, v in
                 (self.entries(top["env"], "env") if "env" in top else {}).items()},
            ports=ports, settings=settings,
            manifests=self.strings(top["manifests"], "manifests") if "manifests" in top else (),
            ready=self.readiness(top.get("ready"), ports),
        )  # fmt: skip
        if spec.on_kind not in ("provided", "absent"):
            raise self.fail(top["kind"], "kind must be provided (kind ships it) or absent")
        for text in (*spec.args, *spec.env.values()):
            for used in PLACEHOLDER.findall(text):
                kind, _, ref = used.partition(":")
                if (kind == "port" and ref not in ports) or (
                    kind == "setting" and ref not in settings
                ):
                    raise self.fail(root, f"{{{used}}} is used but not declared under {kind}s")
        if program and not (spec.ready.log or spec.ready.http_port):
            raise self.fail(root, "a component with a program needs ready.log or ready.http")
        return spec

    def _flag(self, top: dict[str, yaml.Node], key: str) -> bool:
        if key not in top:
            return False
        node = top[key]
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            raise self.fail(node, f"{key} must be true or false")
        return node.value.lower() == "true"

    def readiness(self, node: yaml.Node | None, ports: tuple[str, ...]) -> Readiness:
        if node is None:
            return Readiness()
        fields = self.entries(node, "ready", READY_KEYS)
        log = self.scalar(fields["log"], "ready.log") if "log" in fields else ""
        try:
            re.compile(log)
        except re.error as error:
            raise self.fail(
                fields["log"], f"ready.log is not a regular expression: {error}"
            ) from None
        port = path = ""
        if "http" in fields:
            http = self.entries(fields["http"], "ready.http", ("port", "path"))
            port = self.scalar(http["port"], "ready.http.port") if "port" in http else ""
            path = self.scalar(http["path"], "ready.http.path") if "path" in http else "/"
            if port not in ports:
                raise self.fail(fields["http"], f"ready.http.port {port!r} is not one of ports")
        timeout = 60.0
        if "timeout" in fields:
            try:
                timeout = float(self.scalar(fields["timeout"], "ready.timeout"))
            except ValueError:
                raise self.fail(
                    fields["timeout"], "ready.timeout must be a number of seconds"
                ) from None
        return Readiness(log=log, http_port=port, http_path=path, timeout=timeout)


def requested(
    clusters_dir: Path, topology_components: dict[str, dict[str, str]], where: str | None = None
) -> list[ComponentRequest]:
    """What a kwok cluster of this topology runs: always-on components, then the topology's."""
    requests = [ComponentRequest(spec, dict(spec.settings)) for spec in always_on(clusters_dir)]
    for name, settings in topology_components.items():
        spec = find_component(clusters_dir, name, where)
        unknown = sorted(set(settings) - set(spec.settings))
        if unknown:
            raise UnusableInputError(
                where, f"unknown setting(s) {', '.join(unknown)} for component {name}"
                f" (known: {', '.join(sorted(spec.settings)) or 'none'})",
            )  # fmt: skip
        requests = [r for r in requests if r.name != name]
        requests.append(ComponentRequest(spec, {**spec.settings, **settings}))
    return requests
