"""The request log: every request a sandbox handled, as received, with every secret masked.

Tests read it to see what the validator sent; the suite fails on any entry flagged `mutation` (a write
that would have changed data, see tests/conftest.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from validator.sandbox.wire import SandboxRequest

MASK = "***"
# Fields masked by name wherever they appear in a body, whatever their value.
SECRET_FIELDS = frozenset({"client_secret", "code", "token", "access_token", "password"})


@dataclass(frozen=True)
class LogEntry:
    """One request as received, with every secret masked; `mutation` marks a write that would succeed."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    body: Any
    status: int
    mutation: bool
    route: str | None
    fault: str | None = None


class RequestLog:
    """Thread-safe, append-only record of every request a sandbox handled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []

    def append(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    @property
    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    @property
    def mutations(self) -> list[LogEntry]:
        """Requests that would have changed workspace data. Tests fail on any (see tests/conftest.py)."""
        return [entry for entry in self.entries if entry.mutation]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries)


def masked_entry(
    request: SandboxRequest,
    *,
    status: int,
    mutation: bool,
    route: str | None,
    fault: str | None,
    secrets: Sequence[str],
) -> LogEntry:
    """The log entry for `request`: credentials headers masked, every known secret replaced by `MASK`."""

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                if secret in value:
                    value = value.replace(secret, MASK)
            return value
        if isinstance(value, dict):
            return {k: MASK if k in SECRET_FIELDS else scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [scrub(v) for v in value]
        return value

    headers = {}
    for name, value in request.headers.items():
        if name == "authorization":
            scheme = value.partition(" ")[0]
            headers[name] = f"{scheme} {MASK}" if scheme.lower() == "bearer" else MASK
        elif name in ("cookie", "proxy-authorization"):
            headers[name] = MASK
        else:
            headers[name] = scrub(value)
    return LogEntry(
        method=request.method,
        path=request.path,
        query={k: tuple(scrub(list(v))) for k, v in request.query.items()},
        headers=headers,
        body=scrub(_readable_body(request.body)),
        status=status,
        mutation=mutation,
        route=route,
        fault=fault,
    )


def _readable_body(raw: bytes) -> Any:
    """The body as JSON, else as a form, else as text; None when empty."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        form = parse_qs(text, keep_blank_values=True)
        return {k: v[0] for k, v in form.items()} if form and "=" in text else text
