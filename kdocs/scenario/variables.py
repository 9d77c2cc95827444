"""The scenario variables, listed once: the runner substitutes them, the lint checks them.

* `${namespace}`: the unit's namespace.
* `${node:NAME}`: the real name of the topology node NAME (label kdocs/node).
* `${node:KEY=VALUE}`: the one node labelled so when the step runs (a node
  Karpenter launched has no fixed name).
* `${pod:KEY=VALUE}`: the one pod of the unit labelled so when the step runs (a
  pod a controller made has a generated name; an Event names the pod it is about).

A leaf: `kdocs.cluster.session` and `kdocs.scenario.lint` both import it, so a
variable added here is substituted and linted alike.
"""

from __future__ import annotations

import re

NAMESPACE = "namespace"
NODE = "node"
POD = "pod"
# Every `${...}` in a string: the lint decides which ones look meant for kdocs.
ANY = re.compile(r"\$\{([^}]*)\}")
# The ones kdocs substitutes: group "kind" is node or pod (None for namespace), "ref" the rest.
KNOWN = re.compile(r"\$\{(?:namespace|(?P<kind>node|pod):(?P<ref>[^}]+))\}")
USAGE = "${namespace}, ${node:NAME}, ${node:KEY=VALUE}, ${pod:KEY=VALUE}"
KINDS = (NAMESPACE, NODE, POD)


def split(body: str) -> tuple[str, str | None]:
    """`node:a=b` -> ("node", "a=b"); `namespace` -> ("namespace", None)."""
    kind, colon, ref = body.partition(":")
    return kind, (ref if colon else None)


def is_selector(ref: str) -> bool:
    """A label selector (`KEY=VALUE`, `!KEY`, several joined by commas), not a plain name."""
    return "=" in ref or "!" in ref or "," in ref
