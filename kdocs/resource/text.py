"""Bytes to text, or a one-line error at the first byte that is not UTF-8.

Every file kdocs reads as text (manifests, pages, pyproject.toml) is UTF-8 by its
format's rule; one decoder gives each the same error, at the line and column a
reader's editor shows, instead of a UnicodeDecodeError traceback.
"""

from __future__ import annotations

from kdocs.errors import Location, UnusableInputError


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
