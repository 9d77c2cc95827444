"""The site's generated pages about proof: "What was proven" and "What is tested".

- `proof_page`: one entry per scenario (anchor `scenario-NAME`): its description,
  whether these exact bytes were proven (cluster, Kubernetes and Karpenter
  versions, date, duration), the snippets it applies and its steps in words,
  negative controls marked. A cluster badge proven by one scenario links here.
- `tested_page`: every page and the snippets it shows (sections included), each
  snippet's entry (anchor `snippet-...`) listing the scenarios that cover it and
  each one's state. Other cluster badges link here.
- `proven_note`: the short form for a guide ("What was proven on a cluster"),
  generated from the same scenarios, so the prose and the proof cannot drift.

All text from files is shown literally (`literal_text`): a scenario cannot
inject Markdown or HTML into the site.
"""

from __future__ import annotations

import posixpath

from kdocs.errors import InvalidInputError
from kdocs.site.guides import literal_text, page_link
from kdocs.site.links import PROOF_PAGE, TESTED_PAGE, scenario_anchor, snippet_anchor
from kdocs.site.render import INDENT, START
from kdocs.site.steps import CONTROL, CONTROL_CHECK
from kdocs.status import (
    FAILED,
    INVALID,
    NOT_RUN,
    PROVEN,
    STALE,
    ScenarioStatus,
    SiteStatus,
    SnippetStatus,
    UnitStatus,
)

STATE_WORDS = {
    PROVEN: "proven",
    FAILED: "failed",
    STALE: "stale: changed since it was proven",
    NOT_RUN: "not run",
    INVALID: "invalid",
}


def proof_page(status: SiteStatus, from_page: str) -> str:
    """Every scenario of the site, what it proves and whether these bytes passed."""
    if not status.scenarios:
        return "No scenario in this site yet."
    intro = (
        "Each scenario below ran on a real cluster; its steps are read from the scenario file"
        " and its verdict from the results, for the exact bytes on this site."
    )
    if _has(status, TESTED_PAGE):
        link = page_link(from_page, TESTED_PAGE)
        intro += f" The inventory of every page and snippet is on [What is tested]({link})."
    out = [intro, ""]
    for scenario in status.scenarios:
        out += _scenario_entry(scenario, status, from_page)
    return "\n".join(out)


def _scenario_entry(scenario: ScenarioStatus, status: SiteStatus, from_page: str) -> list[str]:
    out = _heading(literal_text(scenario.name), scenario_anchor(scenario.name))
    out += [f"{_state_line(scenario.state, scenario.result)}", ""]
    if scenario.problem:
        return [*out, f"The scenario file cannot be read: {literal_text(scenario.problem)}", ""]
    if scenario.description:
        out += [f"**Claim:** {literal_text(scenario.description)}", ""]
    facts = [f"- Scenario file: `{scenario.source}`"]
    if scenario.snippets:
        facts.append(
            "- Snippets it applies: "
            + ", ".join(_snippet_link(rel, status, from_page) for rel in scenario.snippets)
        )
    if scenario.requires:
        facts.append(f"- Needs: {', '.join(literal_text(r) for r in scenario.requires)}")
    controls = sum(1 for step in scenario.steps if step.role == CONTROL)
    facts.append(f"- Negative controls: {controls}" if controls else "- Negative controls: none")
    out += [*facts, "", "Steps:", ""]
    for step in scenario.steps:
        marker = ""
        if step.role == CONTROL:
            marker = '<span class="kdocs-control">negative control</span> '
        elif step.role == CONTROL_CHECK:
            marker = '<span class="kdocs-control-check">checks the control</span> '
        out.append(f"{step.number}. {marker}{literal_text(step.words)}")
    return [*out, ""]


def tested_page(status: SiteStatus, from_page: str) -> str:
    """Every page with the snippets it shows, then every snippet's coverage and state."""
    out = ["| page | snippets shown |", "| --- | --- |"]
    shown: dict[str, list[tuple[str, str | None]]] = {}
    ordered = sorted((u.line, s.rel, u.page, u.section) for s in status.snippets for u in s.used_on)
    for _, rel, page, section in ordered:
        shown.setdefault(page, []).append((rel, section))
    for page in status.pages:
        uses = shown.get(page, [])
        if not uses:
            continue
        cells = ", ".join(
            _snippet_link(rel, status, from_page) + (f" ({literal_text(s)})" if s else "")
            for rel, s in uses
        )
        out.append(f"| [{literal_text(page)}]({_doc_link(from_page, page, status)}) | {cells} |")
    out.append("")
    for snippet in status.snippets:
        out += _snippet_entry(snippet, status, from_page)
    return "\n".join(out)


def _snippet_entry(snippet: SnippetStatus, status: SiteStatus, from_page: str) -> list[str]:
    out = _heading(f"`{snippet.rel}`", snippet_anchor(snippet.rel))
    out += [f"**{STATE_WORDS.get(snippet.state, snippet.state)}**", ""]
    facts = [f"- Offline: {literal_text(snippet.offline_detail)}"]
    if snippet.sections:
        facts.append("- Sections: " + ", ".join(f"`{s}`" for s in snippet.sections))
    pages = [
        f"[{literal_text(use.page)}]({_doc_link(from_page, use.page, status)}) line {use.line}"
        + (f" (section `{use.section}`)" if use.section else "")
        for use in snippet.used_on
    ]
    facts.append("- Shown on: " + (", ".join(pages) if pages else "no page"))
    out += [*facts, ""]
    for unit in snippet.units:
        out.append(f"- {_unit_name(unit, status, from_page)}: {_state_line(unit.state, unit)}")
    return [*out, ""]


def proven_note(status: SiteStatus, folder: str, from_page: str) -> str:
    """For a guide: each scenario under snippets/FOLDER/, its claim, its negative controls
    and its state, linked to its proof. Injected like a snippet block, so it may stand
    inside an admonition; a scenario added to the folder appears without an edit."""
    prefix = folder.strip("/") + "/"
    chosen = [s for s in status.scenarios if s.rel.startswith(prefix)]
    if not chosen:
        folders = sorted({posixpath.dirname(s.rel) for s in status.scenarios})
        raise InvalidInputError(
            None,
            f"no scenario under snippets/{prefix} (folders with scenarios:"
            f" {', '.join(folders) or 'none'})",
        )
    lines: list[str] = []
    for scenario in chosen:
        name = scenario.name
        title = literal_text(name)
        if _has(status, PROOF_PAGE):
            title = f"[{title}]({page_link(from_page, PROOF_PAGE, scenario_anchor(name))})"
        claim = literal_text(scenario.description or name)
        lines.append(f"- {title} ({_short_state(scenario)}): {claim}")
        controls = [s for s in scenario.steps if s.role == CONTROL]
        for step in controls:
            lines.append(f"    - negative control: {literal_text(step.words)}")
    return START + ("\n" + INDENT).join(lines)


def _heading(title: str, anchor: str) -> list[str]:
    return [f"## {title} {{ #{anchor} }}", ""]


def _short_state(scenario: ScenarioStatus) -> str:
    result = scenario.result
    if scenario.state == PROVEN and result is not None:
        return (
            f"proven on {literal_text(result.cluster)}, Kubernetes {result.kubernetes_version},"
            f" {result.date[:10]}"
        )
    return STATE_WORDS.get(scenario.state, scenario.state)


def _state_line(state: str, unit: UnitStatus | None) -> str:
    words = (
        f'<span class="kdocs-state kdocs-state--{state.replace(" ", "-")}">'
        f"{STATE_WORDS.get(state, state)}</span>"
    )
    if unit is None or state in (NOT_RUN, INVALID):
        return words + (" (no cluster result for these exact bytes)" if state == NOT_RUN else "")
    facts = [literal_text(unit.cluster), f"Kubernetes {literal_text(unit.kubernetes_version)}"]
    facts.append(unit.date[:10] if state != STALE else f"last run {unit.date[:10]}")
    if unit.seconds:
        facts.append(f"{unit.seconds:.0f} s")
    line = words + " · " + " · ".join(facts)
    if state == FAILED and unit.message:
        line += f" · {literal_text(unit.message)}"
    return line


def _unit_name(unit: UnitStatus, status: SiteStatus, from_page: str) -> str:
    if unit.kind == "scenario":
        if not _has(status, PROOF_PAGE):
            return f"scenario {literal_text(unit.name)}"
        link = page_link(from_page, PROOF_PAGE, scenario_anchor(unit.name))
        return f"scenario [{literal_text(unit.name)}]({link})"
    return "default check (server-side apply, then the default check of each kind)"


def _snippet_link(rel: str, status: SiteStatus, from_page: str) -> str:
    name = posixpath.basename(rel)
    if status.snippet(rel) is None or not _has(status, TESTED_PAGE):
        return f"`{name}`"
    return f"[`{name}`]({page_link(from_page, TESTED_PAGE, snippet_anchor(rel))})"


def _has(status: SiteStatus, page: str) -> bool:
    """Whether the site has this generated page (a link to a missing page fails strict mode)."""
    return posixpath.join(status.docs, page) in status.pages


def _doc_link(from_page: str, page: str, status: SiteStatus) -> str:
    """`page` is project-relative (docs/...); links are between pages under docs/."""
    return page_link(from_page, posixpath.relpath(page, status.docs))
