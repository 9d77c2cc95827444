"""Site build and live preview: kdocs against plain MkDocs on the same pages.

Three projects are generated side by side with N guide pages each, every page some
prose (paragraphs, a list, a table, an admonition) and three YAML snippets:

* the kdocs project (the repository's mkdocs.yml, macros and CRDs, a
  ``[tool.kdocs]`` pyproject with the default 8-version matrix): pages call
  ``{{ snippet("page-0001/deployment.yaml") }}``, snippets live under snippets/;
* the plain project (the same mkdocs.yml without the macros plugin): the same
  pages with each snippet pasted as a fenced ``yaml`` block, so the same content
  renders with nothing validated or injected;
* the macros project (the plain project's pages, the mkdocs.yml with the macros
  plugin and without kdocs): what the template engine the guides are written for
  costs by itself.  A reference, not a floor: kdocs defers the plugin's imports and
  renders literal ``snippet()`` calls without Jinja, so its builds can cost less.

`kdocs build` is MkDocs' build with the macros and the kdocs plugin (schema check
of every snippet, injection, read-back of every block, publishing); the plain
project's `mkdocs build --strict` only renders.  The difference is what kdocs
costs.  Also timed: a plain `mkdocs build --strict` in the kdocs project (the
same plugin, no kdocs command), and `kdocs build` without the schema verdicts
kept from the previous build (what a first build or a changed CRD costs).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from corpus import TEMPLATES
from measure import Series, repeat

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

PROSE = """\
Every workload in this guide runs in its own namespace, with requests and limits
set so that the scheduler can pack nodes without surprises. Read the whole page
once before applying anything: the order matters.

!!! note "Before you start"
    You need `kubectl` 1.30 or newer and access to a namespace where you may
    create Deployments, Services and ConfigMaps.

| Setting | Value | Why |
| --- | --- | --- |
| replicas | 3 | survives one node going away |
| memory limit | 256Mi | the service never needs more |
| probe period | 10 s | fast enough to stop routing to a stuck pod |

- Apply the ConfigMap first: the Deployment reads it at start-up.
- Then the Deployment, then the Service in front of it.
- Check the rollout with `kubectl rollout status`.
"""


@dataclass
class Snippet:
    rel: str  # path under snippets/
    text: str
    title: str


def _snippets(page: int) -> list[Snippet]:
    app = ("cart", "checkout", "search", "catalog", "payments")[page % 5]
    out = []
    for kind, file in (("ConfigMap", "config.yaml"), ("Deployment", "deployment.yaml"),
                       ("Service", "service.yaml")):  # fmt: skip
        text = TEMPLATES[kind].format(name=f"{app}-{page}", app=app, n=page, ns=page % 17)
        out.append(Snippet(f"page-{page:04d}/{file}", text, file))
    return out


def _page(page: int, snippets: list[Snippet], inject: bool) -> str:
    parts = [f"# Guide {page}: running the {snippets[0].rel.split('/')[0]} service\n", PROSE]
    for step, snippet in enumerate(snippets, 1):
        parts.append(f"\n## Step {step}: {snippet.title}\n\nApply this file as it is.\n\n")
        if inject:
            parts.append(f'{{{{ snippet("{snippet.rel}", title="{snippet.title}") }}}}\n')
        else:
            parts.append(f'```yaml title="{snippet.title}"\n{snippet.text}```\n')
        parts.append("\nThen wait until the change is visible before going on.\n")
    return "".join(parts)


def _config(with_macros: bool, with_kdocs: bool) -> str:
    """The repository's mkdocs.yml, without the kdocs plugin unless `with_kdocs`, and without
    the macros plugin unless `with_macros` (its module is ours: it goes with kdocs)."""
    text = (REPO / "mkdocs.yml").read_text().split("\nnav:")[0] + "\n"
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if not with_kdocs and (stripped in ("- kdocs", "module_name: macros")
                               or "Checks, injects, reads back" in line):  # fmt: skip
            continue
        if not with_macros and stripped == "- macros:":
            skipping = True
            continue
        if skipping and line.startswith("      "):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


def generate(root: Path, pages: int) -> tuple[Path, Path]:
    """Write the kdocs and the plain project for `pages` pages; return their folders."""
    kdocs_root, plain_root = root / f"kdocs-{pages}", root / f"plain-{pages}"
    for folder, inject in ((kdocs_root, True), (plain_root, False)):
        _project(folder, pages, _config(with_macros=inject, with_kdocs=inject), inject)
    shutil.copytree(REPO / "macros", kdocs_root / "macros",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    if (REPO / "schemas").is_dir():
        shutil.copytree(REPO / "schemas", kdocs_root / "schemas")
    versions = ", ".join(f'"1.{m}"' for m in range(30, 38))
    (kdocs_root / "pyproject.toml").write_text(
        f'[tool.kdocs]\ncrd-dirs = ["schemas/crds"]\nkubernetes-versions = [{versions}]\n'
    )
    precompile(kdocs_root / "macros")
    return kdocs_root, plain_root


def generate_macros_only(root: Path, pages: int) -> Path:
    """The plain project's pages under the macros plugin without kdocs (a reference)."""
    folder = root / f"macros-{pages}"
    _project(folder, pages, _config(with_macros=True, with_kdocs=False), inject=False)
    return folder


def _project(folder: Path, pages: int, config: str, inject: bool) -> None:
    docs = folder / "docs"
    (docs / "assets").mkdir(parents=True)
    (docs / "assets" / "kdocs.css").write_text((REPO / "docs/assets/kdocs.css").read_text())
    (docs / "index.md").write_text("# Guides\n\nGenerated pages for the benchmark.\n")
    (folder / "mkdocs.yml").write_text(config)
    for page in range(1, pages + 1):
        snippets = _snippets(page)
        path = docs / "guides" / f"guide-{page:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_page(page, snippets, inject))
        if inject:
            for snippet in snippets:
                target = folder / "snippets" / snippet.rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(snippet.text)


def precompile(macros: Path) -> None:
    """Bytecode for kdocs and the copied macros, as a user's machine has it after one run:
    MkDocs, its theme and plugins come with theirs from the installer. Under
    PYTHONDONTWRITEBYTECODE (this machine's shells) every timed run would otherwise
    compile them from source, a cost plain MkDocs never pays."""
    import compileall

    import kdocs

    for folder in (Path(kdocs.__file__).parent, macros):
        compileall.compile_dir(folder, quiet=1)


@dataclass
class BuildRow:
    pages: int
    first_kdocs: float
    first_mkdocs: float
    kdocs: Series  # unchanged rebuilds: what `make docs` costs after a full build
    mkdocs: Series  # the plain project
    plugin: Series  # plain `mkdocs build --strict` in the kdocs project
    uncached: Series  # `kdocs build` with no kept schema verdicts
    macros: Series  # `mkdocs build` of the plain pages with the macros plugin alone

    @property
    def overhead(self) -> float:
        return self.kdocs.median / self.mkdocs.median - 1


def kdocs_build_cmd(out: Path) -> list[str]:
    return [str(VENV_BIN / "kdocs"), "build", "--site-dir", str(out)]


def mkdocs_build_cmd(out: Path) -> list[str]:
    return [str(VENV_BIN / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", str(out)]


def forget_verdicts(kdocs_root: Path) -> None:
    """Delete the schema verdicts a build keeps: the next `kdocs build` is a full one."""
    (kdocs_root / ".kdocs" / "schema-checks.json").unlink(missing_ok=True)


def require_badges(out: Path, pages: int) -> None:
    """Stop the bench if a build into `out` injected no badges (it timed something else)."""
    page = out / "guides" / "guide-0001" / "index.html"
    if pages and "kdocs-badges" not in page.read_text():
        raise SystemExit(f"the build did not inject badges into {page}")


def measure_build(root: Path, pages: int, repeats: int) -> BuildRow:
    """A first run of each (cold-ish: new files, nothing in the OS cache of the site yet), then
    `repeats` warm runs of each, alternating so that load changes hit both alike."""
    kdocs_root, plain_root = generate(root, pages)
    macros_root = generate_macros_only(root, pages)
    k_out, p_out = root / f"site-kdocs-{pages}", root / f"site-plain-{pages}"
    m_out, f_out = root / f"site-plugin-{pages}", root / f"site-macros-{pages}"
    k_cmd, p_cmd, m_cmd = kdocs_build_cmd(k_out), mkdocs_build_cmd(p_out), mkdocs_build_cmd(m_out)
    f_cmd = mkdocs_build_cmd(f_out)
    first_k = _checked(repeat(k_cmd, 1, cwd=kdocs_root), "kdocs build")
    first_p = _checked(repeat(p_cmd, 1, cwd=plain_root), "mkdocs build")
    _checked(repeat(f_cmd, 1, cwd=macros_root), "mkdocs build (macros alone)")
    k_series, p_series, m_series, u_series = Series(), Series(), Series(), Series()
    f_series = Series()
    for _ in range(max(1, repeats)):  # interleaved, so that load changes hit all alike
        k_series.runs += _checked(repeat(k_cmd, 1, cwd=kdocs_root), "kdocs build").runs
        p_series.runs += _checked(repeat(p_cmd, 1, cwd=plain_root), "mkdocs build").runs
        m_series.runs += _checked(repeat(m_cmd, 1, cwd=kdocs_root), "mkdocs build (plugin)").runs
        forget_verdicts(kdocs_root)
        u_series.runs += _checked(repeat(k_cmd, 1, cwd=kdocs_root), "kdocs build").runs
        f_series.runs += _checked(repeat(f_cmd, 1, cwd=macros_root),
                                  "mkdocs build (macros alone)").runs  # fmt: skip
    for out in (k_out, m_out):
        require_badges(out, pages)
    return BuildRow(pages, first_k.median, first_p.median, k_series, p_series, m_series, u_series,
                    f_series)  # fmt: skip


def _checked(series: Series, what: str) -> Series:
    run = series.last
    if run.code != 0:
        raise SystemExit(f"{what} failed ({run.code}):\n{run.stderr[-2000:]}")
    return series


# --- live preview ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return ""


def _wait(url: str, token: str, deadline_s: float) -> float | None:
    began = time.perf_counter()
    while time.perf_counter() - began < deadline_s:
        body = _get(url)
        if token in body and "kdocs-error" not in body:
            return time.perf_counter() - began
        time.sleep(0.02)
    return None


@dataclass
class PreviewRow:
    tool: str
    pages: int
    started: float  # from launch to the first page served
    latencies: list[float]
    failures: int


def measure_preview(root: Path, pages: int, edits: int, tool: str) -> PreviewRow:
    """Save an edit `edits` times; time until the served page shows it.

    kdocs: the edit is to a snippet file (the page is unchanged), and the page must
    show it re-validated (no error box).  Plain MkDocs: the same edit, made to
    the fenced block inside the page, the only place the plain site has it.
    """
    folder = root / f"preview-{tool}-{pages}"
    kdocs_root, plain_root = generate(folder, pages)
    port = free_port()
    if tool == "kdocs":
        cwd, cmd = kdocs_root, [str(VENV_BIN / "kdocs"), "serve", "--dev-addr", f"127.0.0.1:{port}"]
        edited = kdocs_root / "snippets" / "page-0001" / "config.yaml"
    else:
        cwd = plain_root
        cmd = [str(VENV_BIN / "mkdocs"), "serve", "--dev-addr", f"127.0.0.1:{port}"]
        edited = plain_root / "docs" / "guides" / "guide-0001.md"
    url = f"http://127.0.0.1:{port}/guides/guide-0001/"
    original = edited.read_text()
    began = time.perf_counter()
    server = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    latencies: list[float] = []
    failures = 0
    try:
        started = _wait(url, "checkout,search", 300)
        if started is None:
            raise SystemExit(f"{tool} serve did not serve {url}")
        started = time.perf_counter() - began
        for i in range(edits):
            time.sleep(1.0)  # let the previous rebuild settle, as between two saves
            token = f"edit-{i:03d}-{pages}"
            edited.write_text(original.replace("checkout,search", f"checkout,{token}"))
            saved = time.perf_counter()
            seen = _wait(url, token, 120)
            if seen is None:
                failures += 1
            else:
                latencies.append(time.perf_counter() - saved)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return PreviewRow(tool, pages, started, latencies, failures)
