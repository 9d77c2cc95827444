"""The cluster gate of tests/conftest.py, run on a small suite made to need it.

A test that uses the `cluster` fixture without a mark must still be marked (so
`-m "not cluster"` leaves it out), skipped with a visible reason when the
provider cannot run here, and failed under CI=true, where a skip must never
pass for a proof. Each case runs a real pytest in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")
REPO = CONFTEST.parent.parent
SUITE = """\
import pytest

@pytest.fixture
def cluster():
    return "a cluster"

def test_unmarked_but_uses_the_cluster(cluster):
    assert cluster

def test_pure_unit():
    assert True
"""


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "test_suite.py").write_text(SUITE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    cluster: needs a cluster\n")
    return tmp_path


def run(suite: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "KDOCS_PROVIDER")}
    # The copied conftest loads the suite's browser plugin (`tests.chromium`) by module name.
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "pytest", "-q", "-rsfE", "-p", "no:cacheprovider", *args]
    return subprocess.run(
        command, cwd=suite, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def no_kind_path(tmp_path: Path) -> str:
    """A PATH with only the tools pytest needs: kind and docker are not on it."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("bash", "kubectl"):
        if found := shutil.which(name):
            (tools / name).symlink_to(found)
    return str(tools)


def test_an_unmarked_test_using_the_cluster_fixture_is_marked(suite: Path) -> None:
    done = run(suite, "-m", "not cluster")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 deselected" in done.stdout


def test_without_a_usable_provider_a_cluster_test_is_skipped_with_the_reason(
    suite: Path, tmp_path: Path
) -> None:
    done = run(suite, KDOCS_PROVIDER="kind", PATH=no_kind_path(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 skipped" in done.stdout
    assert "SKIPPED" in done.stdout and "provider kind cannot run here: kind, docker" in done.stdout


def test_under_ci_a_cluster_test_without_a_provider_fails(suite: Path, tmp_path: Path) -> None:
    done = run(suite, KDOCS_PROVIDER="kind", PATH=no_kind_path(tmp_path), CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed, 1 error" in done.stdout and "SKIPPED" not in done.stdout
    assert "CI=true: a cluster test may not be skipped" in done.stdout


def test_an_unknown_provider_is_named(suite: Path) -> None:
    done = run(suite, KDOCS_PROVIDER="kwik")
    assert "SKIPPED" in done.stdout and "unknown provider 'kwik'" in done.stdout
