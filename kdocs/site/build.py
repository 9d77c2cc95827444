"""`kdocs build` and `kdocs serve`: check every page's snippets, then run MkDocs.

Checking references before MkDocs starts gives one clean line per problem,
naming page and line; the macros check again while rendering (a call with
computed arguments is only known then).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from kdocs.config import Settings
from kdocs.errors import ExitCode, KdocsError
from kdocs.output.github import report_problem
from kdocs.pipeline import SitePipeline
from kdocs.site.verify import verify_site

PREVIEW_ENV = "KDOCS_PREVIEW"  # set by `kdocs serve`: failing snippets show an error box


def add_build_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("build", help="validate every snippet, then build the site")
    parser.add_argument("--site-dir", default=None, help="output folder (default: site/)")
    parser.set_defaults(run=run_build)


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="live preview; failing snippets show an error box")
    parser.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on")
    parser.set_defaults(run=run_serve)


def run_build(args: argparse.Namespace, settings: Settings) -> int:
    from kdocs.site.guides import SiteIndex

    pipeline = SitePipeline(settings)
    docs = settings.docs_dir.relative_to(settings.root).as_posix()
    problems = SiteIndex(settings.docs_dir, docs).problems() + pipeline.check_references()
    for problem in problems:
        report_problem(problem)
    if problems:
        return int(max(p.exit_code for p in problems))
    code = _mkdocs_build(settings, args.site_dir)
    stale = pipeline.stale()
    if code == ExitCode.OK and stale:
        print(
            f"kdocs: {len(stale)} snippet{'s' if len(stale) > 1 else ''} changed since"
            f" {'they were' if len(stale) > 1 else 'it was'} proven on a cluster, badge now"
            f" 'not run' (run `kdocs test`): {', '.join(stale)}",
            file=sys.stderr,
        )
    return code


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from mkdocs.commands.serve import serve

    os.environ[PREVIEW_ENV] = "1"
    _quiet_mkdocs_logging(verbose=True)
    serve(
        config_file=str(settings.root / "mkdocs.yml"),
        strict=False,  # a broken link is a warning in the preview, never the end of the server
        dev_addr=args.dev_addr,
        livereload=True,
        watch=[str(settings.snippets_dir), *(str(d) for d in settings.crd_dirs if d.is_dir())],
    )
    return int(ExitCode.OK)


def _mkdocs_build(settings: Settings, site_dir: str | None) -> int:
    from mkdocs import exceptions
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    _quiet_mkdocs_logging(verbose=False)
    options = {"strict": True}
    if site_dir:
        options["site_dir"] = site_dir
    try:
        config = load_config(str(settings.root / "mkdocs.yml"), **options)
        build(config)
    except KdocsError:
        raise
    except exceptions.MkDocsException as error:
        # MkDocs turns a plugin's BuildError into Abort("Aborted with a BuildError!"); the
        # cause is what to report, and a page's own error (PageError) keeps its exit code.
        cause = error.__context__ if isinstance(error, exceptions.Abort) else None
        if isinstance(getattr(cause, "error", None), KdocsError):
            raise cause.error from None  # type: ignore[union-attr]
        reason = " ".join(str(cause or error).split())
        print(f"kdocs: mkdocs build failed: {reason}", file=sys.stderr)
        return int(ExitCode.FAILED)
    except SystemExit as stop:  # mkdocs-macros exits on a macro error (message already logged)
        print("kdocs: mkdocs build failed (see the error above)", file=sys.stderr)
        return int(ExitCode.FAILED) if stop.code else int(ExitCode.OK)
    checked, problems = verify_site(settings.snippets_dir, Path(config["site_dir"]))
    for problem in problems:
        report_problem(problem)
    if problems:
        return int(ExitCode.FAILED)
    print(
        f"kdocs: site built into {config['site_dir']}; {checked} injected blocks match their files",
        file=sys.stderr,
    )
    return int(ExitCode.OK)


def _quiet_mkdocs_logging(verbose: bool) -> None:
    """MkDocs logs through `logging`; show warnings and errors as single lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    if not verbose:  # MkDocs logs a failed build's cause; `_mkdocs_build` reports it as one line
        handler.addFilter(
            lambda r: not (r.name == "mkdocs.commands.build" and r.levelno >= logging.ERROR)
        )
    for name in ("mkdocs", "mkdocs_macros"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(logging.INFO if verbose else logging.WARNING)
        log.propagate = False
    # Its start-up inventory (modules, variables, macros) at every rebuild would bury the
    # one-line errors the preview prints; its warnings still show.
    logging.getLogger("mkdocs.plugins.mkdocs_macros.util").setLevel(logging.WARNING)
