"""The `kdocs` command: parses arguments and wires the stages; no logic of its own.

Every failure ends as one line on stderr and a documented exit code
(0 all good, 1 something checked and found wrong, 2 unusable input, 130
interrupted), decided here and only here for every subcommand. SIGTERM is
Ctrl-C: both unwind through the same cleanup.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: only sys at import, the fast path stays a few ms
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence


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
    "server": ("kdocs.commands.server", "add_server_parser"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    import importlib

    from kdocs.commands.parsing import Parser

    parser = Parser(prog="kdocs", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, (module, function) in COMMANDS.items():
        if only is None or name == only:
            getattr(importlib.import_module(module), function)(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. `kdocs validate --server` is first offered to this checkout's
    resident validator (`kdocs.server`), before argparse or any stage is imported; when
    it cannot answer (none yet, stale, unsafe), the command runs here as always."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from kdocs.server.client import wants_server

    if wants_server(argv):
        from kdocs.server.client import interrupted_is_130, run_by_server

        code = interrupted_is_130(run_by_server, argv)
        if code is not None:
            return code
    return run_in_process(argv)


def run_in_process(argv: list[str]) -> int:
    """Parse `argv`, run the subcommand in this process, turn every failure into one
    line and an exit code (the resident validator runs requests through this too)."""
    import signal

    from kdocs.commands.interrupts import handle_interrupts, interrupted
    from kdocs.config import load_settings
    from kdocs.errors import ExitCode, KdocsError
    from kdocs.output.github import report_problem

    previous = handle_interrupts()
    try:
        parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
        args = parser.parse_args(argv)
        settings = load_settings()
        code = int(args.run(args, settings))
        if interrupted.is_set():  # a library caught the KeyboardInterrupt (MkDocs' serve does)
            raise KeyboardInterrupt
        return code
    except KdocsError as error:
        if interrupted.is_set():  # cleanup errors after Ctrl-C: the interrupt is the news
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
        interrupted.clear()
        for signum, handler in previous.items():  # main() called in-process leaves them as found
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
