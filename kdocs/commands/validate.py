"""`kdocs validate`: the argument parser and runner the `kdocs` CLI wires in.

    kdocs validate [PATH ...] [--kubernetes-version V ...] [--crd-dir DIR ...]
                   [--output text|json|junit|github] [--server]

No PATH means every snippet and scenario of the site (`kdocs.catalog`).  Versions
default to the project's ``kubernetes-versions`` setting, CRD folders to its
``crd-dirs`` plus any ``--crd-dir``.  Returns the Report's exit code (0/1/2).

``--server`` is taken by `kdocs.cli.main` before this parser exists: the request
goes to the resident validator (`kdocs.server`), which runs this same code; here
the flag changes nothing.

Scenario files (``*.scenario.yaml``, given or found in a folder) are not
Kubernetes objects: they go through the scenario lint (`kdocs.scenario.lint`)
instead, against the project's topologies, and the summary counts them apart.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kdocs.output import FORMATS, get_output
from kdocs.output.github import in_github_actions


def add_validate_parser(
    subparsers: Any, default_paths: Callable[[Any], list[Path]] | None = None
) -> argparse.ArgumentParser:
    """Add `validate` to an argparse subparsers object; `args.run(args, settings)` runs it."""
    parser = subparsers.add_parser(
        "validate",
        help="strict offline schema validation of YAML files or folders, scenario lint",
        description="Validate Kubernetes YAML against the schemas of every Kubernetes "
        "version in the matrix (custom resources against their CRDs), offline; "
        "lint scenario files (*.scenario.yaml) against the scenario format.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders (default: every snippet of the site)",
    )
    parser.add_argument(
        "--kubernetes-version",
        "-k",
        action="append",
        dest="versions",
        metavar="V",
        help="Kubernetes minor to validate for, like 1.31; repeat for several "
        "(default: the project's kubernetes-versions, else 1.30 to the newest shipped)",
    )
    parser.add_argument(
        "--crd-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="folder of CRD files, in addition to the project's crd-dirs",
    )
    parser.add_argument(
        "--output",
        "-o",
        choices=FORMATS,
        default=None,
        help="report format (default: github when GITHUB_ACTIONS=true, else text)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=_positive,
        default=None,
        metavar="N",
        help="worker processes (default: one per core for large runs, see kdocs.schema.api)",
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="ask this checkout's resident validator, which keeps schemas compiled: the "
        "first call starts it in the background (and runs here), later calls only "
        "connect; it exits after KDOCS_SERVER_IDLE seconds idle (default 600) or when "
        "kdocs' code or settings change; see `kdocs server status|stop`",
    )
    parser.set_defaults(run=run_validate, default_paths=default_paths)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def _snippets(settings: Any) -> list[Path]:
    from kdocs.catalog import snippet_files

    return snippet_files(settings)


def _shown(path: Path) -> Path:
    """Paths under the working folder are shown relative to it, as a user typed them."""
    try:
        return path.relative_to(Path.cwd()) if path.is_absolute() else path
    except ValueError:  # elsewhere: keep it absolute rather than ../../
        return path


def run_validate(args: argparse.Namespace, settings: Any = None) -> int:
    """Validate, print the report to stdout in the chosen format, return the exit code."""
    from kdocs.schema.api import validate_paths

    paths = list(args.paths)
    scenarios: list[Path] | None = None  # None: none asked for, the summary says nothing
    listed: dict[Path, list[Path]] = {}  # folders walked once, for both uses
    if not paths:
        finder = getattr(args, "default_paths", None)
        paths = [_shown(p) for p in (finder or _snippets)(settings)]
        if finder is None and settings is not None:
            from kdocs.catalog import scenario_files

            scenarios = [_shown(p) for p in scenario_files(settings)]
    else:
        paths, scenarios = _split_scenarios(paths, listed)
    versions = args.versions or (list(settings.kubernetes_versions) if settings else None)
    crd_dirs = [*(settings.crd_dirs if settings else ()), *args.crd_dir]
    crd_dirs = [d for d in crd_dirs if d.is_dir() or d in args.crd_dir]
    if paths or not scenarios:
        jobs = getattr(args, "jobs", None)
        report = validate_paths(paths, versions, crd_dirs, jobs=jobs, listed=listed)
    else:  # scenarios only: no schema is needed
        from kdocs.schema.api import Report

        report = Report(())
    if scenarios is not None:
        _lint_scenarios(report, scenarios, settings)
    output = args.output or ("github" if in_github_actions() else "text")
    get_output(output).write(report, sys.stdout)
    return report.exit_code


def _split_scenarios(
    paths: list[Path], listed: dict[Path, list[Path]]
) -> tuple[list[Path], list[Path] | None]:
    """Manifest paths for the schema check, scenario files for the lint (None: no folder
    and no scenario given). A folder holding only scenarios is not a folder without YAML.
    Each folder's YAML files are put in `listed`, so the schema check does not walk it again."""
    from kdocs.catalog import is_scenario
    from kdocs.schema.api import yaml_files

    manifests: list[Path] = []
    scenarios: list[Path] = []
    looked = False
    for path in paths:
        if path.is_file() and is_scenario(path):
            scenarios.append(path)
            looked = True
        elif path.is_dir():
            looked = True
            found = listed[path] = yaml_files(path)
            scenarios.extend(p for p in found if is_scenario(p))
            if not found or not all(is_scenario(p) for p in found):
                manifests.append(path)
        else:
            manifests.append(path)
    return manifests, (scenarios if looked else None)


def _lint_scenarios(report: Any, scenarios: list[Path], settings: Any) -> None:
    """Add one FileReport per scenario to `report`, with every problem the lint finds."""
    from kdocs.errors import KdocsError
    from kdocs.scenario.lint import lint_scenario
    from kdocs.schema.api import FileReport

    root = Path.cwd()  # messages name files as the user typed them, like the schema check's
    topologies: list[Any] | None = None
    if scenarios and settings is not None:
        try:
            topologies = _topologies(settings.clusters_dir)
        except KdocsError as error:  # a broken topology is said once; node checks are skipped
            report.errors.append(error)
    for path in scenarios:
        snippets_dir = settings.snippets_dir if settings is not None else path.parent
        errors = lint_scenario(path, root, snippets_dir, topologies)
        report.files.append(FileReport(_display(path, root), errors=errors, scenario=True))
    report.scenarios_checked = True


def _topologies(clusters_dir: Path) -> list[Any] | None:
    """Every topology of the project: a `${node:...}` must work on one of them."""
    # The CLI wires stages: the lint takes topologies as facts, the cluster stage reads them.
    from kdocs.cluster.topology import available_topologies, load_topology, topology_path

    names = available_topologies(clusters_dir)
    return [load_topology(topology_path(clusters_dir, n)) for n in names] or None


def _display(path: Path, root: Path) -> str:
    from kdocs.scenario.model import display

    return display(path, root)


def main(argv: list[str] | None = None) -> int:
    """`python -m kdocs.commands.validate validate ...`: the subcommand alone, without project
    settings unless a [tool.kdocs] pyproject is found (for benchmarks and debugging)."""
    from kdocs.config import load_settings
    from kdocs.errors import KdocsError

    parser = argparse.ArgumentParser(prog="kdocs")
    add_validate_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except KdocsError:
        settings = None
    try:
        return args.run(args, settings)
    except KdocsError as error:
        print(f"kdocs: {error}", file=sys.stderr)
        return int(error.exit_code)


if __name__ == "__main__":
    sys.exit(main())
