"""Cluster providers, picked by name through a lazy table, with the command line's flags.

`PROVIDERS` maps each name to the module and class that build its clusters;
a module is imported only when its provider is picked, so `kdocs test
--provider kubeconfig` never loads kwok's process wiring, and the providers
(which import `_common`, the steps every provider shares) never import this
table back: no import cycle.
"""

from __future__ import annotations

import importlib
from typing import Any

from kdocs.cluster.base import Provider
from kdocs.config import Settings
from kdocs.errors import UnusableInputError

# name -> (module, class): the one list of providers, in the order help texts show them.
_TABLE = {
    "kwok": ("kdocs.cluster.providers.kwok", "KwokProvider"),
    "kind": ("kdocs.cluster.providers.kind", "KindProvider"),
    "kubeconfig": ("kdocs.cluster.providers.kubeconfig", "KubeconfigProvider"),
}
PROVIDERS = tuple(_TABLE)


def get_provider(name: str, settings: Settings, **options: Any) -> Provider:
    """The provider called `name`, built with provider-specific `options` (unknown ones fail)."""
    if name not in _TABLE:
        raise UnusableInputError(
            None, f"unknown cluster provider {name!r} (choose one of {', '.join(PROVIDERS)})"
        )
    module, attribute = _TABLE[name]
    factory = getattr(importlib.import_module(module), attribute)
    try:
        return factory(settings, **options)
    except TypeError as error:
        raise UnusableInputError(None, f"provider {name}: {error}") from None


KUBECONFIG_ONLY = ("kubeconfig", "context", "allow_context")  # flags of the kubeconfig provider


def add_kubeconfig_flags(parser: Any) -> None:
    """The flags `provider_from_flags` reads, declared once for `cluster` and `test`."""
    parser.add_argument("--kubeconfig", help="kubeconfig file (kubeconfig provider)")
    parser.add_argument("--context", help="kubeconfig context (kubeconfig provider)")
    parser.add_argument(
        "--allow-context",
        metavar="NAME",
        help="use context NAME although it does not look like a throwaway test cluster",
    )


def provider_from_flags(name: str, settings: Settings, flags: Any, **options: Any) -> Provider:
    """`get_provider` with the CLI's --kubeconfig/--context/--allow-context, refused elsewhere."""
    for option in KUBECONFIG_ONLY:
        value = getattr(flags, option, None)
        if value is None:
            continue
        if name != "kubeconfig":
            flag = "--" + option.replace("_", "-")
            raise UnusableInputError(None, f"{flag} only applies to --provider kubeconfig")
        options[option] = value
    return get_provider(name, settings, **options)
