"""The layout's rules, checked: no import cycle inside kdocs/, no long module without a reason.

An import cycle hides which stage depends on which (issue 13); every import
statement counts, lazy ones and those under `if TYPE_CHECKING:` included,
since each is a dependency of the design. A module over 400 lines must say
why in its docstring (the words "400 lines" and the reason), so a newcomer
knows it was a choice. Each rule is also run on a small package made to
break it, so that neither can pass by checking nothing.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (ROOT / "kdocs", ROOT / "macros")
LIMIT = 400


def modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of `package` (a folder)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path) -> set[str]:
    """Every name `path` imports, anywhere in it (functions and TYPE_CHECKING blocks too)."""
    base = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = base.split(".")[: len(base.split(".")) - node.level + 1]
                module = ".".join([*parts, *([module] if module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (its own parents left out)."""
    known = modules(package)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        edges = set()
        for target in imported(name, path):
            while target and target not in known:  # `from a.b import C`: C is no module
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.get(step, ())))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def long_without_reason(package: Path, limit: int = LIMIT) -> list[str]:
    """Modules over `limit` lines whose docstring does not say why ("... 400 lines ...")."""
    bad = []
    for path in modules(package).values():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if lines > limit and f"{limit} lines" not in docstring:
            bad.append(f"{path.relative_to(package.parent)}: {lines} lines")
    return sorted(bad)


def make_package(folder: Path, files: dict[str, str]) -> Path:
    package = folder / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return package


def test_kdocs_has_no_import_cycle() -> None:
    for package in PACKAGES:
        assert cycles(import_graph(package)) == [], f"import cycle in {package.name}"


def test_an_import_cycle_is_found_even_under_type_checking_or_in_a_function(
    tmp_path: Path,
) -> None:
    package = make_package(
        tmp_path,
        {
            "a.py": "from pkg.b import thing\n",
            "b.py": """\
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from pkg.c import Other
                """,
            "c.py": "def late():\n    from . import a\n",
            "d.py": "import pkg.a\n",  # depends on the cycle, is not part of it
        },
    )
    assert cycles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_every_long_module_says_why_in_its_docstring() -> None:
    for package in PACKAGES:
        assert long_without_reason(package) == []


def test_a_long_module_without_a_reason_is_found(tmp_path: Path) -> None:
    body = "x = 1\n" * LIMIT
    package = make_package(
        tmp_path,
        {
            "silent.py": '"""A module."""\n' + body,
            "explained.py": f'"""A module.\n\nOver {LIMIT} lines because it is one table."""\n'
            + body,
            "short.py": '"""A module."""\n' + "x = 1\n" * (LIMIT - 1),
        },
    )
    assert long_without_reason(package) == [f"pkg/silent.py: {LIMIT + 1} lines"]
