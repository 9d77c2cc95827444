"""[tool.kdocs] is checked: a typo or a wrong type is one line naming pyproject.toml:line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kdocs.config import load_settings
from kdocs.errors import ExitCode, UnusableInputError

KDOCS = Path(sys.executable).parent / "kdocs"


def _project(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.kdocs]\n' + body, encoding="utf-8"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('snippet-dir = "s"\n', "pyproject.toml:5: unknown key 'snippet-dir' in [tool.kdocs]; "
         "did you mean 'snippets-dir'?"),
        ('docs-dir = "d"\nzzz = 1\n', "pyproject.toml:6: unknown key 'zzz' in [tool.kdocs] ("),
        ('crd-dirs = "ab"\n', "pyproject.toml:5: crd-dirs must be a list of paths"),
        ("kubernetes-versions = [1.30]\n", "pyproject.toml:5: kubernetes-versions must be a list "
         'of version strings (["1.30", "1.31"]), not list [1.3]'),
        ("docs-dir = 3\n", "pyproject.toml:5: docs-dir must be a path as a string"),
        ("[tool.kdocs.extras]\na = 1\n", "pyproject.toml:5: unknown key 'extras' in [tool.kdocs]; "
         "did you mean 'extra'?"),
    ],
)  # fmt: skip
def test_unknown_keys_and_wrong_types_are_refused(tmp_path, body, message) -> None:
    root = _project(tmp_path, body)
    with pytest.raises(UnusableInputError) as caught:
        load_settings(root)
    assert message in str(caught.value)
    assert caught.value.exit_code == ExitCode.UNUSABLE


def test_every_kdocs_command_refuses_it_in_one_line_exit_2(tmp_path) -> None:
    root = _project(tmp_path, 'snippet-dir = "s"\n')
    for command in (["validate", "."], ["build"], ["test"]):
        done = subprocess.run(
            [str(KDOCS), *command], cwd=root, capture_output=True, text=True, timeout=60,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 2, (command, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "did you mean 'snippets-dir'?" in lines[0], done.stderr


def test_the_project_own_settings_are_valid() -> None:
    settings = load_settings(Path(__file__).resolve().parents[1])
    assert settings.kubernetes_versions[0] == "1.30"


def test_a_pyproject_that_is_not_utf8_is_refused_at_its_line_not_a_traceback(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.kdocs]\ndocs-dir = "docs"\n# caf\xe9\n')
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    done = subprocess.run(
        [str(KDOCS), "validate", "a.yaml"], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"kdocs: {tmp_path.resolve()}/pyproject.toml:3:6: not UTF-8 text (byte 0xe9)"
    ]


def test_the_server_client_and_the_settings_find_the_same_project(tmp_path) -> None:
    from kdocs.config import find_root
    from kdocs.server.address import project_root

    inner = tmp_path / "outer" / "inner"
    inner.mkdir(parents=True)
    (tmp_path / "outer" / "pyproject.toml").write_bytes(b"[tool.kdocs]\n# \xff\n")
    (inner / "pyproject.toml").write_text("[tool.other]\n")
    assert find_root(inner) == (tmp_path / "outer").resolve()
    assert project_root(str(inner)) == str((tmp_path / "outer").resolve())
    alone = tmp_path / "alone"
    alone.mkdir()
    assert find_root(alone) is None  # no project above pytest's temporary folders
    assert project_root(str(alone)) == str(alone.resolve())
