"""What goes in and out of the sandbox: the request as it sees it, the answer it builds, the response.

`Answer` is what every step of the sandbox returns (an endpoint, a refusal, an injected fault); `Sandbox`
turns it into the `SandboxResponse` that an adapter (the httpx transport, the loopback server) delivers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

JsonObject = dict[str, Any]
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class SandboxRequest:
    """An HTTP request as the sandbox sees it; header names are lower-case."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds the bearer token
    body: bytes = b""

    @classmethod
    def build(
        cls, method: str, target: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b""
    ) -> SandboxRequest:
        """Build from a request target (`/contacts?per_page=1`, or a full URL) and raw headers."""
        split = urlsplit(target)
        query = {k: tuple(v) for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        return cls(
            method=method.upper(),
            path=split.path or "/",
            query=query,
            headers={name.lower(): value for name, value in headers},
            body=body,
        )

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


class FaultAction(StrEnum):
    """Faults an adapter must enact itself, because they concern the connection rather than the answer."""

    DROP = "drop"  # close the connection without answering
    TRUNCATE = "truncate"  # announce the full Content-Length, send part of the body, close
    SLOW_BODY = "slow_body"  # send the body in small pieces over `slow_body_s`


@dataclass(frozen=True)
class SandboxResponse:
    """The answer, plus how to deliver it: wait `delay_s` first, then enact `fault` if set."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    delay_s: float = 0.0
    fault: FaultAction | None = None
    slow_body_s: float = 0.0

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    """An answer before delivery: a JSON body (or `raw` bytes of `content_type`), and whether it mutates."""

    status: int
    body: JsonObject | None
    mutation: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = JSON_CONTENT_TYPE
    raw: bytes | None = None

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


def error(status: int, code: str, message: str | None, **extra: Any) -> Answer:
    """Intercom's error body: `{"type": "error.list", "request_id": ..., "errors": [{code, message}]}`."""
    entry: JsonObject = {"code": code, "message": message, **extra}
    return Answer(status, {"type": "error.list", "request_id": str(uuid.uuid4()), "errors": [entry]})


def route_miss() -> Answer:
    """What Intercom answers to a route or method it does not serve: 404 [DOC, 2.17 "HTTP responses"], in
    the bare form several routes also document for a missing object (API-NOTES §3) [INF]."""
    return error(404, "not_found", "Resource Not Found")


def json_object(body: bytes) -> JsonObject:
    """A JSON object body, or {} for anything else: Intercom reads absent fields the same way [INF]."""
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}
