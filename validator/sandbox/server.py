"""The sandbox as a real HTTP/1.1 server on loopback, for end-to-end tests of the CLI and for users.

Stdlib only: `ThreadingHTTPServer` with keep-alive, one daemon thread per connection. Faults that concern
the connection are enacted on the socket: a drop closes it without a byte, a truncation announces the full
Content-Length and closes after half the body, a slow body trickles.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from validator.sandbox.app import Sandbox
from validator.sandbox.wire import FaultAction, SandboxRequest, SandboxResponse

SLOW_BODY_CHUNKS = 8
IDLE_CONNECTION_TIMEOUT_S = 30.0


MAX_REQUEST_BODY = 1024 * 1024  # the validator sends bodies of a few bytes


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading server sized so a burst of concurrent connects is queued, never reset."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "IntercomSandbox/1"
    timeout = IDLE_CONNECTION_TIMEOUT_S  # idle keep-alive connections end instead of pinning a thread
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; with Nagle's algorithm and the client's delayed ACK
        # each keep-alive answer would stall ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Print nothing: the sandbox keeps its own (masked) request log."""

    def _serve(self) -> None:
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit() or int(declared) > MAX_REQUEST_BODY:
            # What a front end does with a length it cannot use: refuse, and never read or allocate it.
            self.send_error(400, "Bad Content-Length")
            self.close_connection = True
            return
        length = int(declared)
        body = self.rfile.read(length) if length else b""
        request = SandboxRequest.build(self.command, self.path, self.headers.items(), body)
        try:
            response = self.server.sandbox.handle(request)
        except Exception:  # a sandbox bug must look like a server error, not a hung client
            payload = {"type": "error.list", "request_id": None, "errors": [{"code": "server_error"}]}
            response = SandboxResponse(
                500, (("Content-Type", "application/json"),), json.dumps(payload).encode()
            )
        if response.delay_s:
            time.sleep(response.delay_s)
        if response.fault is FaultAction.DROP:
            self._drop()
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.fault is FaultAction.TRUNCATE:
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self._drop()
        elif response.fault is FaultAction.SLOW_BODY:
            size = max(1, -(-len(response.body) // SLOW_BODY_CHUNKS))
            pieces = [response.body[i : i + size] for i in range(0, len(response.body), size)]
            for piece in pieces:
                time.sleep(response.slow_body_s / max(1, len(pieces)))
                self.wfile.write(piece)
                self.wfile.flush()
        else:
            self.wfile.write(response.body)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):  # already gone: the client gave up first
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


@dataclass(frozen=True)
class ServedSandbox:
    """A sandbox being served on loopback."""

    base_url: str
    sandbox: Sandbox


@contextmanager
def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `sandbox` on `host:port` (0: an ephemeral port) in a background thread; yield the base URL.

    On exit the server stops accepting, and the listening socket is closed.
    """
    server = SandboxHTTPServer((host, port), sandbox)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
