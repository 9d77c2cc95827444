"""Schema verdicts of snippets kept between builds, so an unchanged site is not re-validated.

Validating a snippet for 8 Kubernetes versions means compiling 8 versions'
schemas first (~0.3 s) and ~0.6 ms a snippet; a rebuild with nothing changed
(`make docs` twice, every save in a preview restarted) would pay it again for
the same verdicts. Only passes are kept (a failure stops the build anyway),
each under the snippet's path, its bytes' hash and its fragment spec's hash.
The whole file is void when anything else the verdict depends on changes:
the versions, the CRD files, the validator's version, or any kdocs source
file (a fix in the schema stage must not be hidden by an old verdict).

The file is replaced atomically, so two builds of one checkout at once can
only lose each other's new entries, never corrupt the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

from kdocs.site.render import Badge

FORMAT = 1
KDOCS_SOURCES = Path(__file__).resolve().parents[1]
VALIDATOR_PACKAGES = ("kubernetes-validate", "jsonschema-rs", "PyYAML")


def fingerprint(versions: tuple[str, ...], crd_dirs: tuple[Path, ...]) -> str:
    """Everything a schema verdict depends on besides the snippet's own bytes."""
    digest = hashlib.sha256(f"format {FORMAT}\0{','.join(versions)}\0".encode())
    for package in VALIDATOR_PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} missing\0".encode())
    sources = sorted(KDOCS_SOURCES.rglob("*.py"))
    crds = sorted(p for d in crd_dirs if d.is_dir() for p in d.rglob("*") if p.is_file())
    for path in [*sources, *crds]:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class CheckCache:
    """Badges of passed schema checks, read once per build and written back if it grew."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._badges: dict[str, Badge] = {}
        self._changed = False
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("format") == FORMAT and stored.get("fingerprint") == fingerprint:
                self._badges = {k: Badge(**v) for k, v in stored["badges"].items()}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass  # absent, unreadable or from another version: start empty

    @staticmethod
    def key(rel: str, sha256: str, spec_sha256: str) -> str:
        return f"{rel}\0{sha256}\0{spec_sha256}"

    def get(self, key: str) -> Badge | None:
        return self._badges.get(key)

    def put(self, key: str, badge: Badge) -> None:
        self._badges[key] = badge
        self._changed = True

    def save(self) -> None:
        if not self._changed:
            return
        data = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "badges": {k: vars(b) for k, b in sorted(self._badges.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".checks-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._changed = False
