"""Options of the kdocs plugin in mkdocs.yml, typed and validated by MkDocs.

    plugins:
      - kdocs:
          verify: true            # read back every injected block (default)
          publish_snippets: true  # copy the snippet files pages link to (default)

A wrong type (`verify: maybe`) or an unknown key stops MkDocs with its own
one-line configuration error, before any page is read.
"""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c


class KdocsPluginConfig(base.Config):
    # Off only to measure what the read-back costs (benchmarks/); a site built with it off
    # has no proof that the pages show the files' bytes.
    verify = c.Type(bool, default=True)
    # The "Download" link under each block points at site/snippets/<path>.
    publish_snippets = c.Type(bool, default=True)
