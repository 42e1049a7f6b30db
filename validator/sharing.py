"""Identical requests of one run, sent once and shared by every connector that needs them.

Connector files of a monorepo often share one token: one connector per service, all checked with the team's
token against one workspace. Their checks are the same requests (`GET /me`, then the same probes), whose
answers cannot differ within a run, so each is sent once and every client that asks for it gets that one
`Answer`. A request is identical when its *identity* (a digest of the token, the API base URL and the
`Intercom-Version`) and its method, path, query and body are. The token itself is never part of a key: its
SHA-256 digest stands for it, so the memo holds no secret.

An answer is kept for as long as more than one client of its identity is still in the run (they may ask
for it later, once their own `/me` came back); for an identity with one client only a request in flight is
shared (a probe two permissions send alike), and its answer is let go when it arrives, so memory does not
grow with the number of connectors. Clients `join` when they are made and `leave` when they are done: a
caller that makes all its clients before checking any of them (as `validate` does) shares everything.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Identity = tuple[bytes, str, str]  # (SHA-256 of the token, base URL, Intercom-Version)
RequestKey = tuple[str, str, tuple[tuple[str, str], ...], str]  # (method, path, query, body as JSON)


def identity_of(token: str, base_url: str, api_version: str) -> Identity:
    """The key part that says who asks where: the token only as its digest."""
    return hashlib.sha256(token.encode("utf-8")).digest(), base_url, api_version


def request_key(
    method: str, path: str, query: Mapping[str, str] | None, body: Mapping[str, Any] | None
) -> RequestKey:
    """The key part that says what is asked; query and body in a canonical order."""
    shown_query = tuple(sorted(query.items())) if query else ()
    shown_body = json.dumps(body, sort_keys=True, separators=(",", ":")) if body is not None else ""
    return method.upper(), path, shown_query, shown_body


class SharedRequests(Generic[T]):
    """A per-run memo of answers (and of requests still in flight), keyed by identity and request."""

    def __init__(self) -> None:
        self._clients: dict[Identity, int] = {}
        self._answers: dict[Identity, dict[RequestKey, asyncio.Future[T]]] = {}

    def join(self, identity: Identity) -> None:
        """A client of `identity` is in the run: answers of its identity may be asked for again."""
        self._clients[identity] = self._clients.get(identity, 0) + 1

    def leave(self, identity: Identity) -> None:
        """A client of `identity` is done; with the last one its answers are let go."""
        left = self._clients.get(identity, 0) - 1
        if left > 0:
            self._clients[identity] = left
            return
        self._clients.pop(identity, None)
        self._answers.pop(identity, None)

    def clients(self, identity: Identity) -> int:
        return self._clients.get(identity, 0)

    async def answer(self, identity: Identity, key: RequestKey, send: Callable[[], Awaitable[T]]) -> T:
        """The answer to `key`: the one already there or on its way, else `send()`'s, shared from then on.

        The request runs as a task of its own, so one client giving up waiting (cancelled) does not cancel
        it for the others.
        """
        answers = self._answers.setdefault(identity, {})
        pending = answers.get(key)
        if pending is None:
            pending = asyncio.ensure_future(send())
            answers[key] = pending
            pending.add_done_callback(lambda done: self._settled(identity, key, done))
        return await asyncio.shield(pending)

    def _settled(self, identity: Identity, key: RequestKey, done: asyncio.Future[T]) -> None:
        """Keep an answer only while another client of its identity may still ask for it."""
        answers = self._answers.get(identity)
        if answers is None or answers.get(key) is not done:
            return
        if self._clients.get(identity, 0) <= 1 or done.cancelled() or done.exception() is not None:
            del answers[key]
            if not answers:
                del self._answers[identity]
