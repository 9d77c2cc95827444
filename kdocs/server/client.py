"""The client side of `kdocs validate --server`: what `kdocs.cli.main` tries before it
imports argparse or any stage. Only os, _socket, _blake2, signal and sys are imported here
(socket would bring enum: ~9 ms); anything unusual returns None and the caller runs
the command in-process, which gives the same output by definition.

The request carries what the output depends on besides the files: argv, working
folder, the stdout/stderr encodings, terminal columns (argparse's help width) and
the environment kdocs reads (KDOCS_*, GITHUB_ACTIONS, HOME, ...). The reply is the
exit code and the exact bytes for stdout and stderr.
"""

from __future__ import annotations

import os
import sys

from kdocs.server.address import PROTOCOL, code_dir, interpreter, project_root, socket_path

SERVER_FLAG = "--server"
CONNECT_TIMEOUT = 1.0  # seconds; a server that does not accept by then is not used
# A reply slower than this falls back in-process (a server stuck on something).
REPLY_TIMEOUT = float(os.environ.get("KDOCS_SERVER_TIMEOUT", "60") or 60)
# Variables kdocs (or what it runs) reads; the server takes the client's values.
ENV_NAMES = ("GITHUB_ACTIONS", "HOME", "NO_COLOR", "FORCE_COLOR", "CI", "TERM", "COLUMNS")
ENV_PREFIX = "KDOCS_"


def wants_server(argv: list[str]) -> bool:
    """`kdocs validate ... --server ...`, the flag before any `--`."""
    if argv[:1] != ["validate"]:
        return False
    options = argv[: argv.index("--")] if "--" in argv else argv
    return SERVER_FLAG in options


def run_by_server(argv: list[str]) -> int | None:
    """The exit code of `argv` as the server ran it (its output written here), or None
    when the caller must run it in-process (no server yet, stale, unsafe, too slow)."""
    try:
        cwd = os.getcwd()
    except OSError:  # the working folder is gone: the in-process run says so its way
        return None
    root = project_root(cwd)
    code = code_dir()
    path = socket_path(root, code)
    if path is None:
        path = socket_path(root, code, create=True)
        if path is not None:
            start_server(root, path)
        return None
    request = encode_request("validate", root, code, cwd, argv)
    try:
        reply = exchange(path, request, REPLY_TIMEOUT)
    except (FileNotFoundError, ConnectionRefusedError):  # none yet, or killed: start one
        start_server(root, path)
        return None
    except OSError:  # timeout, permission: run in-process, leave the server alone
        return None
    status, exit_code, out, err = decode_reply(reply)
    if status == "stale":  # it exited: code or settings changed; the next one is fresh
        start_server(root, path)
        return None
    if status != "ok":
        return None
    _write(sys.stdout, out)
    _write(sys.stderr, err)
    return exit_code


def _write(stream: object, data: bytes) -> None:
    if data:
        buffer = stream.buffer  # type: ignore[attr-defined]
        stream.flush()  # type: ignore[attr-defined]
        buffer.write(data)
        buffer.flush()


def terminal_columns() -> int:
    """The help text's width: COLUMNS, else the terminal's, else 80 (as
    `shutil.get_terminal_size` gives it, without importing shutil)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def client_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX) or k in ENV_NAMES}
    env["COLUMNS"] = str(terminal_columns())
    return env


def encode_request(command: str, root: str, code: str, cwd: str, argv: list[str]) -> bytes:
    """NUL-separated fields (none of them can hold a NUL: they are paths, argv, env)."""
    out, err = sys.stdout, sys.stderr
    env = client_env()
    fields = [PROTOCOL, command, root, code, interpreter(), cwd,
              getattr(out, "encoding", None) or "utf-8", getattr(out, "errors", None) or "strict",
              getattr(err, "encoding", None) or "utf-8",
              getattr(err, "errors", None) or "backslashreplace",
              str(len(env)), *(f"{k}={v}" for k, v in env.items()), *argv]  # fmt: skip
    return "\0".join(fields).encode("utf-8", "surrogateescape")


def decode_reply(reply: bytes) -> tuple[str, int, bytes, bytes]:
    """(status, exit code, stdout bytes, stderr bytes); ("broken", ...) if malformed."""
    header, _, body = reply.partition(b"\n")
    parts = header.decode("ascii", "replace").split()
    try:
        status, exit_code = parts[0], int(parts[1])
        out_size, err_size = int(parts[2]), int(parts[3])
    except (IndexError, ValueError):
        return "broken", 2, b"", b""
    if len(body) != out_size + err_size:
        return "broken", 2, b"", b""
    return status, exit_code, body[:out_size], body[out_size:]


def exchange(path: str, request: bytes, timeout: float) -> bytes:
    """Send one request, read the whole reply (the server closes after it)."""
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        sock.connect(path)
        sock.settimeout(timeout)
        sock.sendall(request)
        sock.shutdown(_socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        sock.close()


def start_server(root: str, path: str) -> None:
    """Start the server for `root` in the background: its own session (Ctrl-C in this
    terminal does not reach it), stdin/stdout on /dev/null, stderr to a log in the
    cache folder. Two forks, so it is nobody's child. If another server already holds
    this socket's lock, the new one exits at once."""
    home_cache = os.path.join(os.path.expanduser("~"), ".cache", "kdocs")
    cache = os.environ.get("KDOCS_CACHE") or home_cache
    log = os.path.join(cache, "server", os.path.basename(path)[: -len(".sock")] + ".log")
    code_parent = os.path.dirname(code_dir())
    try:
        os.makedirs(os.path.dirname(log), exist_ok=True)
        pid = os.fork()
    except OSError:
        return
    if pid:
        try:  # the first child leaves at once: no zombie stays
            os.waitpid(pid, 0)
        except ChildProcessError:  # (contextlib.suppress: an import for one line)
            return
        return
    try:  # the first child: a new session, then the server as its child, then leave
        os.setsid()
        if os.fork():
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        logged = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(logged, 2)
        os.chdir(root)
        env = dict(os.environ)  # -P: the project's own folder is not on sys.path
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [code_parent, env.get("PYTHONPATH")]))
        os.execve(sys.executable,
                  [sys.executable, "-P", "-m", "kdocs.server.daemon", root, path], env)  # fmt: skip
    finally:
        os._exit(127)


def interrupted_is_130(function: object, argv: list[str]) -> int | None:
    """`function(argv)` with Ctrl-C and SIGTERM ending it as the in-process command
    ends: "kdocs: interrupted" and 130 (a signal this process started with ignored,
    as in a background job, stays ignored)."""
    import _signal as signal  # signal would import enum: ~10 ms

    def on_interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            try:
                previous[signum] = signal.signal(signum, on_interrupt)
            except ValueError:  # not the main thread
                break
    try:
        return function(argv)  # type: ignore[operator]
    except KeyboardInterrupt:
        print("kdocs: interrupted", file=sys.stderr)
        return 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
