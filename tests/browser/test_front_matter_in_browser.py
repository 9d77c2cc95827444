"""Front matter as a reader sees it: author, date and tags under the title, the tag index."""

from __future__ import annotations

import pytest

from tests.browser.test_guide_in_browser import GUIDE

pytestmark = pytest.mark.browser
TITLE = "Deploy a DaemonSet in a Karpenter context"


def test_the_guide_shows_its_linked_author_date_and_tags(page, site_url: str) -> None:
    page.goto(site_url + GUIDE)
    header = page.locator("article .kdocs-meta")
    assert header.count() == 1
    # Under the title, before the first paragraph of prose.
    assert header.evaluate("el => el.previousElementSibling.tagName") == "H1"
    author = header.locator("a.kdocs-author")
    assert author.inner_text() == "acarranoqovery"
    assert author.get_attribute("href") == "https://github.com/acarranoqovery"
    assert header.locator("time").get_attribute("datetime") == "2025-02-04"
    tags = header.locator("a.kdocs-tag")
    assert tags.all_inner_texts() == [
        "type: tutorial",
        "technology: qovery",
        "installation_guide: aws",
    ]
    assert tags.first.is_visible()


def test_a_tag_leads_to_the_tag_index_which_lists_the_guide(page, site_url: str) -> None:
    page.goto(site_url + GUIDE)
    page.locator("article .kdocs-meta a.kdocs-tag", has_text="technology: qovery").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/tags/#tag-technology-qovery")
    section = page.locator("h2#tag-technology-qovery")
    assert section.inner_text().startswith("technology: qovery")
    listed = section.locator("xpath=following-sibling::ul[1]/li/a")
    assert listed.all_inner_texts() == [TITLE]
    listed.first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/" + GUIDE)
    assert page.locator("article h1").inner_text().startswith(TITLE)


def test_the_home_and_guides_pages_list_the_guide_from_its_front_matter(page, site_url) -> None:
    page.goto(site_url)
    assert TITLE in page.locator("article ul li a").all_inner_texts()
    page.goto(site_url + "guides/")
    row = page.locator("article table tr", has_text=TITLE)
    assert row.count() == 1
    assert "type: tutorial" in row.locator("a.kdocs-tag").all_inner_texts()
