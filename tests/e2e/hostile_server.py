"""Hostile stand-ins for Intercom, built on the standard library alone (never on validator/sandbox).

`HostileServer` is a threaded HTTP server on 127.0.0.1 at an ephemeral port whose every answer is chosen by
a function of the request: fixed bodies per route, text derived from the `Authorization` token (echoed
whole, in slices, case-changed), or no answer at all (the connection is accepted, the request read, and the
handler then waits until the server is closed). Every request received is recorded.

The stand-in for a proxy that must never be contacted is `loopback.ProxyRecorder`, shared with the unit
tests.

Every wait here is bounded, so that a test can never hang on a server it started.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HANG_LIMIT = 120.0  # seconds a "never answer" handler waits at most, should a test forget to close


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query
    query: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    raw_target: str  # the request target as sent (absolute-form when sent to a proxy)

    @property
    def token(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[len("Bearer ") :] if value.startswith("Bearer ") else None


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialised unless bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None  # the status line's reason phrase (hostile text can go here too)
    raw: bytes | None = None  # sent as is instead of a well-formed answer (then the connection is closed)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


HANG = None  # a behaviour returning this never answers
Behaviour = Callable[[Request], "Reply | None"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024  # 200 connectors may connect at once
    allow_reuse_address = True


class HostileServer:
    """Serve `behaviour` on 127.0.0.1; use as a context manager (`with HostileServer(b) as server:`)."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[Request] = []
        self.hanging = 0  # requests currently held without an answer
        self._lock = threading.Lock()
        self._closing = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if 0 < length <= 1 << 20 else b""
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parts.query,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                    raw_target=self.path,
                )
                with owner._lock:
                    owner.requests.append(request)
                reply = owner.behaviour(request)
                if reply is None:
                    with owner._lock:
                        owner.hanging += 1
                    owner._closing.wait(HANG_LIMIT)
                    self.close_connection = True
                    return
                if reply.raw is not None:
                    self.wfile.write(reply.raw)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                payload = reply.encoded()
                reason = (
                    reply.reason if reply.reason is not None else self.responses.get(reply.status, ("",))[0]
                )
                headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
                headers["Content-Length"] = str(len(payload))
                head = f"HTTP/1.1 {reply.status} {reason}\r\n" + "".join(
                    f"{name}: {value}\r\n" for name, value in headers.items()
                )
                # One write: headers and body in separate segments would meet Nagle and delayed ACKs (40 ms).
                self.wfile.write(head.encode("latin-1") + b"\r\n" + payload)
                self.wfile.flush()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.host}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def seen(self) -> list[str]:
        with self._lock:
            return [f"{request.method} {request.path}" for request in self.requests]


# --- Intercom-shaped bodies -------------------------------------------------------------------------------

WORKSPACE_ID = "abc12xyz"
WORKSPACE_NAME = "Acme Support"


def me_body(id_code: str = WORKSPACE_ID, name: str = WORKSPACE_NAME, region: str = "US") -> dict[str, Any]:
    """`GET /me` as API-NOTES §2 documents it."""
    return {
        "type": "admin",
        "id": "991267459",
        "email": "admin1@email.com",
        "name": "Ciaran1 Lee",
        "email_verified": True,
        "has_inbox_seat": True,
        "app": {
            "type": "app",
            "id_code": id_code,
            "name": name,
            "created_at": 1734537243,
            "secure": False,
            "identity_verification": False,
            "timezone": "America/Los_Angeles",
            "region": region,
        },
    }


def error_body(code: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "error.list",
        "request_id": request_id,
        "errors": [{"code": code, "message": message}],
    }


_PAGES = {"type": "pages", "page": 1, "per_page": 1, "total_pages": 1}

# Every read probe of validator/catalog/intercom.yaml: (method, path) → (permission, body type, the key that
# holds its items or None, a well-shaped 200 body modelled on the OpenAPI examples).
READ_ROUTES: dict[tuple[str, str], tuple[str, str, str | None, dict[str, Any]]] = {
    ("GET", "/contacts"): (
        "people:read",
        "list",
        "data",
        {
            "type": "list",
            "data": [
                {
                    "type": "contact",
                    "id": "6762f0d51bb69f9f2193bb7f",
                    "workspace_id": WORKSPACE_ID,
                    "role": "user",
                    "email": "joe@example.com",
                }
            ],
            "total_count": 1,
            "pages": _PAGES,
        },
    ),
    ("POST", "/companies/list"): (
        "companies:read",
        "list",
        "data",
        {
            "type": "list",
            "data": [
                {
                    "type": "company",
                    "id": "6762f0e61bb69f9f2193bb8a",
                    "company_id": "remote_companies_scroll_2",
                    "app_id": WORKSPACE_ID,
                    "name": "IntercomQATest1",
                }
            ],
            "total_count": 1,
            "pages": _PAGES,
        },
    ),
    ("GET", "/conversations"): (
        "conversations:read",
        "conversation.list",
        "conversations",
        {
            "type": "conversation.list",
            "conversations": [{"type": "conversation", "id": "471", "created_at": 1734537460}],
            "total_count": 1,
            "pages": _PAGES,
        },
    ),
    ("GET", "/admins"): (
        "teams_and_teammates:read",
        "admin.list",
        "admins",
        {
            "type": "admin.list",
            "admins": [
                {"type": "admin", "id": "991267459", "name": "Ciaran1 Lee", "email": "admin1@email.com"}
            ],
        },
    ),
    ("GET", "/teams"): (
        "teams_and_teammates:read",
        "team.list",
        "teams",
        {"type": "team.list", "teams": [{"type": "team", "id": "814865", "name": "Example Team"}]},
    ),
    ("GET", "/tags"): (
        "tags:read",
        "list",
        "data",
        {"type": "list", "data": [{"type": "tag", "id": "102", "name": "Manual tag 1"}]},
    ),
    ("GET", "/counts"): (
        "workspace_counts:read",
        "count.hash",
        None,
        {
            "type": "count.hash",
            "company": {"count": 55},
            "user": {"count": 54944},
            "lead": {"count": 7},
            "tag": {"count": 1},
            "segment": {"count": 9},
        },
    ),
    ("GET", "/data_attributes"): (
        "data_attributes:read",
        "list",
        "data",
        {
            "type": "list",
            "data": [
                {
                    "type": "data_attribute",
                    "name": "name",
                    "full_name": "name",
                    "label": "Company name",
                    "data_type": "string",
                    "model": "contact",
                }
            ],
        },
    ),
}

READ_PERMISSIONS = sorted({permission for permission, *_ in READ_ROUTES.values()})


def good_reads(request: Request) -> Reply | None:
    """/me and every read as Intercom would answer a token with every read permission; None elsewhere."""
    if (request.method, request.path) == ("GET", "/me"):
        return Reply(200, me_body(), {"X-Request-Id": "req-me-1"})
    route = READ_ROUTES.get((request.method, request.path))
    if route is not None:
        return Reply(200, route[3], {"X-Request-Id": "req-read-1"})
    return None
