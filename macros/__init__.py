"""mkdocs-macros module: the `snippet()` macro, the generated lists and the site variables.

Nothing else: checking, injecting, reading back and publishing snippets, and
reporting errors as one `page:line` line, belong to the kdocs MkDocs plugin
(kdocs/mkdocs/), enabled next to this one in mkdocs.yml.
"""

from __future__ import annotations

from kdocs.mkdocs.plugin import kdocs_plugin
from kdocs.mkdocs.render import KDOCS_SNIPPET
from kdocs.site import guides
from kdocs.versions import version_span


def define_env(env) -> None:
    kdocs = kdocs_plugin(env.conf)
    versions = kdocs.settings.kubernetes_versions
    env.variables["kubernetes_versions"] = list(versions)
    env.variables["kubernetes_versions_label"] = version_span(versions, dash="–")

    @env.macro
    def snippet(path, section=None, title=None, hl_lines=None):
        """Inject snippets/PATH (or one section of it) as a tested, copyable code block."""
        return kdocs.snippet(env.page, path, section=section, title=title, hl_lines=hl_lines)

    # Literal calls of this macro may be made without Jinja (kdocs/mkdocs/render.py).
    setattr(snippet, KDOCS_SNIPPET, True)

    @env.macro
    def guide_list():
        """Every guide, linked with its description (generated from front matter)."""
        return guides.guide_list(kdocs.index, env.page.file.src_uri)

    @env.macro
    def guide_table():
        """Every guide by category: title, description, tags, last change."""
        return guides.guide_table(kdocs.index, env.page.file.src_uri)

    @env.macro
    def tag_index():
        """Every tag with the guides that carry it; tag links on pages point here."""
        return guides.tag_index(kdocs.index, env.page.file.src_uri)

    @env.macro
    def proof_page():
        """Every scenario: its claim, steps in words, negative controls and verdict."""
        from kdocs.site import proof  # the scenario stage's modules: only for proof pages

        page = env.page
        return kdocs.macro(page, lambda: proof.proof_page(kdocs.status(), page.file.src_uri))

    @env.macro
    def tested_page():
        """Every page, its snippets and sections, the scenarios covering each, their state."""
        from kdocs.site import proof

        page = env.page
        return kdocs.macro(page, lambda: proof.tested_page(kdocs.status(), page.file.src_uri))

    @env.macro
    def proven_note(folder):
        """For a guide: what the scenarios under snippets/FOLDER/ proved, from the files."""
        from kdocs.site import proof

        page = env.page
        return kdocs.macro(
            page, lambda: proof.proven_note(kdocs.status(), folder, page.file.src_uri)
        )
