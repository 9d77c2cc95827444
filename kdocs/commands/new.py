"""`kdocs new guide NAME --category C`: arguments and exit code; the scaffold is
`kdocs.site.scaffold`, which checks every file before writing any.
"""

from __future__ import annotations

import argparse
import sys

from kdocs.config import Settings, find_root
from kdocs.errors import ExitCode, UnusableInputError
from kdocs.site.scaffold import new_guide


def add_new_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("new", help="scaffold a new guide")
    kinds = parser.add_subparsers(dest="kind", required=True, parser_class=type(parser))
    guide = kinds.add_parser("guide", help="a page, a first snippet and its scenario")
    guide.add_argument("name", help="file and snippet folder name, e.g. scale-with-keda")
    guide.add_argument("--category", required=True, help="folder under docs/guides/, e.g. basics")
    guide.add_argument("--title", help="page title (default: from the name)")
    guide.add_argument("--author", help="GitHub login shown as the author")
    guide.set_defaults(run=run_new_guide)


def run_new_guide(args: argparse.Namespace, settings: Settings) -> int:
    if find_root(settings.root) is None:  # never scatter a guide's files outside a project
        raise UnusableInputError(
            None, "not inside a kdocs project (no pyproject.toml with [tool.kdocs] here or above)"
        )
    created = new_guide(settings, args.name, args.category, title=args.title, author=args.author)
    for path in created:
        print(f"created {path.relative_to(settings.root)}", file=sys.stderr)
    print(f"next: kdocs serve, then kdocs test snippets/{args.name}/", file=sys.stderr)
    return int(ExitCode.OK)
