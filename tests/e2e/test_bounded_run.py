"""A run against an API host that stops answering ends in bounded time, whatever the number of connectors.

The host here is not the sandbox: a loopback listener that accepts every connection and never answers.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import CANARY, EXAMPLE, clean_env

pytestmark = pytest.mark.e2e


@contextmanager
def silent_host() -> Iterator[tuple[str, list[socket.socket]]]:
    """`http://127.0.0.1:PORT` of a host that accepts connections, reads nothing and never answers, and the
    connections it accepted."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    listener.settimeout(0.05)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", held
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


def connector_files(directory: Path, count: int) -> list[Path]:
    text = EXAMPLE.read_text(encoding="utf-8")
    paths = []
    for number in range(count):
        path = directory / f"c{number:03}.yaml"
        path.write_text(
            text.replace("name: helpdesk-migration", f"name: connector-{number}"), encoding="utf-8"
        )
        paths.append(path)
    return paths


def test_connectors_against_a_host_that_never_answers_end_after_about_one_timeout(tmp_path: Path) -> None:
    files = connector_files(tmp_path, 48)
    with silent_host() as (url, connections):
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "validator", "validate", *map(str, files), "--format", "json",
             "--timeout", "2", "--retry-budget", "2"],
            env=clean_env({"INTERCOM_ACCESS_TOKEN": CANARY, "INTERCOM_API_URL": url}),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        sent = len(connections)
    # Without the breaker each /me is tried three times, 16 at a time: 144 connections, 48 * 3 / 16 timeouts
    # of 2 s one after the other (18 s). With it: the first 16, one timeout, then nothing more.
    assert sent <= 32, f"{sent} connections to a host that had stopped answering"
    assert elapsed < 15, f"the run took {elapsed:.1f} s"
    assert run.returncode == 4 and "Traceback" not in run.stderr
    assert CANARY not in run.stdout + run.stderr
    report = json.loads(run.stdout)
    host = url.removeprefix("http://")
    assert len(report["connectors"]) == len(files)
    for connector in report["connectors"]:
        assert connector["token"]["status"] == "unknown"
        assert host in connector["token"]["message"]
        assert connector["permissions"] and {item["status"] for item in connector["permissions"]} == {
            "inconclusive"
        }
