"""GitHub Actions workflow commands: each problem annotates its file and line."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from kdocs.errors import KdocsError, Location

if TYPE_CHECKING:
    from kdocs.schema.api import Report


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(location: Location | None, message: str) -> str:
    """`::error file=F,line=L,col=C::message` (properties escaped as GitHub requires)."""
    props = []
    if location is not None:
        props.append(f"file={_prop(location.file)}")
        if location.line is not None:
            props.append(f"line={location.line}")
            if location.col is not None:
                props.append(f"col={location.col}")
    head = "::error " + ",".join(props) if props else "::error"
    return f"{head}::{_data(message)}"


class GithubOutput:
    def write(self, report: Report, stream: TextIO) -> None:
        for error in report.errors:
            stream.write(annotation(error.location, error.reason) + "\n")
        for file in report.files:
            for error in file.errors:
                stream.write(annotation(error.location, error.reason) + "\n")
            for document in file.documents:
                for problem in document.problems:
                    message = problem.text()[len(str(problem.location)) + 2 :]
                    stream.write(annotation(problem.location, message) + "\n")
        stream.write(report.summary() + "\n")


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def report_problem(error: KdocsError, stream: TextIO | None = None) -> None:
    """One line on stderr; in GitHub Actions also an annotation on the pull request diff."""
    stream = stream or sys.stderr
    stream.write(f"kdocs: {error}\n")
    if in_github_actions():
        stream.write(annotation(error.location, error.reason) + "\n")
