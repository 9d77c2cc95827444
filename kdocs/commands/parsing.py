"""argparse for `kdocs`, with one-line errors and help sized without importing shutil.

Apart from `kdocs/cli.py` so that the command line's first step, the resident
validator's fast path (`kdocs.server.client`), runs before argparse is imported.
"""

from __future__ import annotations

import argparse
from typing import Any

from kdocs.errors import ExitCode
from kdocs.server.client import terminal_columns


class Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized as `shutil.get_terminal_size` would size it, without
    importing shutil (and its bz2, lzma, fnmatch) on every run: argparse makes a formatter
    for each add_argument, help or not."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:  # fmt: skip
        super().__init__(prog, indent_increment, max_help_position,
                         terminal_columns() - 2 if width is None else width)  # fmt: skip


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; make its message one line too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(ExitCode.UNUSABLE, f"kdocs: {message} (see kdocs --help)\n")
