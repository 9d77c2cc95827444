"""A corrupt or half-written binaries cache is noticed and rebuilt, never used as is.

clusters/build/build-binaries.sh trusts a cache folder only when its MANIFEST
(written last) is complete and every binary matches its sha256. These tests
break a copy of the real cache: KDOCS_CACHE points at a temporary folder whose
binaries are hard links of the real ones (cheap, ~400 MB not copied), and
every corruption first removes the link and writes a new file, so the real
cache is never modified (checked at the end).

Most cases run with no `go` on PATH: the script must then refuse ("go not
found") instead of printing the folder, which proves it saw the damage in
seconds. Two cases really rebuild (a relink from the warm Go build cache,
about a minute each) and check that the result is whole again, byte for byte
the pinned build, and that a kwok cluster starts from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kdocs.cluster.providers.kwok import BINARIES, KwokProvider
from tests.faults.conftest import ROOT, SETTINGS, TOPOLOGY, kwok_only

SCRIPT = ROOT / "clusters" / "build" / "build-binaries.sh"
ALL = (*BINARIES, "kwokctl")
has_go = pytest.mark.skipif(shutil.which("go") is None, reason="rebuilding needs Go")


def build(cache: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """The build script with KDOCS_CACHE=`cache` (and PATH=`path` when given)."""
    env = {**os.environ, "KDOCS_CACHE": str(cache)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=3600
    )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_sums(folder: Path) -> dict[str, str]:
    """binary -> sha256 from a MANIFEST that is whole (format line, tuple, `complete` last)."""
    lines = (folder / "MANIFEST").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("kdocs-binaries-manifest v1 recipe ")
    assert lines[1] == f"tuple {folder.name}"
    assert lines[-1] == "complete"
    sums = {}
    for line in lines:
        if not line.startswith("#") and "  " in line:
            digest, name = line.split("  ", 1)
            sums[name] = digest
    return sums


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, size, mtime) of every file: any write to the real cache changes it."""
    return {
        p.name: (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.iterdir()
        if p.is_file()
    }


def without_go() -> str:
    """PATH minus every folder holding a `go` (bash, sha256sum, flock... stay)."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(f for f in folders if f and not (Path(f) / "go").exists())


def replace_file(path: Path, data: bytes, mode: int = 0o755) -> None:
    """Write `data` as a new file: the hard link to the real cache is removed, never written."""
    path.unlink(missing_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


@pytest.fixture(scope="module")
def real_bin() -> Iterator[Path]:
    """The real (warm) binaries folder; it must be exactly as before once the module is done."""
    done = build(Path(os.environ.get("KDOCS_CACHE") or Path.home() / ".cache" / "kdocs"))
    if done.returncode != 0:
        pytest.skip(f"no binaries to copy: {done.stderr.strip()[-300:]}")
    folder = Path(done.stdout.strip().splitlines()[-1])
    before, manifest = snapshot(folder), (folder / "MANIFEST").read_bytes()
    yield folder
    assert snapshot(folder) == before, "the real binaries cache was modified"
    assert (folder / "MANIFEST").read_bytes() == manifest


@pytest.fixture
def seeded(real_bin: Path, tmp_path: Path) -> Iterator[Path]:
    """A cache root whose binaries folder hard-links the real one (`cp -al`).

    In tmp_path, or next to the real cache when tmp is another filesystem (no hard links).
    """
    for parent in (tmp_path, real_bin.parents[1]):
        cache = Path(tempfile.mkdtemp(prefix="faults-cache-", dir=parent))
        (cache / "bin").mkdir()
        linked = subprocess.run(
            ["cp", "-al", str(real_bin), str(cache / "bin")], capture_output=True, text=True
        )
        if linked.returncode == 0:
            break
        shutil.rmtree(cache)
    else:
        pytest.skip(f"cannot hard-link the binaries: {linked.stderr.strip()}")
    try:
        yield cache
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def folder_of(cache: Path, real_bin: Path) -> Path:
    return cache / "bin" / real_bin.name


def _truncated(folder: Path) -> None:
    data = (folder / "kubectl").read_bytes()
    replace_file(folder / "kubectl", data[: len(data) // 2])


def _same_size_and_time(folder: Path) -> None:
    """One byte changed, size and mtime kept: only the inode tells, then the hash."""
    target = folder / "kube-scheduler"
    stat = target.stat()
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    replace_file(target, bytes(data))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _missing_binary(folder: Path) -> None:
    (folder / "etcd").unlink()


def _not_executable(folder: Path) -> None:
    replace_file(folder / "kwok", (folder / "kwok").read_bytes(), mode=0o644)


def _no_manifest(folder: Path) -> None:
    (folder / "MANIFEST").unlink()


def _manifest_cut_short(folder: Path) -> None:
    """A MANIFEST as a killed writer would leave it: every line but `complete`."""
    lines = (folder / "MANIFEST").read_text(encoding="utf-8").splitlines()
    replace_file(folder / "MANIFEST", "\n".join(lines[:-1]).encode() + b"\n", mode=0o644)


def _manifest_of_another_recipe(folder: Path) -> None:
    text = (folder / "MANIFEST").read_text(encoding="utf-8")
    replace_file(folder / "MANIFEST", text.replace(" recipe ", " recipe 0", 1).encode(), 0o644)


@pytest.mark.parametrize(
    "corrupt",
    [
        _truncated,
        _same_size_and_time,
        _missing_binary,
        _not_executable,
        _no_manifest,
        _manifest_cut_short,
        _manifest_of_another_recipe,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_damage_is_noticed_and_never_handed_out(
    seeded: Path, real_bin: Path, corrupt: Callable[[Path], None]
) -> None:
    folder = folder_of(seeded, real_bin)
    # The control, which also leaves a fresh stat fingerprint (.verified): intact, it is used.
    intact = build(seeded, without_go())
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.strip().splitlines()[-1] == str(folder)
    corrupt(folder)
    done = build(seeded, without_go())
    assert done.returncode != 0, "a damaged cache was handed out as valid"
    assert str(folder) not in done.stdout
    assert "go not found" in done.stderr, done.stderr  # it went for a rebuild


def assert_whole(folder: Path, real_bin: Path) -> None:
    """Valid again: a complete MANIFEST, every binary matching it, the pinned build's bytes."""
    sums = manifest_sums(folder)
    assert set(sums) == set(ALL)
    for name in ALL:
        assert os.access(folder / name, os.X_OK), name
        assert sha256(folder / name) == sums[name], f"{name} does not match its MANIFEST"
    # -trimpath, pinned modules and flags: the rebuild is byte for byte the real build.
    assert sums == manifest_sums(real_bin)
    assert not list(folder.glob(".stage.*")) and not (folder / ".MANIFEST.tmp").exists()


@has_go
@pytest.mark.cluster
def test_a_truncated_binary_is_rebuilt_and_matches_its_manifest(
    seeded: Path, real_bin: Path
) -> None:
    folder = folder_of(seeded, real_bin)
    _truncated(folder)
    done = build(seeded)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == str(folder)
    assert "building kubectl" in done.stderr
    assert_whole(folder, real_bin)
    assert build(seeded, without_go()).returncode == 0  # and accepted from now on


@has_go
@kwok_only
@pytest.mark.cluster
def test_a_half_written_build_is_rebuilt_and_a_cluster_starts_from_it(
    seeded: Path, real_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = folder_of(seeded, real_bin)
    # What a build killed while installing leaves: no MANIFEST yet, a staging folder
    # holding part of a binary, and the MANIFEST's temporary file.
    _no_manifest(folder)
    stage = folder / ".stage.killed"
    stage.mkdir()
    (stage / "kube-apiserver").write_bytes(b"\x7fELF partial")
    (folder / ".MANIFEST.tmp").write_text("kdocs-binaries-manifest v1 recipe 2\n")
    done = build(seeded)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == str(folder)
    assert_whole(folder, real_bin)

    monkeypatch.setenv("KDOCS_CACHE", str(seeded))
    provider = KwokProvider(SETTINGS, cluster_name=f"kdocs-faults-cache-{os.getpid()}")
    assert provider.workdir == seeded.resolve() / "kwok"
    try:
        cluster = provider.up(TOPOLOGY)
        assert provider.binaries() == folder
        assert cluster.kubectl("get", "--raw", "/readyz").returncode == 0
        components = {component.name for component in cluster.components}  # their own builds
        for link in (provider.cluster_dir / "bin").iterdir():
            if link.name not in components:
                assert link.resolve().parent == folder.resolve(), link
    finally:
        provider.down()
