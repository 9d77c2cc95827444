"""The pre-commit hooks this repository offers, run by pre-commit itself in another repository.

That repository's `.pre-commit-config.yaml` names this checkout at its HEAD commit as a
user's names a tag; `pre-commit run` installs it into a fresh environment (pip) and
runs both hooks on the files given: the output asserted is what a contributor sees at
`git commit`. One install (~30 s with pip's cache) serves both hooks. It is the
committed hooks and code that run (CI tests a clean clone); `try-repo` would take
uncommitted changes too, but deletes its environment, and the resident validator's
with it, before anything can ask that validator again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOOD = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
"""
BAD_LINE = (
    "bad.yaml:8:13: spec.ports[0].port: expected integer, got string 'eighty' [k8s 1.30-1.37]"
)
SUMMARY = "2 files, 2 resources: 1 valid, 1 invalid, 0 unreadable or malformed [k8s 1.30-1.37]"


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_manifest_is_valid_for_pre_commit() -> None:
    done = _run([sys.executable, "-m", "pre_commit", "validate-manifest",
                 ".pre-commit-hooks.yaml"], REPO, dict(os.environ))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_both_hooks_refuse_a_bad_manifest_in_another_repository(tmp_path: Path) -> None:
    user = tmp_path / "their-repo"
    user.mkdir()
    (user / "good.yaml").write_text(GOOD)
    (user / "bad.yaml").write_text(GOOD.replace("port: 80", 'port: "eighty"'))
    (user / "web.scenario.yaml").write_text("steps: [not a manifest]\n")  # excluded
    (user / "notes.txt").write_text("not YAML\n")  # not matched
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit"),
           "KDOCS_CACHE": str(tmp_path / "kdocs-cache"), "KDOCS_SERVER_IDLE": "60"}  # fmt: skip
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()  # fmt: skip
    (user / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {head}\n    hooks:\n"
        "      - id: kdocs-validate\n      - id: kdocs-validate-server\n"
    )
    for args in (["init", "-q"], ["add", "."]):
        subprocess.run(["git", *args], cwd=user, check=True, timeout=60)
    files = ["good.yaml", "bad.yaml", "web.scenario.yaml", "notes.txt"]
    try:
        done = _run([sys.executable, "-m", "pre_commit", "run", "--files", *files], user, env)
        out = done.stdout
        assert done.returncode == 1, out + done.stderr
        sections = out.split("- hook id: ")[1:]
        assert [s.splitlines()[0] for s in sections] == [
            "kdocs-validate", "kdocs-validate-server"
        ], out
        for section in sections:  # each: kdocs' exit code, then its two lines
            lines = [line for line in section.splitlines()[1:] if line.strip()]
            assert lines[:1] == ["- exit code: 1"], section
            assert lines[1:3] == [BAD_LINE, SUMMARY], section

        # The server hook started a resident validator of the hook's environment (in the
        # background): the same command is then answered by it, with the same bytes.
        (kdocs,) = (tmp_path / "pre-commit").glob("repo*/py_env-*/bin/kdocs")
        deadline = time.monotonic() + 60
        while _run([str(kdocs), "server", "status"], user, env).returncode != 0:
            assert time.monotonic() < deadline, "the server hook left no resident validator"
            time.sleep(0.2)
        served = _run([str(kdocs), "validate", "--server", *files[:2]], user, env)
        assert (served.returncode, served.stdout + served.stderr) == (1, f"{BAD_LINE}\n{SUMMARY}\n")
        status = _run([str(kdocs), "server", "status"], user, env).stdout
        assert ", 1 requests served" in status, status
    finally:
        for kdocs in (tmp_path / "pre-commit").glob("repo*/py_env-*/bin/kdocs"):
            _run([str(kdocs), "server", "stop"], user, env)
