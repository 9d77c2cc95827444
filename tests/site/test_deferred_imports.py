"""`kdocs build` does not run the modules mkdocs-macros imports but a build never uses,
nor, when every snippet's verdict is kept, kdocs' YAML reader and schema engine.

Each check runs in a fresh interpreter: whether a module was imported is a fact about
one process, and this one has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.site.conftest import CONFIGMAP, Project


def _python(code: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300, cwd=cwd,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_deferred_module_runs_at_its_first_use_and_works() -> None:
    out = _python("""
        import sys
        from kdocs.commands.deferred import defer_imports
        print(defer_imports(("requests", "no_such_module_here")))
        import requests
        print(type(requests).__name__, "urllib3" in sys.modules)
        error = requests.exceptions.RequestException
        print(error.__module__, "urllib3" in sys.modules, type(sys.modules["requests"]).__name__)
        import requests as again
        print(again.get.__module__, defer_imports(("requests",)))
    """)
    assert out.splitlines() == [
        "['requests']",  # a module that is not installed is left to fail as before
        "_StandIn False",  # bound, not run
        "requests.exceptions True module",  # run at the first read, then the real one
        "requests.api []",  # already imported: nothing to defer
    ]


def test_threads_reading_it_at_once_share_one_real_module() -> None:
    out = _python("""
        import sys, threading
        from kdocs.commands.deferred import defer_imports
        defer_imports(("requests",))
        import requests
        start, got = threading.Barrier(8), []
        def read():
            start.wait()
            got.append((requests.get, requests.Session))
        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(len(got), len(set(got)), sys.modules["requests"].get is got[0][0])
    """)
    assert out.strip() == "8 1 True"


def test_a_missing_module_still_fails_at_import() -> None:
    out = _python("""
        from kdocs.commands.deferred import defer_imports
        defer_imports(("no_such_module_here",))
        try:
            import no_such_module_here
        except ModuleNotFoundError:
            print("refused")
    """)
    assert out.strip() == "refused"


def test_kdocs_build_goes_through_mkdocs_macros_without_running_requests(
    project: Project,
) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("guide.md", '# Guide\n\n{{ snippet("cm.yaml") }}\n')
    out = _python(
        """
        import sys
        from kdocs.cli import main
        code = main(["build"])
        print(code, "mkdocs_macros.util" in sys.modules)
        print(sorted(m for m in ("requests", "urllib3", "hjson", "charset_normalizer")
                     if type(sys.modules.get(m)).__name__ == "module"))
        """,
        cwd=project.root,
    )
    assert out.splitlines() == ["0 True", "[]"]
    assert "demo" in (project.root / "site" / "guide" / "index.html").read_text()


def test_an_unchanged_build_reads_snippets_without_the_yaml_reader(project: Project) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.snippet("other.yaml", CONFIGMAP.replace("demo", "other"))
    project.page("guide.md", '# Guide\n\n{{ snippet("cm.yaml") }}\n\n{{ snippet("other.yaml") }}\n')
    build = """
        import sys
        from kdocs.cli import main
        code = main(["build"])
        print(code, sorted(m for m in ("kdocs.resource.manifest", "kdocs.resource.embed",
                                       "kdocs.schema.api", "jsonschema_rs") if m in sys.modules))
        """
    first = _python(build, cwd=project.root).splitlines()
    assert first[0].startswith("0 ")  # checked here or in a child: either may import them
    assert _python(build, cwd=project.root).splitlines() == ["0 []"]
    page = (project.root / "site" / "guide" / "index.html").read_text()
    assert page.count("kdocs-badge--passed") == 2  # the kept verdicts, shown
