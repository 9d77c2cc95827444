"""Plain text: one line per problem, then one summary line."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kdocs.schema.api import Report


class TextOutput:
    def write(self, report: Report, stream: TextIO) -> None:
        for line in report.lines():
            stream.write(line + "\n")
        stream.write(report.summary() + "\n")
