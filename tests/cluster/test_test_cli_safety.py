"""`kdocs test` never applies a snippet to a context that is not a throwaway cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cluster.test_providers import write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = ROOT / "snippets" / "contributing" / "web-deployment.yaml"


def kdocs_test(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", "test", "--provider", "kubeconfig", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_production_context_is_refused_naming_it_and_the_flag(tmp_path: Path) -> None:
    # Nothing listens on this address: a refusal must come before any contact.
    config = write_kubeconfig(tmp_path / "config", {"prod-eu": "https://10.0.0.1:6443"}, "prod-eu")
    copy = tmp_path / "deployment.yaml"
    copy.write_bytes(SNIPPET.read_bytes())
    done = kdocs_test("--kubeconfig", str(config), str(copy), cwd=ROOT)
    assert done.returncode == 2
    assert "'prod-eu'" in done.stderr and "--allow-context prod-eu" in done.stderr
    assert "Traceback" not in done.stderr


def test_allowing_another_context_allows_nothing(tmp_path: Path) -> None:
    config = write_kubeconfig(tmp_path / "config", {"prod-eu": "https://10.0.0.1:6443"}, "prod-eu")
    copy = tmp_path / "deployment.yaml"
    copy.write_bytes(SNIPPET.read_bytes())
    done = kdocs_test(
        "--kubeconfig", str(config), "--allow-context", "staging", str(copy), cwd=ROOT
    )
    assert done.returncode == 2
    assert "'prod-eu'" in done.stderr


def test_allow_context_only_goes_with_the_kubeconfig_provider(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kdocs.cli", "test", "--provider", "kwok",
         "--allow-context", "x", str(SNIPPET)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--allow-context only applies to --provider kubeconfig" in done.stderr
