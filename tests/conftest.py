"""Suite-wide ordering: browser tests run last.

By then the cluster tests have run `kdocs test` on the project itself, so the
site the browser opens (and the screenshot it keeps in artifacts/) shows the
cluster results this very run produced.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
