"""The `kdocs` command: parses arguments and wires the stages; no logic of its own.

Every failure ends as one line on stderr and a documented exit code
(0 all good, 1 something checked and found wrong, 2 unusable input).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kdocs.config import load_settings
from kdocs.errors import ExitCode, KdocsError
from kdocs.output.github import report_problem


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; make its message one line too."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(ExitCode.UNUSABLE, f"kdocs: {message} (see kdocs --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from kdocs.cluster.cli import add_cluster_parser
    from kdocs.cluster.test_cli import add_test_parser
    from kdocs.schema.cli import add_validate_parser
    from kdocs.site.build import add_build_parser, add_serve_parser

    parser = _Parser(prog="kdocs", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_validate_parser(commands)
    add_build_parser(commands)
    add_serve_parser(commands)
    add_cluster_parser(commands)
    add_test_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return int(args.run(args, settings))
    except KdocsError as error:
        report_problem(error)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("kdocs: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
