"""`kdocs status`: every page, its snippets and sections, which scenarios cover each
snippet, and each one's state, as text or JSON.

It reports and never fails on what it finds: a failed, stale or invalid snippet is a
state in the report and the exit code is 0. Unusable input (a broken results file,
a bad `[tool.kdocs]`, a bad flag) is one line and exit 2, as for every command.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TextIO

from kdocs.config import Settings
from kdocs.errors import ExitCode
from kdocs.site.steps import CONTROL
from kdocs.status import FAILED, INVALID, STALE, SiteStatus, SnippetStatus, UnitStatus


def add_status_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status", help="what is tested: every page, snippet, scenario and its state"
    )
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.add_argument("--json", dest="output", action="store_const", const="json",
                        help="same as --output json")  # fmt: skip
    parser.set_defaults(run=run_status)


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    from kdocs.pipeline import SitePipeline
    from kdocs.status import site_status

    pipeline = SitePipeline(settings)
    status = site_status(pipeline)
    pipeline.checks.save()  # the schema verdicts it computed serve the next build too
    if args.output == "json":
        json.dump(status_json(status), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        write_text(status, sys.stdout)
    return int(ExitCode.OK)


def status_json(status: SiteStatus) -> dict:
    """The report for tools: plain data, states as the text shows them."""
    return {
        "format": 1,
        "pages": [
            {
                "page": page,
                "snippets": sorted(
                    (
                        {"snippet": s.rel, "line": u.line, "section": u.section, "state": s.state}
                        for s in status.snippets
                        for u in s.used_on
                        if u.page == page
                    ),
                    key=lambda use: use["line"],
                ),
            }
            for page in status.pages
        ],
        "snippets": [{**asdict(s), "state": s.state} for s in status.snippets],
        "scenarios": [{**asdict(s), "state": s.state} for s in status.scenarios],
    }


def write_text(status: SiteStatus, out: TextIO) -> None:
    """Pages and their snippets, snippets on no page, then the scenarios, then one summary."""
    shown: set[str] = set()
    for page in status.pages:
        uses = sorted(
            ((use.line, s, use.section) for s in status.snippets for use in s.used_on
             if use.page == page),
            key=lambda item: item[0],
        )  # fmt: skip
        if not uses:
            continue
        out.write(f"{page}\n")
        for line, snippet, section in uses:
            shown.add(snippet.rel)
            where = f"{snippet.rel}" + (f" [{section}]" if section else "") + f" (line {line})"
            _snippet_lines(out, where, snippet)
    rest = [s for s in status.snippets if s.rel not in shown]
    if rest:
        out.write("not on any page\n")
        for snippet in rest:
            _snippet_lines(out, snippet.rel, snippet)
    if status.scenarios:
        out.write("scenarios\n")
    for scenario in status.scenarios:
        controls = sum(1 for step in scenario.steps if step.role == CONTROL)
        facts = f"{len(scenario.steps)} steps, {controls} negative control"
        facts += "" if controls == 1 else "s"
        out.write(f"  {scenario.name} ({scenario.source}): {_unit_words(scenario.result)}")
        out.write(f"; {scenario.problem}\n" if scenario.problem else f"; {facts}\n")
    counts: dict[str, int] = {}
    for snippet in status.snippets:
        counts[snippet.state] = counts.get(snippet.state, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    out.write(
        f"kdocs: {len(status.snippets)} snippets ({summary or 'none'}),"
        f" {len(status.scenarios)} scenarios\n"
    )


def _snippet_lines(out: TextIO, where: str, snippet: SnippetStatus) -> None:
    out.write(f"  {where}: {snippet.state}\n")
    if snippet.state == INVALID:
        out.write(f"    {snippet.offline_detail}\n")
    for unit in snippet.units:
        label = f"scenario {unit.name}" if unit.kind == "scenario" else unit.name
        out.write(f"    {label}: {_unit_words(unit)}\n")


def _unit_words(unit: UnitStatus | None) -> str:
    if unit is None:
        return "invalid"
    if not unit.date:
        return unit.state
    facts = [unit.cluster, f"Kubernetes {unit.kubernetes_version}", unit.date[:10]]
    if unit.seconds:
        facts.append(f"{unit.seconds:.0f} s")
    words = f"{unit.state} ({', '.join(facts)})"
    if unit.state == STALE:
        words = f"stale (changed since the run of {unit.date[:10]} on {unit.cluster})"
    if unit.state == FAILED and unit.message:
        words += f": {unit.message}"
    return words
