"""A damaged component cache is noticed and never handed out (clusters/build/build-component.sh).

The same rules as the control plane's binaries (tests/faults/test_binaries_cache.py),
through the shared lib.sh: a copy of the real cache folder (hard links, then
each damage replaces the file instead of writing through the link, so the real
cache is never touched), and no `go` on PATH, so the script must refuse ("go not
found") instead of printing the folder: proof it saw the damage.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kdocs.cluster.components import find_component
from kdocs.cluster.providers.component_process import build_component
from tests.faults.conftest import ROOT, SETTINGS

SCRIPT = ROOT / "clusters" / "build" / "build-component.sh"
NAME = "local-path-provisioner"
NO_GO = "/usr/bin:/bin"  # bash, coreutils, flock and sha256sum, but no go


@pytest.fixture(scope="module")
def real() -> Path:
    return build_component(ROOT, find_component(SETTINGS.clusters_dir, NAME))


@pytest.fixture
def cache(tmp_path: Path, real: Path) -> Path:
    folder = tmp_path / "components" / real.name
    folder.mkdir(parents=True)
    for item in real.iterdir():
        if item.is_file() and not item.name.startswith("."):
            os.link(item, folder / item.name)
    return tmp_path


def build(cache: Path, *args: str, path: str = NO_GO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KDOCS_CACHE": str(cache), "PATH": path}
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=600
    )


def replace(path: Path, data: bytes, mode: int = 0o755) -> None:
    path.unlink()
    path.write_bytes(data)
    path.chmod(mode)


def _flipped_byte(folder: Path) -> None:
    data = bytearray((folder / NAME).read_bytes())
    data[len(data) // 2] ^= 0xFF
    replace(folder / NAME, bytes(data))


def _truncated(folder: Path) -> None:
    replace(folder / NAME, (folder / NAME).read_bytes()[:4096])


def _not_executable(folder: Path) -> None:
    replace(folder / NAME, (folder / NAME).read_bytes(), mode=0o644)


def _no_manifest(folder: Path) -> None:
    (folder / "MANIFEST").unlink()


def _incomplete_manifest(folder: Path) -> None:
    lines = (folder / "MANIFEST").read_text().splitlines()
    replace(folder / "MANIFEST", ("\n".join(lines[:-1]) + "\n").encode(), mode=0o644)


def _other_version(folder: Path) -> None:
    text = (folder / "MANIFEST").read_text().replace(f"tuple {folder.name}", f"tuple {NAME}-v0")
    replace(folder / "MANIFEST", text.encode(), mode=0o644)


def test_an_intact_copy_is_handed_out_without_go(cache: Path, real: Path) -> None:
    done = build(cache, NAME)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(cache / "components" / real.name)


@pytest.mark.parametrize(
    "damage",
    [
        _flipped_byte,
        _truncated,
        _not_executable,
        _no_manifest,
        _incomplete_manifest,
        _other_version,
    ],  # fmt: skip
)
def test_damage_is_noticed_and_never_handed_out(
    cache: Path, real: Path, damage: Callable[[Path], None]
) -> None:
    before = hashlib.sha256((real / NAME).read_bytes()).hexdigest()
    damage(cache / "components" / real.name)
    done = build(cache, NAME)
    assert done.returncode == 1
    assert done.stdout == "", "a damaged folder was handed out"
    assert "go not found" in done.stderr
    assert hashlib.sha256((real / NAME).read_bytes()).hexdigest() == before, "real cache touched"


def test_an_unknown_component_is_one_line(cache: Path) -> None:
    done = build(cache, "no-such-component")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "no component no-such-component" in line


@pytest.mark.skipif(shutil.which("go") is None, reason="rebuilding needs Go")
def test_a_damaged_copy_is_rebuilt_byte_for_byte(cache: Path, real: Path) -> None:
    """With go, the damage is repaired: the pinned build is reproducible (warm Go cache: ~10 s)."""
    _truncated(cache / "components" / real.name)
    done = build(cache, NAME, path=os.environ["PATH"])
    assert done.returncode == 0, done.stderr
    rebuilt = cache / "components" / real.name / NAME
    assert rebuilt.read_bytes() == (real / NAME).read_bytes()
    assert (rebuilt.parent / "MANIFEST").read_text().splitlines()[-1] == "complete"
