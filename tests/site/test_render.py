"""Block rendering: fences, indentation inside containers, badges."""

from __future__ import annotations

import pytest

from kdocs.errors import InvalidInputError
from kdocs.results import ClusterResult, ScenarioOutcome
from kdocs.site.badges import cluster_badge, schema_badge
from kdocs.site.render import indent_blocks, render_block
from kdocs.versions import version_span

TEXT = "a: 1\nb:\n  - c\n"


def render(text: str = TEXT, **kwargs) -> str:
    return indent_blocks(
        render_block(
            text,
            title="x.yaml",
            download_url="../x.yaml",
            badges=[schema_badge(["1.30"])],
            **kwargs,
        )
    )


def test_block_is_a_titled_yaml_fence_with_the_exact_text() -> None:
    out = render()
    assert out.startswith('``` yaml title="x.yaml"\n' + TEXT + "```\n")


def test_fence_outgrows_backticks_in_the_content() -> None:
    out = render("a: |\n  ````\n  x\n")
    assert out.startswith("````` yaml")


def test_indentation_of_the_call_site_applies_to_every_line() -> None:
    page = "!!! note\n    " + render_block(TEXT, title="x", download_url="u", badges=[]) + "\n"
    lines = indent_blocks(page).splitlines()
    assert lines[1] == '    ``` yaml title="x"'
    assert lines[2:5] == ["    a: 1", "    b:", "      - c"]
    assert all(line.startswith("    ") or not line for line in lines[1:])


def test_call_after_a_list_marker_is_refused() -> None:
    """On the marker's line the fence would become inline code: say where it must go."""
    with pytest.raises(InvalidInputError, match="indented under its container"):
        indent_blocks("1. " + render_block(TEXT, title="x", download_url="u", badges=[]))


def test_call_inside_prose_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="stand alone"):
        indent_blocks("see " + render_block(TEXT, title="x", download_url="u", badges=[]))


def test_title_and_badge_text_are_escaped() -> None:
    out = render_block(TEXT, title='a"b<c>', download_url="u", badges=[schema_badge(["1.30"])])
    assert 'title="a\'b<c>"' in out
    assert "Download a&quot;b&lt;c&gt;" in out


def test_hl_lines_are_passed_to_the_fence() -> None:
    assert 'hl_lines="1 2"' in render(hl_lines="1 2")


@pytest.mark.parametrize(
    ("versions", "span"),
    [(["1.30", "1.31", "1.32"], "1.30–1.32"), (["1.30", "1.32"], "1.30, 1.32"), ([], "none")],
)
def test_version_span(versions: list[str], span: str) -> None:
    assert version_span(versions, dash="–") == span


def test_cluster_badge_states() -> None:
    assert cluster_badge(None).state == "not-run"
    passed = ClusterResult(
        snippet="x.yaml",
        passed=True,
        provider="kwok",
        kubernetes_version="v1.36.3",
        date="2026-11-27T10:00:00Z",
        scenarios=(ScenarioOutcome("every-node", True),),
    )
    badge = cluster_badge(passed)
    assert badge.state == "passed"
    assert "kwok · Kubernetes v1.36.3 · 2026-11-27 · 1 scenario" in badge.text
    assert "every-node (passed)" in badge.detail
    failed = ClusterResult("x.yaml", False, "kwok", "v1.36.3", "2026-11-27", message="boom")
    assert cluster_badge(failed).state == "failed"


def test_a_cluster_badge_proven_with_karpenter_says_so_and_names_the_substitution() -> None:
    with_karpenter = ClusterResult(
        "x.yaml", True, "kwok + Karpenter v1.14.1", "v1.36.3", "2026-11-29T10:00:00Z",
        scenarios=(ScenarioOutcome("daemonset-preemption", True),),
    )  # fmt: skip
    badge = cluster_badge(with_karpenter)
    assert badge.text.startswith("✓ kwok + Karpenter v1.14.1 · Kubernetes v1.36.3 · 2026-11-29")
    assert "launched by Karpenter's KWOK cloud provider" in badge.detail
    assert "KWOKNodeClass instead of an EC2NodeClass" in badge.detail
    without = ClusterResult("x.yaml", True, "kind", "v1.36.3", "2026-11-29T10:00:00Z")
    assert "Karpenter" not in cluster_badge(without).detail
