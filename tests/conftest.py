"""Suite-wide rules: cluster tests are gated, browser tests run last.

A test that uses the `cluster` fixture is marked `cluster` automatically (a
forgotten mark cannot hide it from `-m "not cluster"`). When the provider
($KDOCS_PROVIDER, kwok when unset) cannot run here, every cluster test is
skipped with the reason, shown in the summary (`-ra`); under CI=true it fails
instead, since CI must never count a skipped proof as a pass.

Browser tests run last: by then the cluster tests have run `kdocs test` on the
project itself, so the site the browser opens (and the screenshot it keeps in
artifacts/) shows the cluster results this very run produced.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest_plugins = ("tests.chromium",)  # the browser fixtures, for every folder

CLUSTER_FIXTURES = {"cluster"}
# What each provider needs on this machine before it can bring a cluster up.
PROVIDER_TOOLS = {
    "kwok": ("bash", "go"),  # go builds the pinned control plane once (clusters/build/)
    "kind": ("kind", "docker", "kubectl"),
    "kubeconfig": ("kubectl",),
}


def provider_problem() -> str | None:
    """Why the provider of $KDOCS_PROVIDER cannot run here, or None when it can."""
    name = os.environ.get("KDOCS_PROVIDER", "").strip() or "kwok"
    if name not in PROVIDER_TOOLS:
        return f"unknown provider {name!r} in KDOCS_PROVIDER"
    missing = [tool for tool in PROVIDER_TOOLS[name] if shutil.which(tool) is None]
    if missing:
        return f"provider {name} cannot run here: {', '.join(missing)} not on PATH"
    if name == "kubeconfig":
        config = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
        if not any(Path(p).is_file() for p in config.split(os.pathsep) if p):
            return f"provider kubeconfig cannot run here: no kubeconfig file ({config})"
    return None


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("cluster") is None:
        return
    problem = provider_problem()
    if problem is None:
        return
    if _in_ci():
        pytest.fail(f"{problem} (CI=true: a cluster test may not be skipped)", pytrace=False)
    pytest.skip(problem)
