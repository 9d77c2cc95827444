"""The subcommands' argument parsing and exit codes, outside the stages they wire.

`kdocs/cli.py` imports one of these lazily, only for the subcommand that runs.
"""
