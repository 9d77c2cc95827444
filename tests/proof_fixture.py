"""A project whose results file holds each state a unit can be in, written the way
`kdocs test` writes it (real ResultStore, real content hashes), for the reader side's
tests: `kdocs status` and the proof pages. No cluster: what is tested here is what the
site and the status report say about a given results file."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

from kdocs.results import SCENARIO, ResultStore, UnitRecord

CLUSTER = "kwok + Karpenter v1.14.1"


def configmap(name: str, value: str = "1") -> str:
    return f'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: "{value}"\n'


def scenario(name: str, file: str, description: str) -> str:
    """A claim about `file` with one negative control: the file without its data."""
    return textwrap.dedent(f"""\
        name: {name}
        description: {description}
        steps:
          - apply: {file}
          - assert:
              object: &holds-a
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: {name}
                data:
                  a: "1"
          - delete: {file}
          - apply:
              file: {file}
              patch:
                data: null
          - error:
              for: 3s
              object: *holds-a
        """)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_run(
    root: Path, name: str, files: list[str], passed: bool, message: str = "", seconds: float = 12.4
) -> None:
    """Record one scenario run on every site file it used, for the files as they are now."""
    snippets = root / "snippets"
    paths = [snippets / f for f in files]
    inputs = {p.relative_to(root).as_posix(): sha(p) for p in paths}
    store = ResultStore(root / ".kdocs" / "results.json", root)
    for path in paths:
        store.record(UnitRecord(
            snippet=path.relative_to(snippets).as_posix(), sha256=sha(path), kind=SCENARIO,
            unit=name, source=paths[-1].relative_to(root).as_posix(), passed=passed,
            provider="kwok", kubernetes_version="v1.36.3", date="2026-11-29T20:00:00+00:00",
            checks=("server-side apply", "scenario") if passed else (), message=message,
            inputs=inputs, cluster=CLUSTER, seconds=seconds,
        ))  # fmt: skip
    store.save()
