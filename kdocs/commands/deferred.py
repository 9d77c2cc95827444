"""Run the code of modules a site build imports but never uses only if they are used.

mkdocs-macros imports `requests` (with urllib3, charset_normalizer, idna and
certifi) for one function, a PyPI lookup that a build does not make, and `hjson`,
which it does not use at all. Together ~60 ms of CPU at every `kdocs build` and
every preview start: the largest single share of what kdocs adds to a small site
(a 1-page build takes ~0.5 s).

`kdocs build` and `kdocs serve` own their process, so before MkDocs loads its
plugins they put a stand-in module in `sys.modules` for each: `import requests`
binds the stand-in, and its first attribute read imports the real module and
answers from it, so a lookup that happens still works. (The standard library's
`LazyLoader` cannot serve here: an `import` statement reads the module's
`__spec__`, which makes it load.) Code that uses them sees no difference, only
when they run. A plain `mkdocs build` with the kdocs plugin keeps eager imports:
the plugin is loaded after mkdocs-macros.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Iterable
from typing import Any

UNUSED_BY_A_BUILD = ("requests", "hjson")
# the preview serves from threads: one real import, not two; reentrant, as one module
# may read another stand-in while it is imported
_FIRST_USE = threading.RLock()


class _StandIn(types.ModuleType):
    """Answers for a top-level module not imported yet; imports it at the first read of
    any attribute it does not have (its spec and name, which `import` reads, it has)."""

    def __getattr__(self, attr: str) -> Any:
        name = self.__name__
        with _FIRST_USE:
            if sys.modules.get(name) is self:
                del sys.modules[name]
            module = importlib.import_module(name)
        return getattr(module, attr)


def defer_imports(names: Iterable[str] = UNUSED_BY_A_BUILD) -> list[str]:
    """Put a stand-in for each top-level module of `names` that is installed and not
    imported yet; return the names deferred."""
    deferred = []
    for name in names:
        if name in sys.modules or "." in name:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        stand_in = _StandIn(name)
        stand_in.__spec__ = spec
        sys.modules[name] = stand_in
        deferred.append(name)
    return deferred
