"""The one error the plugin raises: MkDocs prints it as a line, `kdocs build` reads the exit code.

MkDocs stops a build on a PluginError (a BuildError) with its message and no
traceback; the kdocs errors it carries keep their `page:line` locations and
exit codes for `kdocs build`, which reports each on its own line.
"""

from __future__ import annotations

from mkdocs.exceptions import PluginError

from kdocs.errors import KdocsError


class SiteProblems(PluginError):
    def __init__(self, errors: list[KdocsError]) -> None:
        self.errors = errors
        if len(errors) == 1:
            message = str(errors[0])
        else:  # each was logged on its own line just before
            message = f"{len(errors)} problems, listed above; the first: {errors[0]}"
        super().__init__(message)

    @property
    def exit_code(self) -> int:
        return int(max(error.exit_code for error in self.errors))
