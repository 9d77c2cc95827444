"""Which clusters kdocs speaks to without kubectl, with their kubeconfig's credentials.

The kubeconfig is read as kubectl reads it, for the forms kdocs can honour
exactly (client certificates as files or data, a CA, a token or token file,
insecure-skip-tls-verify); anything else (exec plugins, auth providers, basic
auth, impersonation, a proxy for a remote server) gives no client, and kubectl
does all the work, as before `kdocs.cluster.direct` existed.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from kdocs.cluster.base import Cluster, server_is_loopback
from kdocs.cluster.direct import DirectClient

_USER_KEYS = {"client-certificate", "client-certificate-data", "client-key", "client-key-data",
              "token", "tokenFile"}  # fmt: skip
_CLUSTER_KEYS = {"server", "certificate-authority", "certificate-authority-data",
                 "insecure-skip-tls-verify", "extensions"}  # fmt: skip
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


_clients: dict[tuple[Path, str, int, int], DirectClient | None] = {}
_clients_lock = threading.Lock()


def client_for(cluster: Cluster) -> DirectClient | None:
    """The client of `cluster`, None when kubectl must do its work. Made again when its
    kubeconfig changes (a cluster brought up again gets new ports and certificates)."""
    try:
        stat = cluster.kubeconfig.stat()
    except OSError:
        return None
    key = (cluster.kubeconfig, cluster.context, stat.st_mtime_ns, stat.st_size)
    with _clients_lock:
        if key not in _clients:
            for older in [k for k in _clients if k[:2] == key[:2]]:
                del _clients[older]  # its connections go with it
            _clients[key] = _make_client(cluster.kubeconfig, cluster.context)
        return _clients[key]


def _make_client(kubeconfig: Path, context_name: str) -> DirectClient | None:
    try:
        config = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
        context = _entry(config, "contexts", context_name)
        server = _entry(config, "clusters", str(context.get("cluster")))
        user = _entry(config, "users", str(context.get("user")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, LookupError, TypeError):
        return None
    if set(user) - _USER_KEYS or set(server) - _CLUSTER_KEYS or not server.get("server"):
        return None
    split = urlsplit(str(server["server"]))
    if split.scheme not in ("https", "http") or not split.hostname:
        return None
    if not server_is_loopback(str(server["server"])) and any(
        os.environ.get(name) for name in _PROXY_VARIABLES
    ):
        return None  # kubectl would go through that proxy (Go never proxies loopback)
    try:
        tls = _tls(kubeconfig.parent, server, user) if split.scheme == "https" else None
        headers = _token(kubeconfig.parent, user)
    except (OSError, ssl.SSLError, ValueError):
        return None
    namespace = str(context.get("namespace") or "default")
    return DirectClient(str(server["server"]), tls, headers, namespace)


def _entry(config: Any, section: str, name: str) -> dict[str, Any]:
    for entry in config[section]:
        if entry["name"] == name:
            inner = entry[section[:-1]] or {}
            if not isinstance(inner, dict):
                raise TypeError(section)
            return inner
    raise LookupError(name)


def _tls(base: Path, server: dict[str, Any], user: dict[str, Any]) -> ssl.SSLContext:
    ca_data, ca_file = server.get("certificate-authority-data"), server.get("certificate-authority")
    insecure = bool(server.get("insecure-skip-tls-verify"))
    if insecure and (ca_data or ca_file):
        raise ValueError("kubectl refuses a CA with insecure-skip-tls-verify")
    context = ssl.create_default_context(
        cafile=str(base / ca_file) if ca_file and not ca_data else None,
        cadata=base64.b64decode(ca_data).decode("ascii") if ca_data else None,
    )
    if insecure:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    certificate = _pem(base, user, "client-certificate")
    key = _pem(base, user, "client-key")
    if certificate and key:
        # The SSL context takes files only: a private folder, removed once they are loaded.
        with tempfile.TemporaryDirectory(prefix="kdocs-tls-") as folder:
            paths = []
            for name, data in (("cert.pem", certificate), ("key.pem", key)):
                path = Path(folder) / name
                path.write_bytes(data)
                paths.append(path)
            context.load_cert_chain(paths[0], paths[1])
    elif certificate or key:
        raise ValueError("a client certificate without its key")
    return context


def _pem(base: Path, user: dict[str, Any], field: str) -> bytes | None:
    if user.get(f"{field}-data"):
        return base64.b64decode(user[f"{field}-data"])
    if user.get(field):
        return (base / user[field]).read_bytes()
    return None


def _token(base: Path, user: dict[str, Any]) -> dict[str, str]:
    token = user.get("token") or (
        (base / user["tokenFile"]).read_text(encoding="utf-8").strip() if user.get("tokenFile")
        else None
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"} if token else {}
