"""A file's bytes within the limits, as text, or a one-line error at the first bad byte.

Every file kdocs reads as text (manifests, pages, pyproject.toml) is UTF-8 by its
format's rule; one decoder gives each the same error, at the line and column a
reader's editor shows, instead of a UnicodeDecodeError traceback.

Nothing here parses YAML: a build whose snippets all have kept verdicts reads
them through this module only, and never imports the YAML reader
(`kdocs.resource.manifest`, which uses the same functions).
"""

from __future__ import annotations

import os
from pathlib import Path

from kdocs.errors import Location, UnusableInputError
from kdocs.resource.limits import DEFAULT_LIMITS, Limits


def line_col(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters, as editors count) of byte `offset`."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, col


def decode_utf8(data: bytes, name: str) -> str:
    """`data` as text; exit 2 naming `name`:line:col when it is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, col = line_col(data, err.start)
        raise UnusableInputError(
            Location(name, line, col), f"not UTF-8 text (byte 0x{data[err.start]:02x})"
        ) from None


def read_bytes(path: Path | str, limits: Limits = DEFAULT_LIMITS, name: str | None = None) -> bytes:
    """The bytes of a file, refusing one over `max_bytes` before reading it."""
    name = str(path) if name is None else name
    try:
        size = os.stat(path).st_size
        if size > limits.max_bytes:
            raise UnusableInputError(name, _too_big(size, limits))
        with open(path, "rb") as handle:
            # A buffer of the file's size, not of the limit: reading into 5 MiB costs an
            # mmap, a page fault and a shrink per file (~60 % of reading a small one).
            data = handle.read(size + 1)
            if len(data) > size:  # it grew since the stat: read on, up to the limit
                data += handle.read(limits.max_bytes + 1 - len(data))
            return data
    except OSError as err:
        reason = err.strerror or err.__class__.__name__
        raise UnusableInputError(name, f"cannot read file: {reason}") from None


def _too_big(size: int, limits: Limits) -> str:
    return f"file is {size} bytes, over the {limits.max_bytes}-byte limit (max_bytes)"


def check_text(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse bytes over `max_bytes`, binary (a NUL byte) or not UTF-8: exit 2, with line:col."""
    if len(data) > limits.max_bytes:
        raise UnusableInputError(name, _too_big(len(data), limits))
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = line_col(data, nul)
        raise UnusableInputError(Location(name, line, col), "binary file (NUL byte), not YAML")
    decode_utf8(data, name)
