"""Where the server of one checkout listens, found with os calls only (the client's
fast path must not import pathlib, argparse or kdocs.config).

Isolation: the socket sits in a per-user folder (``$XDG_RUNTIME_DIR/kdocs`` or
``/tmp/kdocs-<uid>``, mode 0700, owned by the user: refused otherwise), named by a
hash of the checkout's real project root and of the kdocs code that answers. The
server also compares both with each request, so even a hash collision only falls
back to an in-process run.
"""

from __future__ import annotations

import os
import stat
import sys

from kdocs.projectroot import find_project_root

SOCKET_PATH_MAX = 107  # AF_UNIX sun_path is 108 bytes with its NUL
PROTOCOL = "kdocs-server-1"


def code_dir() -> str:
    """The real folder of the kdocs package running now."""
    return os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def interpreter() -> str:
    """Which Python and environment runs kdocs (.venv/bin/python and python3 are one)."""
    return f"{os.path.realpath(sys.executable)}|{sys.prefix}"


def project_root(cwd: str) -> str:
    """The project of `cwd` (`kdocs.projectroot`), else the real `cwd` itself: the root
    that `kdocs.config.load_settings` uses."""
    return find_project_root(cwd) or os.path.realpath(cwd)


def _digest(text: str) -> str:
    from _blake2 import blake2b  # hashlib would load OpenSSL: ~3 ms of every call

    return blake2b(text.encode("utf-8", "surrogateescape"), digest_size=10).hexdigest()


def runtime_dir(create: bool = False) -> str | None:
    """This user's private folder for sockets, or None when it is not safe to use."""
    uid = os.getuid()
    candidates = []
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg):
        candidates.append(os.path.join(xdg, "kdocs"))
    candidates.append(os.path.join("/tmp", f"kdocs-{uid}"))
    for folder in candidates:
        if len(folder) + 30 > SOCKET_PATH_MAX:
            continue
        if create:
            try:
                os.mkdir(folder, 0o700)
            except FileExistsError:
                pass
            except OSError:
                continue
        try:
            info = os.lstat(folder)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o077:
            return folder
    return None


def socket_path(root: str, code: str, create: bool = False) -> str | None:
    """The socket of the server for this project root and kdocs code, or None."""
    folder = runtime_dir(create)
    if folder is None:
        return None
    path = os.path.join(folder, _digest(f"{PROTOCOL}\0{root}\0{code}\0{interpreter()}") + ".sock")
    return path if len(path.encode()) <= SOCKET_PATH_MAX else None
