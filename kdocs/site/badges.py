"""What a badge says, from the schema outcome and the cluster result of a snippet."""

from __future__ import annotations

from kdocs.results import ClusterResult
from kdocs.site.render import Badge
from kdocs.versions import version_span


def schema_badge(versions_passed: list[str] | tuple[str, ...]) -> Badge:
    span = version_span(versions_passed, dash="–")
    return Badge(
        label="schema",
        state="passed",
        text=f"✓ Kubernetes {span}",
        detail=f"Strict schema validation passed for Kubernetes {span}",
    )


def scenario_badge(name: str, steps: int) -> Badge:
    return Badge(
        label="scenario",
        state="passed",
        text=f"✓ {steps} steps",
        detail=f"Scenario {name!r} parsed: every step and every file it uses is valid",
    )


def cluster_badge(result: ClusterResult | None) -> Badge:
    if result is None:
        return Badge(
            label="cluster",
            state="not-run",
            text="not run",
            detail="No cluster result exists for these exact bytes",
        )
    day = result.date[:10]
    where = f"{result.provider} · Kubernetes {result.kubernetes_version} · {day}"
    proven = [s.name for s in result.scenarios if s.passed]
    detail = f"Applied on {where}"
    if result.checks:
        detail += "; checks: " + ", ".join(result.checks)
    if result.scenarios:
        detail += "; scenarios: " + ", ".join(
            f"{s.name} ({'passed' if s.passed else 'FAILED'})" for s in result.scenarios
        )
    if " + Karpenter" in result.provider:  # recorded as "kwok + Karpenter v1.14.1"
        detail += (
            "; the nodes were launched by Karpenter's KWOK cloud provider, with the NodePools"
            " pointed at a KWOKNodeClass instead of an EC2NodeClass (no AWS behind the test"
            " cluster)"
        )
    if not result.passed:
        return Badge("cluster", "failed", f"✗ {where}", detail + f"; {result.message}")
    suffix = f" · {len(proven)} scenario{'s' if len(proven) != 1 else ''}" if proven else ""
    return Badge("cluster", "passed", f"✓ {where}{suffix}", detail)
