"""`kdocs validate`: one line per problem, a summary, and the documented exit code."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from kdocs.commands.validate import add_validate_parser
from kdocs.resource.limits import MiB
from tests.schema.conftest import CRDS

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
BAD_INPUTS = [
    # (file content, exit code, "line:col", words of the one line)
    ("a: [1,\nb: 2\n", 1, "3:1", "invalid YAML"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n", 1, "4:1", "tab character"),
    (CM + "data: {}\n", 1, "5:1", "duplicate key 'data'"),
    ("42\n", 1, "1:1", "is a scalar"),
    ("- apiVersion: v1\n", 1, "1:1", "is a list"),
    ("apiVersion: v1\nmetadata: {}\n", 1, "1:1", "missing kind"),
    ("kind: ConfigMap\n", 1, "1:1", "missing apiVersion"),
    (b"apiVersion: v1\nkind: Config\xe9Map\n", 2, "2:13", "not UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", 2, "3:1", "binary file"),
    ("a:" + " [" * 150 + "]" * 150 + "\n", 2, "1:", "limit max_depth"),
    (BOMB, 2, "", "limit max_alias_nodes"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "code", "where", "words"), BAD_INPUTS)
def test_every_bad_input_is_one_line_and_its_exit_code(write, validate, body, code, where, words):
    path = write("bad.yaml", body)
    run = validate(path, "-k", "1.33")
    assert run.code == code
    (line,) = run.problems
    assert line.startswith(f"{path}:{where}") and words in line
    assert run.lines[-1].startswith("1 files, 0 resources") and not run.err


def test_a_huge_file_is_one_line_and_exit_2(write, validate) -> None:
    path = write("huge.yaml", b"# " + b"x" * (5 * MiB) + b"\n")
    run = validate(path)
    assert run.code == 2 and run.problems == [
        f"{path}: file is {5 * MiB + 3} bytes, over the {5 * MiB}-byte limit (max_bytes)"
    ]


def test_missing_path_and_bad_version_are_unusable(tmp_path: Path, write, validate) -> None:
    run = validate(tmp_path / "nope.yaml")
    assert run.code == 2 and run.problems == [f"{tmp_path / 'nope.yaml'}: no such file or folder"]
    run = validate(write("cm.yaml", CM), "--kubernetes-version", "1.12")
    assert run.code == 2 and "no schemas for Kubernetes 1.12" in run.problems[0]
    run = validate(write("cm.yaml", CM), "--kubernetes-version", "latest")
    assert run.code == 2 and "not a Kubernetes version: 'latest'" in run.problems[0]


def test_valid_files_and_folders_exit_0(tmp_path: Path, write, validate) -> None:
    write("dir/a.yaml", CM)
    write("dir/sub/b.yml", CM.replace("name: c", "name: d"))
    write("dir/notes.txt", "not yaml")
    run = validate(tmp_path / "dir", "-k", "v1.31", "-k", "1.37.2")
    assert run.code == 0 and run.lines == [
        "2 files, 2 resources: 2 valid, 0 invalid, 0 unreadable or malformed;"
        " 0 scenarios: 0 clean, 0 with problems [k8s 1.31, 1.37]"
    ]


def test_schema_errors_exit_1_with_grouped_versions(write, validate) -> None:
    path = write("cm.yaml", CM.replace("\ndata:", "\ndta:"))
    run = validate(path)
    assert run.code == 1
    assert run.problems == [f"{path}:4:1: dta: unknown field 'dta' (did you mean 'data'?) "
                            "[k8s 1.30-1.37]"]  # fmt: skip


def test_no_path_validates_the_default_paths(write, capsys) -> None:
    good, bad = write("g.yaml", CM), write("b.yaml", CM.replace("\ndata:", "\ndta:"))
    parser = argparse.ArgumentParser()
    add_validate_parser(parser.add_subparsers(), default_paths=lambda settings: [good, bad])
    args = parser.parse_args(["validate", "-k", "1.30"])
    assert args.run(args, None) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{bad}:4:1: dta: unknown field")
    assert out[1].startswith("2 files, 2 resources: 1 valid, 1 invalid")


def test_crd_dir_flag(validate) -> None:
    nodepool = Path(__file__).resolve().parents[2] / "tests/fixtures/schema/nodepool-stable.yaml"
    assert validate(nodepool).code == 1
    assert validate(nodepool, "--crd-dir", CRDS).code == 0


def test_json_output(write, validate) -> None:
    path = write("cm.yaml", CM + "---\n" + CM.replace("\ndata:", "\ndta:"))
    report = json.loads(validate(path, "-o", "json", "-k", "1.30").out)
    assert report["exit_code"] == 1 and report["summary"]["invalid"] == 1
    first, second = report["files"][0]["resources"]
    assert first["valid"] and first["versions"] == {"1.30": "valid"}
    assert second["errors"] == [
        {"file": str(path), "line": 9, "col": 1, "path": "dta",
         "reason": "unknown field 'dta' (did you mean 'data'?)", "versions": ["1.30"]}
    ]  # fmt: skip
    assert second["lines"] == [6, 9] and second["kind"] == "ConfigMap"


def test_junit_output(write, validate) -> None:
    path = write("cm.yaml", CM + "---\n" + CM.replace("\ndata:", "\ndta:"))
    root = ET.fromstring(validate(path, "-o", "junit").out)
    assert root.get("tests") == "2" and root.get("failures") == "1"
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None and "unknown field 'dta'" in failure.get("message", "")


def test_github_output(write, validate) -> None:
    path = write("a,b.yaml", CM.replace("\ndata:", "\ndta:"))
    line = validate(path, "-o", "github").lines[0]
    assert line == (
        f"::error file={str(path).replace(',', '%2C')},line=4,col=1::"
        "dta: unknown field 'dta' (did you mean 'data'?) [k8s 1.30-1.37]"
    )


@pytest.mark.parametrize("columns", ["200", "60", "", "junk"])
def test_help_is_wrapped_as_argparse_wraps_it_without_importing_shutil(
    columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kdocs' formatter sizes help as shutil.get_terminal_size would (COLUMNS, the terminal,
    80); its only purpose is not to import shutil on every run."""
    from kdocs import cli
    from kdocs.commands.parsing import Formatter

    monkeypatch.setenv("COLUMNS", columns)
    ours = cli.build_parser()
    stock = cli.build_parser()
    for parser in (stock, *stock._subparsers._group_actions[0].choices.values()):
        parser.formatter_class = argparse.HelpFormatter
    mine = [ours, *ours._subparsers._group_actions[0].choices.values()]
    theirs = [stock, *stock._subparsers._group_actions[0].choices.values()]
    assert all(p.formatter_class is Formatter for p in mine)
    for a, b in zip(mine, theirs, strict=True):
        assert a.format_help() == b.format_help()
