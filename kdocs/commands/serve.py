"""`kdocs serve`: MkDocs' own live preview, with the kdocs plugin's error boxes.

A broken snippet or link is shown in the page and logged as one line; it never
ends the server (the plugin knows it previews: MkDocs tells it the command).
"""

from __future__ import annotations

import argparse

from kdocs.commands.build import quiet_mkdocs_logging
from kdocs.config import Settings
from kdocs.errors import ExitCode


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="live preview; failing snippets show an error box")
    parser.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on")
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from kdocs.commands.deferred import defer_imports

    defer_imports()  # before MkDocs loads mkdocs-macros
    from mkdocs.commands.serve import serve

    quiet_mkdocs_logging(verbose=True)
    # The plugin knows it previews (MkDocs tells it the command) and watches the snippets.
    serve(
        config_file=str(settings.root / "mkdocs.yml"),
        strict=False,  # a broken link is a warning in the preview, never the end of the server
        dev_addr=args.dev_addr,
        livereload=True,
    )
    return int(ExitCode.OK)
