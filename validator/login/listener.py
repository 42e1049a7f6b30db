"""The loopback listener of `login`: the browser's redirect target, served in a background thread.

It listens on 127.0.0.1 (ephemeral port, RFC 8252 §7.3). A callback whose state is not ours is refused with
an error page while the listener keeps waiting for the real one; the request line is never logged (it holds
the authorization code).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from validator.errors import ExitCode
from validator.login.protocol import (
    Callback,
    LoginError,
    code_from,
    state_matches,
)

CALLBACK_PATH = "/callback"
LOOPBACK = "127.0.0.1"
# Callbacks with a missing or wrong state are refused and the login keeps waiting for the real one; this many
# means something other than the user's browser is calling the listener, and the login stops (LOGIN_STATE).
MAX_REFUSED_CALLBACKS = 20

_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>connector-validator</title></head>'
    "<body><p>{message}</p><p>You can close this tab and return to the terminal.</p></body></html>"
)
_PAGE_MESSAGES = {
    None: "connector-validator received the authorization.",
    ExitCode.LOGIN_STATE: "This authorization does not belong to the running login; it was ignored.",
    ExitCode.LOGIN_DENIED: "The app was not authorized.",
    ExitCode.LOGIN_UNEXPECTED: "The authorization could not be used.",
}


class _ListenerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, expected_state: str) -> None:
        self.expected_state = expected_state
        self.received = threading.Event()  # set by the callback that ends the wait
        self.callback: Callback | None = None
        self.refused = 0  # callbacks whose state was missing or not ours
        self.lock = threading.Lock()
        super().__init__((LOOPBACK, 0), _CallbackHandler)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _ListenerServer
    timeout = 10  # a browser's idle pre-connection must not pin a thread

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: the request line holds the authorization code."""

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        if split.path != CALLBACK_PATH:
            self._answer(404, "Not found.")
            return
        callback = Callback.from_query(split.query)
        if not state_matches(callback, self.server.expected_state):
            # A stale tab or a forged request: refused, and the real callback may still come.
            with self.server.lock:
                self.server.refused += 1
                give_up = self.server.refused >= MAX_REFUSED_CALLBACKS and self.server.callback is None
                if give_up:
                    self.server.callback = callback
            self._answer(400, _PAGE_MESSAGES[ExitCode.LOGIN_STATE])
            if give_up:
                self.server.received.set()
            return
        with self.server.lock:
            already = self.server.callback is not None
            if not already:
                self.server.callback = callback
        if already:
            self._answer(409, "This login has already received its answer.")
            return
        try:
            code_from(callback, self.server.expected_state)
            outcome: ExitCode | None = None
        except LoginError as error:
            outcome = error.exit_code
        self._answer(200 if outcome is None else 400, _PAGE_MESSAGES[outcome])
        self.server.received.set()  # after the page is sent, so the browser always gets it

    def _answer(self, status: int, message: str) -> None:
        body = _PAGE.format(message=message).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class CallbackListener:
    """The redirect target: `http://127.0.0.1:<port>/callback`, served in a background thread."""

    def __init__(self, server: _ListenerServer) -> None:
        self._server = server

    @property
    def redirect_uri(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}{CALLBACK_PATH}"

    @property
    def refused(self) -> int:
        """How many callbacks were refused because their state was missing or not ours."""
        with self._server.lock:
            return self._server.refused

    def wait(self, timeout: float) -> Callback | None:
        """The callback that carries our state, or None after `timeout` seconds.

        Callbacks with a missing or wrong state do not end the wait, except the MAX_REFUSED_CALLBACKS-th,
        which is returned (and refused by `code_from`).
        """
        if not self._server.received.wait(timeout):
            return None
        return self._server.callback


@contextmanager
def listen(expected_state: str) -> Iterator[CallbackListener]:
    server = _ListenerServer(expected_state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield CallbackListener(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
