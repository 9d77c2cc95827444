"""The resident validator's life: isolation between checkouts, never stale, falls back
in-process when it is dead or stuck, exits when idle or told to. Real processes and
sockets throughout; the fixture checks no server is left."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from kdocs.server.address import code_dir, interpreter
from kdocs.server.client import decode_reply, encode_request, exchange
from tests.server.conftest import WIDGET_CRD, server_pids
from tests.signals import default_signals, reaped


def same(a, b) -> bool:
    return (a.code, a.stdout, a.stderr) == (b.code, b.stdout, b.stderr)


def test_two_checkouts_two_servers_neither_answers_the_other(make) -> None:
    first, second = make("first", '["1.30"]'), make("second", '["1.37"]')
    one, two = first.started(), second.started()
    assert one["pid"] != two["pid"] and first.socket() != second.socket()
    assert b"[k8s 1.30]" in first.served("valid.yaml").stdout
    assert b"[k8s 1.37]" in second.served("valid.yaml").stdout
    # A request naming the other checkout is refused, never answered.
    foreign = encode_request("validate", str(second.root), code_dir(), str(second.root),
                             ["validate", "valid.yaml"])  # fmt: skip
    status, *_ = decode_reply(exchange(first.socket(), foreign, 10))
    assert status == "refused"
    assert first.info()["served"] == one["served"] + 1
    assert interpreter() in encode_request("status", "r", "c", "/", []).decode()


def test_a_crd_edit_changes_the_next_verdict_as_in_a_fresh_process(make) -> None:
    project = make()
    assert project.served("widget.yaml").code == 0
    # size becomes a string: the same file is now invalid, for the server as for a process
    project.write("schemas/crds/widget.yaml", WIDGET_CRD.replace('"integer"', '"string"'))
    served, alone = project.served("widget.yaml"), project.kdocs("validate", "widget.yaml")
    assert served.code == 1 and same(served, alone)
    # an edit that keeps the size (integer -> boolean, same length as "string"+1) too
    project.write("schemas/crds/widget.yaml", WIDGET_CRD.replace('"integer"', '"number" '))
    served, alone = project.served("widget.yaml"), project.kdocs("validate", "widget.yaml")
    assert served.code == 0 and same(served, alone)


def test_a_settings_edit_ends_the_server_and_the_call_runs_fresh(make) -> None:
    project = make()
    old = project.started()["pid"]
    project.write("pyproject.toml", '[tool.kdocs]\nkubernetes-versions = ["1.31"]\n')
    run = project.kdocs("validate", "--server", "valid.yaml")
    assert b"[k8s 1.31]" in run.stdout and same(run, project.kdocs("validate", "valid.yaml"))
    deadline = time.monotonic() + 10
    while old in server_pids(project.root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert old not in server_pids(project.root)
    assert project.started()["pid"] != old  # the stale reply started a fresh one
    assert b"[k8s 1.31]" in project.served("valid.yaml").stdout


def test_a_killed_server_falls_back_in_process_and_is_replaced(make) -> None:
    project = make()
    old = project.started()
    path = project.socket()
    os.kill(old["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while old["pid"] in server_pids(project.root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Path(path).exists()  # the socket file a kill -9 leaves
    run = project.kdocs("validate", "--server", "-k", "1.33", "invalid.yaml")
    assert same(run, project.kdocs("validate", "-k", "1.33", "invalid.yaml")) and run.code == 1
    assert project.started()["pid"] != old["pid"]


def test_an_idle_server_exits_and_removes_its_socket(make) -> None:
    project = make()
    project.env["KDOCS_SERVER_IDLE"] = "1"
    pid, path = project.started()["pid"], project.socket()
    deadline = time.monotonic() + 15
    while pid in server_pids(project.root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid not in server_pids(project.root) and not Path(path).exists()


def test_stop_and_status(make) -> None:
    project = make()
    pid = project.started()["pid"]
    os.kill(pid, signal.SIGINT)  # a terminal's Ctrl-C is the client's, not the server's
    assert project.served("-k", "1.33", "valid.yaml").code == 0
    status = project.kdocs("server", "status")
    assert status.code == 0 and f"pid {pid}".encode() in status.stdout
    stopped = project.kdocs("server", "stop")
    assert stopped.code == 0 and f"stopped (pid {pid})".encode() in stopped.stdout
    assert pid not in server_pids(project.root)
    assert project.kdocs("server", "status").code == 1
    assert project.kdocs("server", "stop").stdout == b"kdocs server: not running\n"


def test_a_stuck_server_times_out_in_process_and_ctrl_c_is_130(make) -> None:
    """A socket that accepts and never answers: the client gives up after its timeout and
    runs in-process; interrupted meanwhile, it says so and exits 130."""
    project = make()
    path = project.started() and project.socket()
    project.kdocs("server", "stop")
    stuck = socket.socket(socket.AF_UNIX)
    stuck.bind(path)
    stuck.listen(4)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: [held.append(stuck.accept()[0]) for _ in range(2)],
                     daemon=True).start()  # fmt: skip
    try:
        args = ["validate", "--server", "-k", "1.33", "invalid.yaml"]
        run = project.kdocs(*args, env={"KDOCS_SERVER_TIMEOUT": "1"})
        assert same(run, project.kdocs("validate", "-k", "1.33", "invalid.yaml"))
        client = subprocess.Popen([sys.executable, "-m", "kdocs.cli", *args], cwd=project.root,
                                  env=project.env, stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                                  preexec_fn=default_signals)  # fmt: skip
        with reaped(client):
            deadline = time.monotonic() + 20
            while len(held) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(held) == 2, "the client never connected"
            client.send_signal(signal.SIGINT)
            out, err = client.communicate(timeout=20)
        assert (client.returncode, out, err) == (130, b"", b"kdocs: interrupted\n")
    finally:
        stuck.close()
        for conn in held:
            conn.close()
        os.unlink(path)


def test_two_clients_at_once_both_get_their_answer(make) -> None:
    project = make()
    before = project.started()["served"]
    args = [sys.executable, "-m", "kdocs.cli", "validate", "--server", "-k", "1.33"]
    clients = [subprocess.Popen([*args, name], cwd=project.root, env=project.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for name in ("valid.yaml", "invalid.yaml") * 3]  # fmt: skip
    results = [(c.wait(timeout=60), c.stdout.read(), c.stderr.read()) for c in clients]
    for name, (code, out, err) in zip(("valid.yaml", "invalid.yaml") * 3, results, strict=True):
        alone = project.kdocs("validate", "-k", "1.33", name)
        assert (code, out, err) == (alone.code, alone.stdout, alone.stderr)
    assert project.info()["served"] == before + 6


def test_new_files_in_the_project_do_not_end_the_server(make) -> None:
    """Only code, settings and installed packages make it stale, not a new snippet."""
    project = make()
    pid = project.started()["pid"]
    project.write("new.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh}\n")
    (project.root / "valid.yaml").unlink()
    run = project.served("-k", "1.33", "new.yaml")
    assert run.code == 0 and project.info()["pid"] == pid


def test_a_request_the_server_cannot_run_is_run_by_the_client_and_the_server_stays(make):
    """An error inside the server is never a traceback for the client: the reply says
    "failed" (the client then runs the command in-process) and the server goes on."""
    project = make()
    before = project.started()
    request = encode_request("validate", str(project.root), code_dir(), str(project.root),
                             ["validate", "valid.yaml"])  # fmt: skip
    request = request.replace(b"\0utf-8\0", b"\0no-such-codec\0", 1)
    status, _code, out, err = decode_reply(exchange(project.socket(), request, 30))
    assert (status, out, err) == ("failed", b"", b"")
    assert project.info()["pid"] == before["pid"]
    assert project.served("-k", "1.33", "valid.yaml").code == 0
    assert "request failed: LookupError" in project.log()
