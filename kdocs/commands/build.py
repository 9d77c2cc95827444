"""`kdocs build`: MkDocs' own build, with kdocs' exit codes (`kdocs serve` shares its logging).

Every check lives in the kdocs MkDocs plugin (kdocs/mkdocs/), so these
commands only run MkDocs strictly, print each problem the plugin raised as one
`kdocs: page:line: reason` line, and end with the problem's exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys

from kdocs.config import Settings
from kdocs.errors import ExitCode


def add_build_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("build", help="validate every snippet, then build the site")
    parser.add_argument("--site-dir", default=None, help="output folder (default: site/)")
    parser.add_argument(
        "--require-complete", action="store_true",
        help="refuse (exit 1) when a unit of the site has no recorded result for its current "
        "inputs, e.g. no shard ran it",
    )  # fmt: skip
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="show MkDocs' messages, and why a page or badge took kdocs' slower general path",
    )  # fmt: skip
    parser.set_defaults(run=run_build)


def run_build(args: argparse.Namespace, settings: Settings) -> int:
    from kdocs.commands.deferred import defer_imports

    defer_imports()  # before MkDocs loads mkdocs-macros
    from mkdocs import exceptions
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from kdocs.mkdocs.errors import SiteProblems
    from kdocs.mkdocs.plugin import kdocs_plugin
    from kdocs.output.github import report_problem

    if getattr(args, "require_complete", False):
        from kdocs.recording import unrecorded_units

        missing = unrecorded_units(settings)
        for line in missing:  # one line per unit, and nothing published
            print(f"kdocs: {line}", file=sys.stderr)
        if missing:
            return int(ExitCode.FAILED)
    verbose = bool(getattr(args, "verbose", False))
    quiet_mkdocs_logging(verbose=verbose)
    if verbose:
        logging.getLogger("mkdocs.plugins.kdocs").setLevel(logging.DEBUG)
    options: dict[str, object] = {"strict": True}
    if args.site_dir:
        options["site_dir"] = args.site_dir
    try:
        config = load_config(str(settings.root / "mkdocs.yml"), **options)
        build(config)
    except exceptions.MkDocsException as error:
        # MkDocs turns a plugin's BuildError into Abort("Aborted with a BuildError!"); the
        # cause is what to report, and kdocs' own problems keep their exit codes.
        cause = error.__context__ if isinstance(error, exceptions.Abort) else error
        if isinstance(cause, SiteProblems):
            for problem in cause.errors:
                report_problem(problem)
            return cause.exit_code
        reason = " ".join(str(cause or error).split())
        print(f"kdocs: mkdocs build failed: {reason}", file=sys.stderr)
        return int(ExitCode.FAILED)
    plugin = kdocs_plugin(config)
    checked = f"; {plugin.blocks_checked} injected blocks match their files"
    print(
        f"kdocs: site built into {config['site_dir']}{checked if plugin.config.verify else ''}",
        file=sys.stderr,
    )
    if line := plugin.stale_line():  # last, where it is seen
        print(line, file=sys.stderr)
    return int(ExitCode.OK)


def quiet_mkdocs_logging(verbose: bool) -> None:
    """MkDocs logs through `logging`; show warnings and errors as single lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    if not verbose:  # a failed build's cause is reported once, by `run_build`, as one line
        handler.addFilter(
            lambda r: (
                not (
                    r.name in ("mkdocs.commands.build", "mkdocs.plugins.kdocs")
                    and r.levelno >= logging.ERROR
                )
            )
        )
    for name in ("mkdocs", "mkdocs_macros"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(logging.INFO if verbose else logging.WARNING)
        log.propagate = False
    # Its start-up inventory (modules, variables, macros) at every rebuild would bury the
    # one-line errors the preview prints; its warnings still show.
    logging.getLogger("mkdocs.plugins.mkdocs_macros.util").setLevel(logging.WARNING)
