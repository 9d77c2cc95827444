"""The `format`s the API server enforces, enforced offline the same way.

JSON Schema validators treat most of Kubernetes' formats as annotations, so a
placeholder such as ``REPLACE_WITH_BASE64_CERT`` in a Secret's ``data`` passes
every offline validator and fails on the cluster. What the schemas say and what
we do, one decision each (the differential test checks ``byte`` against the
API server):

* ``byte`` (Secret ``data``, ConfigMap ``binaryData``, webhook ``caBundle``, CSR
  ``request``): the server decodes it into bytes with Go's standard base64
  (padding required, ``\\r``/``\\n`` skipped); the same rule here.
* ``date-time`` (metav1.Time: ``creationTimestamp``, status times): the server's
  RFC 3339 parse and JSON Schema's ``date-time`` differ at the edges, and these
  fields are written by the server, not by guides: not checked (never a false alarm).
* ``int32``/``int64``/``double`` apply to numbers, which JSON Schema formats never
  see; int64 is the reader's own bound (`kdocs.resource.scalars`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")


def is_base64(text: str) -> bool:
    """What Go's base64.StdEncoding (encoding/json for []byte) decodes."""
    return _BASE64.match(text.replace("\r", "").replace("\n", "")) is not None


FORMATS: dict[str, Callable[[str], bool]] = {
    "byte": is_base64,
    "date-time": lambda _text: True,  # see the module docstring: not enforced on purpose
}


def format_reason(format_name: str, shown: str) -> str:
    """One line saying why a value fails its format and what to write instead."""
    if format_name == "byte":
        return (
            f"{shown} is not base64 (format: byte), which the API server refuses: "
            "encode it (base64 -w0), or for a Secret put the plain text under stringData"
        )
    return f"{shown} is not a valid {format_name}"
