"""Loopback servers the tests write themselves, so that what they check does not rest on the project's own
sandbox: a TCP listener on 127.0.0.1 at an ephemeral port that serves each connection on its own thread,
and a stand-in for a CI proxy built on it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class LoopbackServer:
    """Accepts connections on 127.0.0.1 until closed; `handle` serves each one on a thread of its own.

    Use as a context manager, or call `close()`; every wait is bounded, so a test can never hang on it.
    """

    def __init__(self, backlog: int = 128) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=backlog)
        self.listener.settimeout(0.05)
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def handle(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            self.handle(connection)


class ProxyRecorder(LoopbackServer):
    """A CI proxy that reaches nothing: records what each connection sends (up to the end of its request
    head, 2 s at most) before answering 502, so that a test can tell what a proxy would have seen."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        super().__init__()

    def __enter__(self) -> ProxyRecorder:
        return self

    def handle(self, connection: socket.socket) -> None:
        data = b""
        connection.settimeout(0.2)
        deadline = time.monotonic() + 2
        while b"\r\n\r\n" not in data and time.monotonic() < deadline and not self.stopping:
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                if data:
                    break
                continue
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        with self._lock:
            self.received.append(data)  # before the answer: whoever got the 502 finds it recorded
        with contextlib.suppress(OSError):
            connection.sendall(BAD_GATEWAY)
