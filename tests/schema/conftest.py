"""Helpers for the schema stage tests: write YAML, run `kdocs validate` in-process."""

from __future__ import annotations

import argparse
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from kdocs.commands.validate import add_validate_parser

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "schema"
CRDS = REPO / "schemas" / "crds"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.strip().splitlines()

    @property
    def problems(self) -> list[str]:
        """Every output line but the summary."""
        return self.lines[:-1]


@pytest.fixture
def write(tmp_path: Path):
    """write("a.yaml", text) -> path; text is dedented; bytes are written as they are."""

    def _write(name: str, body: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, str):
            path.write_text(textwrap.dedent(body), encoding="utf-8")
        else:
            path.write_bytes(body)
        return path

    return _write


@pytest.fixture
def validate(capsys: pytest.CaptureFixture[str]):
    """validate(*argv) runs `kdocs validate ARGV` as the CLI would, with no project settings."""

    def _run(*argv: str | Path) -> Run:
        parser = argparse.ArgumentParser(prog="kdocs")
        add_validate_parser(parser.add_subparsers(dest="command"))
        args = parser.parse_args(["validate", *map(str, argv)])
        code = args.run(args, None)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return _run
