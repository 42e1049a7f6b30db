"""The sandbox as an httpx transport: in-process, no sockets, for fast unit tests.

Faults are enacted the way a real connection would surface them to httpx, so code under test sees the
same exceptions it would see over the network: a dropped connection raises `httpx.RemoteProtocolError`
before any response, a truncated body raises it while the body is read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx

from validator.sandbox.app import Sandbox
from validator.sandbox.wire import FaultAction, SandboxRequest, SandboxResponse

SLOW_BODY_CHUNKS = 8
_DROPPED = "Server disconnected without sending a response."
_TRUNCATED = "peer closed connection without sending complete message body: incomplete chunked read"


def _to_sandbox(request: httpx.Request, body: bytes) -> SandboxRequest:
    target = request.url.raw_path.decode("ascii")
    return SandboxRequest.build(request.method, target, request.headers.multi_items(), body)


def _chunks(body: bytes, count: int) -> list[bytes]:
    size = max(1, -(-len(body) // count))
    return [body[i : i + size] for i in range(0, len(body), size)]


class _SyncBody(httpx.SyncByteStream):
    def __init__(
        self, response: SandboxResponse, request: httpx.Request, sleep: Callable[[float], None]
    ) -> None:
        self._response, self._request, self._sleep = response, request, sleep

    def __iter__(self) -> Iterator[bytes]:
        body = self._response.body
        if self._response.fault is FaultAction.TRUNCATE:
            yield body[: len(body) // 2]
            raise httpx.RemoteProtocolError(_TRUNCATED, request=self._request)
        if self._response.fault is FaultAction.SLOW_BODY:
            chunks = _chunks(body, SLOW_BODY_CHUNKS)
            for chunk in chunks:
                self._sleep(self._response.slow_body_s / len(chunks))
                yield chunk
            return
        yield body


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, response: SandboxResponse, request: httpx.Request) -> None:
        self._response, self._request = response, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body = self._response.body
        if self._response.fault is FaultAction.TRUNCATE:
            yield body[: len(body) // 2]
            raise httpx.RemoteProtocolError(_TRUNCATED, request=self._request)
        if self._response.fault is FaultAction.SLOW_BODY:
            chunks = _chunks(body, SLOW_BODY_CHUNKS)
            for chunk in chunks:
                await asyncio.sleep(self._response.slow_body_s / len(chunks))
                yield chunk
            return
        yield body


def _headers(response: SandboxResponse) -> list[tuple[str, str]]:
    # The full length even when truncating: the mismatch is what makes the body "short".
    return [*response.headers, ("Content-Length", str(len(response.body)))]


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serve `sandbox` to an `httpx.Client` or `httpx.AsyncClient` without a network.

    `sleep` is injectable so tests of latency handling can run without waiting (sync clients only;
    async clients always use `asyncio.sleep`).
    """

    def __init__(self, sandbox: Sandbox, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sandbox = sandbox
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.sandbox.handle(_to_sandbox(request, request.read()))
        if response.delay_s:
            self._sleep(response.delay_s)
        if response.fault is FaultAction.DROP:
            raise httpx.RemoteProtocolError(_DROPPED, request=request)
        return httpx.Response(
            response.status,
            headers=_headers(response),
            stream=_SyncBody(response, request, self._sleep),
            request=request,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = self.sandbox.handle(_to_sandbox(request, await request.aread()))
        if response.delay_s:
            await asyncio.sleep(response.delay_s)
        if response.fault is FaultAction.DROP:
            raise httpx.RemoteProtocolError(_DROPPED, request=request)
        return httpx.Response(
            response.status,
            headers=_headers(response),
            stream=_AsyncBody(response, request),
            request=request,
        )
