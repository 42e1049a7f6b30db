"""Open a YAML file in the real yaml-language-server, headless over stdio, and print its diagnostics.

    npm i --prefix /tmp/clients yaml-language-server
    python scripts/yaml_language_server_check.py connector.yaml [--server PATH]

The way an editor sees the file: the server resolves the file's `# yaml-language-server: $schema=` line
itself (offline here: the schema store is off, nothing else is configured). Prints the last diagnostics
published within a few seconds of opening the file; exit 0 when there are none, 1 when there are some, 2
when the server published nothing. Used for docs/clients.md; the test suite does not need Node.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

DEFAULT_SERVER = "/tmp/clients/node_modules/yaml-language-server/bin/yaml-language-server"
SETTINGS = {"yaml": {"validate": True, "schemaStore": {"enable": False}, "format": {"enable": False}}}
QUIET_SECONDS = 8.0  # after opening the file: the schema is loaded, checked and published by then
START_SECONDS = 60.0


def send(stream: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps(message).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def read_messages(stream: IO[bytes], inbox: queue.Queue[dict[str, Any]]) -> None:
    while True:
        headers: dict[str, str] = {}
        while True:
            line = stream.readline()
            if not line:
                return
            if not line.strip():
                break
            name, _, value = line.decode("ascii").partition(":")
            headers[name.strip().lower()] = value.strip()
        inbox.put(json.loads(stream.read(int(headers["content-length"]))))


def diagnostics(path: Path, server: str) -> list[dict[str, Any]] | None:
    uri = path.as_uri()
    process = subprocess.Popen(
        ["node", server, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdin is not None and process.stdout is not None
    inbox: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=read_messages, args=(process.stdout, inbox), daemon=True).start()
    capabilities = {"workspace": {"configuration": True}}
    params = {"processId": os.getpid(), "rootUri": path.parent.as_uri(), "capabilities": capabilities}
    send(process.stdin, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
    published: list[dict[str, Any]] | None = None
    opened: float | None = None
    deadline = time.monotonic() + START_SECONDS
    try:
        while time.monotonic() < (deadline if opened is None else opened + QUIET_SECONDS):
            try:
                message = inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            if message.get("id") == 1 and "result" in message:
                send(process.stdin, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
                change = {"settings": SETTINGS}
                send(
                    process.stdin,
                    {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": change},
                )
                document = {"uri": uri, "languageId": "yaml", "version": 1, "text": path.read_text("utf-8")}
                opening = {"textDocument": document}
                send(process.stdin, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": opening})
                opened = time.monotonic()
            elif message.get("method") == "workspace/configuration":
                answer = [SETTINGS["yaml"]] * len(message["params"]["items"])
                send(process.stdin, {"jsonrpc": "2.0", "id": message["id"], "result": answer})
            elif "id" in message and "method" in message:  # any other request of the server's: no answer
                send(process.stdin, {"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif (
                message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri
            ):
                published = message["params"]["diagnostics"]
    finally:
        process.kill()
        process.wait(timeout=10)
    return published


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--server", default=DEFAULT_SERVER, help="yaml-language-server's bin script")
    arguments = parser.parse_args()
    path = arguments.file.resolve()
    found = diagnostics(path, arguments.server)
    if found is None:
        print("no diagnostics were published")
        return 2
    print(f"{len(found)} diagnostic(s) for {path.name}")
    for item in found:
        start = item["range"]["start"]
        print(f"  {start['line'] + 1}:{start['character'] + 1}: {item.get('message')} [{item.get('source')}]")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
