"""Pick a cluster provider by name, with the command line's flags.

Apart from kdocs/cluster/providers.py (the steps every provider shares, which
each provider module imports) so that choosing a provider, which imports the
provider modules, never makes an import cycle with them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kdocs.cluster.base import Provider
from kdocs.cluster.providers import PROVIDERS
from kdocs.config import Settings
from kdocs.errors import UnusableInputError


def get_provider(name: str, settings: Settings, **options: Any) -> Provider:
    """The provider called `name`, built with provider-specific `options` (unknown ones fail)."""
    if name == "kwok":
        from kdocs.cluster.kwok import KwokProvider

        factory: Callable[..., Provider] = KwokProvider
    elif name == "kind":
        from kdocs.cluster.kind import KindProvider

        factory = KindProvider
    elif name == "kubeconfig":
        from kdocs.cluster.kubeconfig import KubeconfigProvider

        factory = KubeconfigProvider
    else:
        raise UnusableInputError(
            None, f"unknown cluster provider {name!r} (choose one of {', '.join(PROVIDERS)})"
        )
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
