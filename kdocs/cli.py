"""The `kdocs` command: parses arguments and wires the stages; no logic of its own.

Every failure ends as one line on stderr and a documented exit code
(0 all good, 1 something checked and found wrong, 2 unusable input, 130
interrupted), decided here and only here for every subcommand. SIGTERM is
Ctrl-C: both unwind through the same cleanup.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from kdocs.config import load_settings
from kdocs.errors import ExitCode, KdocsError
from kdocs.output.github import report_problem


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized as `shutil.get_terminal_size` would size it, without
    importing shutil (and its bz2, lzma, fnmatch) on every run: argparse makes a formatter
    for each add_argument, help or not."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:  # fmt: skip
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)  # fmt: skip


def _terminal_columns() -> int:
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; make its message one line too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(ExitCode.UNUSABLE, f"kdocs: {message} (see kdocs --help)\n")


# Each subcommand's module is imported only when that subcommand runs (or for --help):
# a `kdocs validate` should not pay for importing MkDocs and the cluster stage.
COMMANDS = {
    "validate": ("kdocs.commands.validate", "add_validate_parser"),
    "build": ("kdocs.commands.build", "add_build_parser"),
    "serve": ("kdocs.commands.serve", "add_serve_parser"),
    "cluster": ("kdocs.commands.cluster", "add_cluster_parser"),
    "test": ("kdocs.commands.test", "add_test_parser"),
    "results": ("kdocs.commands.results", "add_results_parser"),
    "new": ("kdocs.commands.new", "add_new_parser"),
    "status": ("kdocs.commands.status", "add_status_parser"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    import importlib

    parser = _Parser(prog="kdocs", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (module, function) in COMMANDS.items():
        if only is None or name == only:
            getattr(importlib.import_module(module), function)(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    previous = _handle_interrupts()
    try:
        parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
        args = parser.parse_args(argv)
        settings = load_settings()
        code = int(args.run(args, settings))
        if _interrupted.is_set():  # a library caught the KeyboardInterrupt (MkDocs' serve does)
            raise KeyboardInterrupt
        return code
    except KdocsError as error:
        if _interrupted.is_set():  # cleanup errors after Ctrl-C: the interrupt is the news
            print("kdocs: interrupted", file=sys.stderr)
            return int(ExitCode.INTERRUPTED)
        report_problem(error)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("kdocs: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except OSError as error:  # a file or tool the command needed could not be used
        print(f"kdocs: {error}", file=sys.stderr)
        return int(ExitCode.UNUSABLE)
    finally:
        _interrupted.clear()
        for signum, handler in previous.items():  # main() called in-process leaves them as found
            signal.signal(signum, handler)


_interrupted = threading.Event()
_fork_hook_registered = False


def _defaults_in_child() -> None:
    """In a forked child, kdocs's handlers give way to the defaults (pool.terminate() works)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if getattr(handler, "__name__", "") == "on_interrupt":
            signal.signal(signum, signal.SIG_DFL)


def _handle_interrupts() -> dict[int, Any]:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt, so both run the same cleanup, and are
    remembered, so the exit code is 130 even where a library swallowed the exception.

    A second SIGTERM is ignored while that cleanup runs (a half-done cleanup is what leaves
    a kube-apiserver behind; SIGKILL still stops at once). A signal this process started
    with ignored (a background job's SIGINT) stays ignored. Returns the handlers replaced.
    """

    owner = os.getpid()

    def on_interrupt(signum: int, _frame: object) -> None:
        if os.getpid() != owner:  # a forked worker (pool.terminate()): die as if untouched
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        _interrupted.set()
        if signum == signal.SIGTERM:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    global _fork_hook_registered
    if not _fork_hook_registered:  # a forked worker must die of SIGTERM at once, as by default
        os.register_at_fork(after_in_child=_defaults_in_child)
        _fork_hook_registered = True
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        try:
            previous[signum] = signal.signal(signum, on_interrupt)
        except ValueError:  # not the main thread (kdocs.cli.main called from a test's thread)
            break
    return previous


if __name__ == "__main__":
    sys.exit(main())
