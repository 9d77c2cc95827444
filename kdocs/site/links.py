"""Where a badge leads: the proof of its snippet on the site's generated pages.

A cluster badge links to the proof page's entry of the one scenario that
proved its snippet; with several scenarios, none yet, or only the default
check, to the snippet's entry on the "What is tested" page, which lists them
all with their state and links each scenario's proof. A site without these
pages (a project that did not add them) gets badges without links.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from kdocs.results import ClusterResult

PROOF_PAGE = "proof.md"  # calls proof_page(): every scenario, its steps in words
TESTED_PAGE = "tested.md"  # calls tested_page(): every page, snippet and state


def scenario_anchor(name: str) -> str:
    return f"scenario-{name}"


def snippet_anchor(rel: str) -> str:
    return "snippet-" + (re.sub(r"[^a-z0-9]+", "-", rel.lower()).strip("-") or "x")


def badge_link(docs_dir: Path, page_url: str, rel: str, result: ClusterResult | None) -> str:
    """Relative URL from the page at `page_url` to the proof of snippet `rel` ("" if none)."""
    proven = [s.name for s in result.scenarios if s.passed] if result is not None else []
    if len(proven) == 1 and (docs_dir / PROOF_PAGE).is_file():
        return page_url_to(page_url, PROOF_PAGE, scenario_anchor(proven[0]))
    if (docs_dir / TESTED_PAGE).is_file():
        return page_url_to(page_url, TESTED_PAGE, snippet_anchor(rel))
    return ""


def page_url_to(page_url: str, page: str, anchor: str) -> str:
    """A link from a built page's URL to another Markdown page's URL, in either URL style
    (`guides/x/` with directory URLs, `guides/x.html` without)."""
    directory_urls = page_url == "" or page_url.endswith("/")
    stem = page[: -len(".md")]
    target = f"{stem}/" if directory_urls else f"{stem}.html"
    here = page_url if directory_urls else posixpath.dirname(page_url)
    relative = posixpath.relpath(target, here.rstrip("/") or ".")
    if directory_urls and not relative.endswith("/"):
        relative += "/"
    return f"{relative}#{anchor}"
