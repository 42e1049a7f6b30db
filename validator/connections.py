"""The connections of a run: one httpx client for every token and host, one TLS context, pooled connections.

A run of many connector files keeps hundreds of requests in flight, and HTTP/1.1 needs a connection for
each. httpcore's connection pool (1.0.x) rescans every connection, and for every idle one counts the idle
ones again, each time a request is added or its answer closed (encode/httpcore#1035, #929, unmerged): with
256 connections that was 10 ms of CPU per request, most of a run's time. `ShardedTransport` keeps the
connections in shards of `SHARD_CONNECTIONS` (httpx's own transport and pool each), hands every request a
free slot in the shard it used last, so a connection just freed is the one reused, and so each scan covers
a few connections instead of hundreds.

Proxies from the environment serve https only (through a CONNECT tunnel the proxy never sees the token);
plain http, which `check_api_url` accepts for loopback hosts only, always goes straight to the host. When
the environment names an https proxy, httpx's own transports (with its proxy mounts) carry the requests.
"""

from __future__ import annotations

import functools
import math
from collections.abc import AsyncIterator, Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING
from urllib.request import getproxies

import httpx

from validator import __version__

if TYPE_CHECKING:
    import ssl

SHARD_CONNECTIONS = 1
DEFAULT_CONNECTIONS = 16


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of the process: loading the CA bundle takes tens of milliseconds,
    which 200 clients would otherwise spend 200 times. It reads SSL_CERT_FILE / SSL_CERT_DIR as httpx does."""
    return httpx.create_ssl_context()


def https_proxy_configured() -> bool:
    """Whether httpx would send https requests through a proxy the environment names (it reads the same
    `urllib.request.getproxies()`)."""
    proxies = getproxies()
    return bool(proxies.get("https") or proxies.get("all"))


def http_client(
    *, transport: httpx.AsyncBaseTransport | None = None, max_connections: int = DEFAULT_CONNECTIONS
) -> httpx.AsyncClient:
    """The httpx client of a run, for every token and host: one TLS context, one set of connections.

    Headers that name a token or a version are not set here but on each request (`IntercomClient`). A run's
    requests in flight are bounded before they reach the client, so it keeps as many connections open as
    may be in use at once, to reuse them rather than close and reopen them. Redirects are never followed.
    Cookies are never kept: a cookie set in the answer to one token's request must not travel with another
    token's. `transport` replaces the network (tests: the in-process sandbox).
    """
    mounts: dict[str, httpx.AsyncBaseTransport | None] | None = None
    if transport is None:
        # Plain http always goes straight to the host: a proxy would see the token in clear.
        mounts = {"http://": ShardedTransport(max_connections)}
        if not https_proxy_configured():
            transport = ShardedTransport(max_connections)
        # else: httpx's own transport and the proxy mounts it makes from the environment carry https
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.AsyncClient(
        headers={
            "Accept": "application/json",
            # Uncompressed answers only: a compressed body can inflate far past the size cap in one read.
            "Accept-Encoding": "identity",
            "User-Agent": f"connector-validator/{__version__}",
        },
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        follow_redirects=False,  # a redirect must never carry the token anywhere
        transport=transport,
        mounts=mounts,
        trust_env=True,  # https proxies (a CONNECT tunnel) and SSL_CERT_FILE; never for http, see above
        verify=tls_context(),
        limits=limits,
    )


class ShardedTransport(httpx.AsyncBaseTransport):
    """httpx's transport, `SHARD_CONNECTIONS` connections to a shard; see the module's docstring.

    Every shard has `SHARD_CONNECTIONS` slots; a request takes the slot freed last (LIFO), so requests keep
    to the shards whose connections are open and idle, and gives it back when its answer is closed. More
    requests than slots at once (the caller's bound is meant to prevent it) wait in the pool of the shard
    next in turn, as they would in one pool.
    """

    def __init__(
        self,
        connections: int,
        *,
        per_shard: int = SHARD_CONNECTIONS,
        make: Callable[[httpx.Limits], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        make = make or _direct_transport
        count = max(1, math.ceil(connections / per_shard))
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._shards = [make(limits) for _ in range(count)]
        # Slots as a stack of shard numbers: shard 0's on top, so a small run keeps to one shard.
        self._free = [shard for shard in reversed(range(count)) for _ in range(per_shard)]
        self._next = 0

    @property
    def shards(self) -> int:
        return len(self._shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._free:
            shard, slot = self._free.pop(), True
        else:
            shard, slot = self._next, False
            self._next = (self._next + 1) % len(self._shards)
        try:
            response = await self._shards[shard].handle_async_request(request)
        except BaseException:
            if slot:
                self._free.append(shard)
            raise
        if slot:
            if response.is_closed:  # read already (a body given whole): nothing holds the connection
                self._free.append(shard)
            else:
                response.stream = _Releasing(response.stream, lambda: self._free.append(shard))
        return response

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


def _direct_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(verify=tls_context(), limits=limits, trust_env=False)


class _Releasing(httpx.AsyncByteStream):
    """A response body that gives its slot back once, when it is closed."""

    def __init__(self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, release: Callable[[], None]):
        assert isinstance(stream, httpx.AsyncByteStream)
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
