"""The resident validator: `python -m kdocs.server.daemon ROOT SOCKET`, started by the
client (`kdocs.server.client.start_server`), one per checkout, code and user.

It answers one request at a time (others wait in the listen backlog: a one-file
request is a few ms) by running the ordinary command line, `kdocs.cli.run_in_process`,
in the client's working folder and environment, with stdout/stderr captured as bytes.

It never answers with old code or settings: each request first re-reads a signature
(size and mtime_ns of kdocs' own .py files, of pyproject.toml, of the import folders);
if it changed, it replies "stale" and exits, and the client runs in-process and starts
a fresh server. Compiled CRDs follow their files exactly: the CRD files a request uses
are checksummed (size and CRC-32, the CRD cache's key) and any change drops every
compiled engine (`kdocs.schema.api.release_engines`) before the request runs.

It exits when idle for ``KDOCS_SERVER_IDLE`` seconds (default 600), on `kdocs server
stop`, on SIGTERM, and when its project folder is gone. SIGINT is ignored: it has its
own session, and Ctrl-C belongs to the client.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import signal
import socket
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kdocs.server.address import PROTOCOL, code_dir, interpreter

DEFAULT_IDLE = 600.0
CHECK_EVERY = 5.0  # seconds between checks that the project is still there, when idle
READ_TIMEOUT = 5.0  # a client that does not finish sending its request by then is dropped


def idle_seconds() -> float:
    try:
        return max(0.1, float(os.environ.get("KDOCS_SERVER_IDLE", DEFAULT_IDLE)))
    except ValueError:
        return DEFAULT_IDLE


def code_signature(root: str) -> list[Any]:
    """What the answers depend on besides the request: kdocs' code, the project's
    settings, and the installed packages."""
    entries: list[Any] = []
    for folder, _dirs, files in os.walk(code_dir()):
        for name in sorted(files):
            if name.endswith(".py"):
                entries.append(_stat(os.path.join(folder, name)))
    entries.append(_stat(os.path.join(root, "pyproject.toml")))
    # Installed packages: an install or removal changes their folder (the project root,
    # on sys.path for an editable install, changes with every file made there: not it).
    entries.extend(_stat(p) for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    return entries


def _stat(path: str) -> tuple[str, int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (path, -1, -1)
    return (path, info.st_size, info.st_mtime_ns)


def crd_signature(folders: list[Path]) -> list[Any]:
    """Each CRD file's path, size and CRC-32: an edit within the file system's timestamp
    granularity still counts (the same key as the CRD cache, `kdocs.schema.crd`)."""
    from kdocs.resource.crds import crd_files

    entries: list[Any] = []
    for path in crd_files([f for f in folders if f.is_dir()]):
        try:
            data = path.read_bytes()
        except OSError:
            data = b""
        entries.append((str(path.resolve()), len(data), zlib.crc32(data)))
    return entries


class Server:
    """One project's resident validator; `serve` returns when it should exit."""

    def __init__(self, root: str, path: str) -> None:
        self.root = root
        self.path = path
        self.code = code_dir()
        self.signature = code_signature(root)
        self.crds: dict[tuple[str, ...], list[Any]] = {}
        self.served = 0
        self.started = time.time()
        self.last = time.monotonic()
        self.idle = idle_seconds()

    def warm(self) -> None:
        """Import what a validate needs now, not in the first request."""
        import kdocs.cli
        import kdocs.commands.validate
        import kdocs.schema.api  # noqa: F401
        from kdocs.output import get_output

        for name in ("text", "json", "junit", "github"):
            with contextlib.suppress(Exception):
                get_output(name)
        kdocs.cli.build_parser("validate")

    def serve(self, listener: socket.socket) -> None:
        listener.settimeout(min(self.idle, CHECK_EVERY))
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if time.monotonic() - self.last >= self.idle or not os.path.isdir(self.root):
                    return
                continue
            with conn:
                try:
                    keep_going = self.answer(conn)
                except Exception as error:  # noqa: BLE001 - one bad request must not end it
                    print(f"kdocs server: bad request: {error!r}", file=sys.stderr, flush=True)
                    keep_going = True
            self.last = time.monotonic()
            if not keep_going:
                return

    def answer(self, conn: socket.socket) -> bool:
        """Read one request, send one reply; False when the server must exit now."""
        conn.settimeout(READ_TIMEOUT)
        try:
            fields = _read_all(conn).decode("utf-8", "surrogateescape").split("\0")
        except OSError:
            return True
        command = fields[1] if len(fields) > 1 and fields[0] == PROTOCOL else ""
        if fields[2:5] != [self.root, self.code, interpreter()]:
            _reply(conn, "refused", 2)  # another checkout's or another kdocs' request
            return True
        if command == "status":
            text = f"{os.getpid()} {self.served} {time.time() - self.started:.0f}\n"
            _reply(conn, "ok", 0, text.encode())
            return True
        if command == "stop":
            _reply(conn, "ok", 0)
            return False
        if command != "validate":
            _reply(conn, "refused", 2)
            return True
        if code_signature(self.root) != self.signature:
            _unlink(self.path)  # before replying: the client may start the next one at once
            _reply(conn, "stale", 2)
            return False
        exit_code, out, err = self.run(fields[5:])
        if exit_code is None:
            _reply(conn, "failed", 2)  # an unexpected error: the client runs it in-process
        else:
            self.served += 1
            _reply(conn, "ok", exit_code, out, err)
        return True

    def run(self, fields: list[str]) -> tuple[int | None, bytes, bytes]:
        from kdocs.cli import run_in_process

        try:
            cwd, out_encoding, out_errors, err_encoding, err_errors, count = fields[:6]
            env = dict(f.split("=", 1) for f in fields[6 : 6 + int(count)])
            argv = fields[6 + int(count) :]
            out = io.TextIOWrapper(io.BytesIO(), out_encoding, out_errors, write_through=True)
            err = io.TextIOWrapper(io.BytesIO(), err_encoding, err_errors, write_through=True)
            with _client_environment(env), _working_folder(cwd):
                self.fresh_crds(argv)
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        exit_code = run_in_process(argv)
                    except SystemExit as done:  # argparse: --help, or a bad argument
                        exit_code = _exit_status(done, err)
        except Exception as error:  # noqa: BLE001 - logged; the client runs it in-process
            print(f"kdocs server: request failed: {error!r}", file=sys.stderr, flush=True)
            return None, b"", b""
        out.flush()
        err.flush()
        return exit_code, out.buffer.getvalue(), err.buffer.getvalue()  # type: ignore[attr-defined]

    def fresh_crds(self, argv: list[str]) -> None:
        """Drop compiled engines if a CRD file this request uses changed since compiled."""
        from kdocs.config import load_settings
        from kdocs.errors import KdocsError
        from kdocs.schema.api import release_engines

        try:
            folders = list(load_settings().crd_dirs)
        except KdocsError:
            folders = []
        folders += [Path(a.split("=", 1)[1] if "=" in a else b) for a, b in
                    zip(argv, [*argv[1:], ""], strict=True) if a.startswith("--crd")]  # fmt: skip
        key = tuple(str(f.resolve()) for f in folders)
        signature = crd_signature(folders)
        if self.crds.get(key, signature) != signature:
            release_engines()
            self.crds.clear()
        self.crds[key] = signature


def _exit_status(done: SystemExit, err: io.TextIOWrapper) -> int:
    """The exit status Python gives `sys.exit(code)` (a message goes to stderr)."""
    if done.code is None:
        return 0
    if isinstance(done.code, int):
        return done.code
    print(done.code, file=err)
    return 1


@contextlib.contextmanager
def _client_environment(env: dict[str, str]) -> Iterator[None]:
    """The variables kdocs reads, as the client has them (absent ones removed)."""
    from kdocs.server.client import ENV_NAMES, ENV_PREFIX

    for name in [n for n in os.environ if n.startswith(ENV_PREFIX) or n in ENV_NAMES]:
        if name not in env:
            del os.environ[name]
    os.environ.update(env)
    yield


@contextlib.contextmanager
def _working_folder(cwd: str) -> Iterator[None]:
    os.chdir(cwd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.chdir("/")


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _reply(conn: socket.socket, status: str, code: int, out: bytes = b"", err: bytes = b"") -> None:
    with contextlib.suppress(OSError):  # the client gave up (Ctrl-C): nothing to do
        conn.sendall(f"{status} {code} {len(out)} {len(err)}\n".encode() + out + err)


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def main(argv: list[str] | None = None) -> int:
    """Take the socket's lock (another live server: exit), bind, warm up, serve."""
    root, path = (sys.argv[1:] if argv is None else argv)[:2]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    lock_path = path[: -len(".sock")] + ".lock"
    lock = _take_lock(lock_path)
    if lock is None:
        return 0  # another server for this checkout is up (or starting)
    server = Server(root, path)
    _unlink(path)  # a socket left by a server that was killed
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old_umask = os.umask(0o077)
        try:
            listener.bind(path)
        finally:
            os.umask(old_umask)
        listener.listen(16)
        print(f"kdocs server {os.getpid()} for {root} on {path}", file=sys.stderr, flush=True)
        server.warm()
        server.serve(listener)
    finally:
        listener.close()
        _unlink(path)  # ours: the lock says so
        _unlink(lock_path)  # still held: a server starting now locks a new file
        lock.close()
    return 0


def _take_lock(path: str) -> Any:
    """The open, exclusively locked lock file, or None if another server holds it. The
    file locked must still be the one at `path` (one that exited may just have removed it)."""
    lock = open(path, "a")  # noqa: SIM115 - held while serving
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino:
            return lock
    except OSError:
        pass
    lock.close()
    return None


if __name__ == "__main__":
    sys.exit(main())
