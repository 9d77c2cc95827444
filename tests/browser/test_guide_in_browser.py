"""What a reader sees and copies, checked in a real browser."""

from __future__ import annotations

import re

import pytest

from kdocs import snippets
from kdocs.config import load_settings
from kdocs.results import ResultStore
from tests.browser.conftest import ARTIFACTS, REPO

GUIDE = "guides/advanced/deploy-daemonset-with-karpenter/"
pytestmark = pytest.mark.browser


def open_guide(page, site_url: str) -> list[str]:
    """Open the guide; return the console errors and failed requests it caused."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(site_url + GUIDE)
    page.wait_for_load_state("networkidle")
    return problems


def expected_blocks(page) -> list[tuple[str, str, str]]:
    """(snippet, section, sha256) of each injected block, in page order."""
    return page.eval_on_selector_all(
        "span.kdocs-badges",
        "els => els.map(e => [e.dataset.snippet, e.dataset.section, e.dataset.sha256])",
    )


def test_every_snippet_renders_with_title_and_badges(page, site_url: str) -> None:
    open_guide(page, site_url)
    blocks = expected_blocks(page)
    template = REPO / "docs" / "guides" / "advanced" / "deploy-daemonset-with-karpenter.md"
    calls = len(re.findall(r"\{\{\s*snippet\(", template.read_text(encoding="utf-8")))
    assert calls >= 6 and len(blocks) == calls  # every snippet call of the page, injected
    titles = page.locator(".highlight .filename").all_inner_texts()
    assert len(titles) == calls
    assert titles[0] == "priorityclass.yaml"
    results = ResultStore(load_settings(REPO).results_file)
    for (_, _, sha), badges in zip(blocks, page.locator("span.kdocs-badges").all(), strict=True):
        labels = badges.locator(".kdocs-badge__label").all_inner_texts()
        assert labels == ["schema", "cluster"]
        assert "Kubernetes 1.30–1.37" in badges.locator(".kdocs-badge--passed").first.inner_text()
        # The cluster badge says what the results file holds for these exact bytes.
        recorded = results.lookup(sha)
        state = "passed" if recorded and recorded.passed else "not-run"
        assert badges.locator(f".kdocs-badge--{state}").count() >= 1
        assert badges.locator(".kdocs-badge").nth(1).get_attribute("class").endswith(state)


def test_copy_button_copies_exactly_the_snippet(page, site_url: str) -> None:
    open_guide(page, site_url)
    blocks = expected_blocks(page)
    buttons = page.locator("button.md-code__button[data-md-type=copy]")
    assert buttons.count() == len(blocks)
    for index, (rel, section, sha) in enumerate(blocks):
        snippet = snippets.load(REPO / "snippets", rel)
        assert snippet.sha256 == sha
        button = buttons.nth(index)
        if not button.is_visible():  # inside a closed tab: open it first
            tab_panel = button.locator("xpath=ancestor::div[contains(@class,'tabbed-block')]")
            index_in_set = tab_panel.evaluate("el => [...el.parentNode.children].indexOf(el)")
            tab_set = tab_panel.locator("xpath=ancestor::div[contains(@class,'tabbed-set')]")
            tab_set.locator("label").nth(index_in_set).click()
        button.click()
        copied = page.evaluate("navigator.clipboard.readText()")
        # mkdocs-material trims the final newline when copying; every other byte must match.
        assert copied + "\n" == snippet.shown_text(section or None), (rel, section)


def test_no_console_errors_and_a_screenshot(page, site_url: str) -> None:
    problems = open_guide(page, site_url)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "guide.png"
    page.screenshot(path=str(shot), full_page=True)
    assert problems == []
    assert shot.stat().st_size > 50_000  # a real full-page render, not a blank page
