"""The kdocs MkDocs plugin: a plain `mkdocs build` or `mkdocs serve` gives what `kdocs build` gives.

`plugin.py` is the plugin (its events in the order MkDocs calls them),
`config.py` its typed options, `render.py` the page rendering that reports a
content error as one `page:line` line instead of mkdocs-macros' exit(), and
`errors.py` the PluginError that carries kdocs' errors with their exit codes.
"""
