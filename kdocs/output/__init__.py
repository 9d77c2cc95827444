"""Ways to print a validation Report, behind one interface (like kubeconform's pkg/output).

    get_output("text").write(report, sys.stdout)

`text` (default): one line per problem, ``file:line:col: path: reason [k8s 1.30-1.37]``,
then a summary line.  `json`: the whole structured report.  `junit`: one test
case per resource, for CI test tabs.  `github`: ``::error file=F,line=L,col=C::msg``
workflow commands, so problems show up on the pull request's lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TextIO

from kdocs.errors import UnusableInputError

if TYPE_CHECKING:
    from kdocs.schema.api import Report


class Output(Protocol):
    """Writes a whole report to a stream."""

    def write(self, report: Report, stream: TextIO) -> None: ...


FORMATS = ("text", "json", "junit", "github")


def get_output(name: str) -> Output:
    """The writer for a format name in FORMATS; anything else is unusable input."""
    if name == "text":
        from kdocs.output.text import TextOutput

        return TextOutput()
    if name == "json":
        from kdocs.output.json import JsonOutput

        return JsonOutput()
    if name == "junit":
        from kdocs.output.junit import JunitOutput

        return JunitOutput()
    if name == "github":
        from kdocs.output.github import GithubOutput

        return GithubOutput()
    raise UnusableInputError(None, f"unknown output format {name!r} (one of {', '.join(FORMATS)})")
