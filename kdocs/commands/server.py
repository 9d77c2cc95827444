"""`kdocs server status|stop`: the resident validator of this checkout
(`kdocs validate --server`, `kdocs.server`).

    status   "running" with its pid and requests served (exit 0), or "not running" (1)
    stop     stop it and wait until it has exited (exit 0 either way)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from typing import Any

STOP_WAIT = 5.0  # seconds to wait for the server to exit after asking


def add_server_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "server",
        help="status or stop of this checkout's resident validator (kdocs validate --server)",
        description="The resident validator that answers `kdocs validate --server` for "
        "this checkout: show whether it runs, or stop it.",
    )
    parser.add_argument("action", choices=("status", "stop"))
    parser.set_defaults(run=run_server)
    return parser


def server_info(cwd: str | None = None) -> tuple[str | None, dict[str, int] | None]:
    """(socket path, {"pid", "served", "uptime"} or None when no server answers)."""
    from kdocs.server.address import code_dir, project_root, socket_path
    from kdocs.server.client import decode_reply, encode_request, exchange

    cwd = cwd or os.getcwd()
    root, code = project_root(cwd), code_dir()
    path = socket_path(root, code)
    if path is None:
        return None, None
    try:
        reply = exchange(path, encode_request("status", root, code, cwd, []), 5.0)
    except OSError:
        return path, None
    status, _code, out, _err = decode_reply(reply)
    if status != "ok":
        return path, None
    pid, served, uptime = (int(v) for v in out.split())
    return path, {"pid": pid, "served": served, "uptime": uptime}


def stop_server(cwd: str | None = None) -> int | None:
    """Stop this checkout's server; returns its pid once it has exited, None if none ran."""
    from kdocs.server.address import code_dir, project_root
    from kdocs.server.client import encode_request, exchange

    path, info = server_info(cwd)
    if path is None or info is None:
        return None
    cwd = cwd or os.getcwd()
    root = project_root(cwd)
    with contextlib.suppress(OSError):  # it may close before replying: the wait below says
        exchange(path, encode_request("stop", root, code_dir(), cwd, []), 5.0)
    deadline = time.monotonic() + STOP_WAIT
    while time.monotonic() < deadline and _alive(info["pid"]):
        time.sleep(0.02)
    return info["pid"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (its parent is a test, say) has exited
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def run_server(args: argparse.Namespace, settings: Any = None) -> int:
    if args.action == "stop":
        pid = stop_server()
        print("kdocs server: not running" if pid is None else f"kdocs server: stopped (pid {pid})")
        return 0
    path, info = server_info()
    if info is None:
        print("kdocs server: not running")
        return 1
    print(f"kdocs server: running, pid {info['pid']}, {info['served']} requests served, "
          f"up {info['uptime']} s, socket {path}")  # fmt: skip
    return 0
