"""`kdocs results merge FILE...`: bring the shards' results into the project's results file.

Each `kdocs test --shard I/N` writes its own file (CI runners do not share a
disk); this merges them, and a site built afterwards shows every shard's
verdicts. The merge policy lives in kdocs/results.py.
Exit codes: 0 merged, 2 a file missing, unreadable or in conflict with another.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kdocs.config import Settings
from kdocs.errors import ExitCode


def add_results_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `results` (with its `merge` action) to the `subparsers` of the kdocs parser."""
    parser = subparsers.add_parser("results", help="work with recorded cluster results")
    actions = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    merge = actions.add_parser(
        "merge",
        help="merge shards' results files into the results file",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
        epilog="Exit codes: 0 merged, 2 a file missing, unreadable or conflicting.",
    )
    merge.add_argument("files", nargs="+", metavar="FILE", help="results files of the shards")
    merge.add_argument("--into", help="results file to merge into (default: [tool.kdocs])")
    merge.set_defaults(run=run_merge)
    return parser


def run_merge(args: argparse.Namespace, settings: Settings) -> int:
    from kdocs.results import merge_files

    target = Path(args.into) if args.into else settings.results_file
    merged = merge_files([Path(f) for f in args.files], target, settings.root)
    print(
        f"kdocs: merged {merged.records} record(s) from {len(args.files)} file(s) into {target}"
        f" ({merged.failed} failed)",
        file=sys.stderr,
    )
    return int(ExitCode.OK)
