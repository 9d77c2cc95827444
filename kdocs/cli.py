"""The `kdocs` command: parses arguments and wires the stages; no logic of its own.

Every failure ends as one line on stderr and a documented exit code
(0 all good, 1 something checked and found wrong, 2 unusable input, 130
interrupted), decided here and only here for every subcommand. SIGTERM is
Ctrl-C: both unwind through the same cleanup.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from typing import Any

from kdocs.config import load_settings
from kdocs.errors import ExitCode, KdocsError
from kdocs.output.github import report_problem


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; make its message one line too."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(ExitCode.UNUSABLE, f"kdocs: {message} (see kdocs --help)\n")


# Each subcommand's module is imported only when that subcommand runs (or for --help):
# a `kdocs validate` should not pay for importing MkDocs and the cluster stage.
COMMANDS = {
    "validate": ("kdocs.schema.cli", "add_validate_parser"),
    "build": ("kdocs.site.build", "add_build_parser"),
    "serve": ("kdocs.site.build", "add_serve_parser"),
    "cluster": ("kdocs.cluster.cli", "add_cluster_parser"),
    "test": ("kdocs.cluster.test_cli", "add_test_parser"),
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
    previous = _terminate_like_ctrl_c()
    try:
        parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
        args = parser.parse_args(argv)
        settings = load_settings()
        return int(args.run(args, settings))
    except KdocsError as error:
        report_problem(error)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("kdocs: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except OSError as error:  # a file or tool the command needed could not be used
        print(f"kdocs: {error}", file=sys.stderr)
        return int(ExitCode.UNUSABLE)
    finally:
        if previous is not None:  # main() called in-process (tests) leaves signals as found
            signal.signal(signal.SIGTERM, previous)


def _terminate_like_ctrl_c() -> signal.Handlers | Any | None:
    """SIGTERM raises KeyboardInterrupt once, so every cleanup Ctrl-C runs runs for it too.

    Later SIGTERMs are ignored while that cleanup runs (a half-done cleanup is what
    leaves a kube-apiserver behind); SIGKILL remains the way to stop at once.
    """
    def on_term(_signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, on_term)
    except ValueError:
        return None  # not the main thread (kdocs.cli.main called from a test's thread)


if __name__ == "__main__":
    sys.exit(main())
