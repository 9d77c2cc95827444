"""Errors and exit codes shared by every stage.

Every failure a user can cause ends as one line naming the file (and line and
column where there is one) and a documented exit code, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every `kdocs` command (documented in the README)."""

    OK = 0
    FAILED = 1  # something was checked and found wrong (invalid snippet, failed scenario)
    UNUSABLE = 2  # input or arguments could not be used (missing file, binary, limit, bad flag)
    INTERRUPTED = 130  # Ctrl-C or SIGTERM; whatever was started was cleaned up


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, and a 1-based line and column when known."""

    file: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


class KdocsError(Exception):
    """A problem to report as one line; `exit_code` tells the CLI how to end."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, location: Location | str | None, reason: str) -> None:
        if isinstance(location, str):
            location = Location(location)
        self.location = location
        self.reason = " ".join(reason.split())  # always one line
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}" if self.location else self.reason


class UnusableInputError(KdocsError):
    """Input that cannot be checked at all: unreadable, binary, over a limit, bad arguments."""

    exit_code = ExitCode.UNUSABLE


class BrokenScenarioError(UnusableInputError):
    """A scenario that cannot run as written (unknown `${node:X}`, a file it names is missing).

    A broken test, not a failed claim: exit 2, and the snippets it uses keep their results.
    """


class InvalidInputError(KdocsError):
    """Input that was read and found wrong (YAML syntax, schema, missing section)."""

    exit_code = ExitCode.FAILED
