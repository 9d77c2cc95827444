"""A reader follows a cluster badge to what was proven, in a real browser: the badge of
a snippet proven by one scenario opens that scenario on the proof page, with its steps
in words and its negative controls marked; a snippet never run leads to its entry on
"What is tested", which says so."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.browser.conftest import REPO, _QuietHandler
from tests.proof_fixture import CLUSTER, configmap, record_run, scenario
from tests.site.conftest import make_project

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def proof_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A project with one proven snippet and one never run, the repo's proof and
    "What is tested" pages, built by `kdocs build` and served on loopback."""
    base = tmp_path_factory.mktemp("proof")
    project = make_project(base / "project")
    for page in ("proof.md", "tested.md"):
        shutil.copy(REPO / "docs" / page, project.root / "docs" / page)
    project.snippet("app/proven.yaml", configmap("proven"))
    project.snippet(
        "app/proven.scenario.yaml", scenario("proven", "proven.yaml", "the ConfigMap holds a")
    )
    project.snippet("app/plain.yaml", configmap("plain"))
    project.page(
        "guide.md",
        '# Guide\n\n{{ snippet("app/proven.yaml") }}\n\n{{ snippet("app/plain.yaml") }}\n',
    )
    record_run(project.root, "proven", ["app/proven.yaml", "app/proven.scenario.yaml"], True)
    site = base / "site"
    done = subprocess.run(
        [sys.executable, "-m", "kdocs.cli", "build", "--site-dir", str(site)],
        cwd=project.root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def badges_of(page, snippet: str):
    return page.locator(f'span.kdocs-badges[data-snippet="{snippet}"]')


def test_a_proven_badge_opens_its_scenario_with_steps_and_negative_controls(
    page, proof_site: str
) -> None:
    page.goto(proof_site + "guide/")
    badge = badges_of(page, "app/proven.yaml").locator("a.kdocs-badge-link")
    assert badge.count() == 1
    assert "kwok + Karpenter" in badge.inner_text()
    badge.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/proof/#scenario-proven")
    heading = page.locator("h2#scenario-proven")
    assert heading.is_visible()
    entry = heading.locator("xpath=following-sibling::*[position() <= 6]")
    text = " ".join(entry.all_inner_texts())
    assert "proven" in text and CLUSTER in text and "Kubernetes v1.36.3" in text
    assert "2026-11-29" in text and "12 s" in text
    assert "the ConfigMap holds a" in text
    steps = heading.locator("xpath=following-sibling::ol[1]/li")
    assert steps.all_inner_texts() == [
        "apply proven.yaml",
        "assert the ConfigMap proven has data.a = 1 (within 30 s)",
        "delete proven.yaml and wait until it is gone",
        "negative control apply proven.yaml without data",
        "checks the control error: the ConfigMap proven with data.a = 1 must NOT appear for 3 s",
    ]
    controls = steps.locator("span.kdocs-control")
    assert controls.count() == 1 and controls.first.is_visible()


def test_a_badge_never_run_leads_to_what_is_tested_which_says_so(page, proof_site) -> None:
    page.goto(proof_site + "guide/")
    badge = badges_of(page, "app/plain.yaml").locator("a.kdocs-badge-link")
    assert badge.inner_text().endswith("not run")
    badge.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/tested/#snippet-app-plain-yaml")
    entry = page.locator("h2#snippet-app-plain-yaml")
    assert entry.is_visible()
    after = " ".join(entry.locator("xpath=following-sibling::*[position() <= 3]").all_inner_texts())
    assert "validated" in after and "default check" in after and "not run" in after
    # The page lists the guide and both its snippets, and the proven one as proven.
    row = page.locator("article table tr", has_text="docs/guide.md")
    assert row.locator("a").all_inner_texts() == ["docs/guide.md", "proven.yaml", "plain.yaml"]
    proven = page.locator("h2#snippet-app-proven-yaml")
    assert "proven" in proven.locator("xpath=following-sibling::p[1]").inner_text()


def test_the_guides_proven_note_lists_every_scenario_of_its_folder_with_a_working_link(
    page, site_url: str
) -> None:
    """The repo's guide: its "What was proven" note is generated, one entry per scenario
    file under snippets/karpenter-daemonset/, each leading to its steps on the proof page."""
    folder = REPO / "snippets" / "karpenter-daemonset"
    names = sorted(p.name.split(".scenario.")[0] for p in folder.glob("*.scenario.yaml"))
    page.goto(site_url + "guides/advanced/deploy-daemonset-with-karpenter/")
    note = page.locator("details", has_text="What was proven on a cluster")
    note.locator("summary").click()  # collapsed (`???`): the reader opens it
    links = note.locator(":scope > ul > li > a")
    assert sorted(links.all_inner_texts()) == names
    controls = note.locator(":scope > ul > li > ul > li").all_inner_texts()
    assert controls and all(c.startswith("negative control: apply ") for c in controls)
    assert "negative control: apply daemonset.yaml without spec.template.spec.tolerations" in (
        controls
    )
    links.first.click()
    page.wait_for_load_state("load")
    anchor = page.url.split("#", 1)[1]
    assert page.locator(f"h2#{anchor}").is_visible()
    assert page.locator(f"h2#{anchor} ~ ol").first.locator("li").count() >= 3
