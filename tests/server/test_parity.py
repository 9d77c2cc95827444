"""`kdocs validate --server` writes the same bytes and exits with the same code as the
in-process `kdocs validate`, case by case, and the server really answered each one."""

from __future__ import annotations

import pytest

from tests.server.conftest import Project

CASES = {
    "valid file": ["-k", "1.33", "valid.yaml"],
    "invalid file": ["-k", "1.33", "invalid.yaml"],
    "YAML error with file:line": ["-k", "1.33", "broken.yaml"],
    "missing file": ["-k", "1.33", "nowhere.yaml"],
    "stdin dash (not supported: a missing file)": ["-k", "1.33", "-"],
    "bad option": ["-k", "1.33", "--bogus", "valid.yaml"],
    "bad value": ["-j", "0", "valid.yaml"],
    "unknown version": ["-k", "1.99", "valid.yaml"],
    "8 versions": ["-k", "1.30", "-k", "1.31", "-k", "1.32", "-k", "1.33", "-k", "1.34",
                   "-k", "1.35", "-k", "1.36", "-k", "1.37", "valid.yaml", "invalid.yaml"],
    "project versions, custom resource": ["widget.yaml", "bad-widget.yaml"],
    "folder, json": ["-o", "json", "-k", "1.33", "sub"],
    "junit": ["-o", "junit", "-k", "1.33", "invalid.yaml"],
    "help": ["--help"],
    "non-ASCII path": ["-k", "1.33", "été.yaml"],
}


@pytest.fixture(scope="module")
def served_project(tmp_path_factory: pytest.TempPathFactory):
    from tests.server.conftest import make_project, server_pids, stop_server

    project = make_project(tmp_path_factory.mktemp("parity") / "project")
    project.write("broken.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: [1,\nb: 2\n")
    project.write("bad-widget.yaml", "apiVersion: example.com/v1\nkind: Widget\n"
                  "metadata: {name: w}\nspec: {size: big}\n")  # fmt: skip
    project.write("sub/a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {}\n")
    project.write("sub/b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n")
    project.write("été.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadta: {}\n")
    yield project
    stop_server(str(project.root))
    assert not server_pids(project.root)


@pytest.mark.parametrize("args", CASES.values(), ids=CASES.keys())
def test_served_output_is_the_in_process_output(served_project: Project, args: list[str]):
    alone = served_project.kdocs("validate", *args)
    served = served_project.served(*args)
    assert (served.code, served.stdout, served.stderr) == (alone.code, alone.stdout, alone.stderr)
    assert b"Traceback" not in served.stderr
    assert alone.code in (0, 1, 2)


@pytest.mark.parametrize("env", [{"GITHUB_ACTIONS": "true"}, {"COLUMNS": "60"}])
def test_the_clients_environment_decides_the_output(served_project: Project, env: dict):
    """The server takes the client's variables (GitHub annotations, help width)."""
    args = ["--help"] if "COLUMNS" in env else ["-k", "1.33", "invalid.yaml"]
    alone = served_project.kdocs("validate", *args, env=env)
    served = served_project.served(*args, env=env)
    assert (served.code, served.stdout, served.stderr) == (alone.code, alone.stdout, alone.stderr)
    default = served_project.served(*args)
    assert default.stdout + default.stderr != served.stdout + served.stderr


def test_a_working_folder_below_the_root_is_the_clients(served_project: Project):
    """Paths are shown relative to where the client stands."""
    sub = served_project.root / "sub"
    before = served_project.started()
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kdocs.cli", "validate", *args, "-k",
                               "1.33", "b.yaml", "../invalid.yaml"], cwd=sub,
                              env=served_project.env, capture_output=True)  # fmt: skip

    alone, served = run(), run("--server")
    assert served_project.info()["served"] == before["served"] + 1
    assert (served.returncode, served.stdout, served.stderr) == (
        alone.returncode, alone.stdout, alone.stderr)  # fmt: skip
    assert b"../invalid.yaml" in served.stdout
